"""Configuration defaults, and the settings that arrive as text read into values at start-up.

The environment (GUTCHECK_ prefix) and test overrides come on top of the defaults; `read_settings`
then turns every setting that may come as text into its value, or stops start-up with a message.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    "ENV": "development",
    "SECRET_KEY": None,
    # Old keys that still decrypt session cookies (the current SECRET_KEY encrypts); a JSON list or
    # "old1,old2". Drop a key once SESSION_ABSOLUTE_HOURS have passed since it was replaced.
    "SECRET_KEY_FALLBACKS": [],
    "QUESTIONS_PATH": str(ROOT / "questions.yaml"),
    "GUIDANCE_DIR": str(ROOT / "templates" / "guidance"),
    # Answers expire after an hour of inactivity (docs/design.md, "Privacy model").
    "SESSION_IDLE_MINUTES": 60,
    # ... and at the latest this long after the session began, however active (a copy of the
    # cookie cannot be revoked without server state, so its life is kept short).
    "SESSION_ABSOLUTE_HOURS": 8,
    "SESSION_COOKIE_NAME": "gutcheck",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    # Forms are small; an upload of a saved answers file or summary PDF is the largest body.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # One saved answers file or summary PDF (ours are under 100 KB); read in memory, never to disk.
    "MAX_UPLOAD_BYTES": 1024 * 1024,
    # A multipart text field, and a whole urlencoded form (in_memory_request.py), at most this big.
    "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    # Multipart parts, and fields of a urlencoded form.
    "MAX_FORM_PARTS": 400,
    "WTF_CSRF_TIME_LIMIT": 3600,
    "WTF_CSRF_SSL_STRICT": True,
    "TRUSTED_HOSTS": None,
    # Where to send a person, by urgency level: "REGION NUMBER" pairs shown as tap-to-call links, and
    # the same-day service named by the "urgent" level. Set them for the country the tool serves.
    "EMERGENCY_NUMBERS": "UK 999, EU 112, US 911",
    "URGENT_CARE": "your GP practice, or 111 in the UK",
    # Renders at once per worker process; a further request gets 503 with Retry-After at once.
    # gunicorn runs gthread workers (gunicorn.conf.py), so a worker takes more requests than it
    # renders PDFs and the limit really answers: 3 workers x 1 render on 2 cores.
    "PDF_MAX_CONCURRENT": 1,
    "PDF_TIMEOUT_SECONDS": 20,
    # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are
    # trusted (werkzeug's ProxyFix). 0: none, the headers are ignored. 1 behind deploy/nginx.
    "PROXY_FIX": 0,
    # Pages made once per process and filled per request (assessment/prerender); False renders every
    # page through its templates, which tests compare with.
    "PRERENDER": True,
}


class ConfigError(Exception):
    """The app cannot start with this configuration; the message says what to do."""


@dataclass(frozen=True, slots=True)
class EmergencyNumber:
    """One emergency number and the region it serves, such as 999 for the UK."""

    region: str
    number: str

    @property
    def tel(self) -> str:
        """Return the tap-to-call link target."""
        return f"tel:{self.number}"


NUMBER = re.compile(r"\+?[0-9]{2,15}")


def read_settings(config: MutableMapping[str, Any]) -> None:
    """Read the settings that may come as text from the environment; a mistake stops start-up."""
    config["TRUSTED_HOSTS"] = _comma_list(config.get("TRUSTED_HOSTS")) or None
    config["SECRET_KEY_FALLBACKS"] = _comma_list(config.get("SECRET_KEY_FALLBACKS"))
    config["PROXY_FIX"] = proxy_hops(config.get("PROXY_FIX"))
    numbers = config["EMERGENCY_NUMBERS"]
    if not isinstance(numbers, tuple):
        config["EMERGENCY_NUMBERS"] = parse_numbers(str(numbers))


def _comma_list(value: object) -> list[str]:
    """A list of texts from a JSON list or from "a,b" (how an environment variable gives it)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return [str(part) for part in value if part]
    return []


def proxy_hops(value: object) -> int:
    """The number of trusted reverse proxies (GUTCHECK_PROXY_FIX): 0 or more."""
    value = value or 0
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if type(value) is not int or value < 0:
        msg = f"GUTCHECK_PROXY_FIX is the number of trusted proxies (0 or more), not {value!r}"
        raise ConfigError(msg)
    return value


def parse_numbers(text: str) -> tuple[EmergencyNumber, ...]:
    """Read "UK 999, EU 112, US 911": comma-separated pairs, the number last in each."""
    numbers = []
    for part in (p.strip() for p in text.split(",")):
        region, _, number = part.rpartition(" ")
        if not part or not NUMBER.fullmatch(number):
            message = (
                f"GUTCHECK_EMERGENCY_NUMBERS: cannot read {part!r}; write region and number pairs "
                'separated by commas, like "UK 999, EU 112, US 911"'
            )
            raise ConfigError(message)
        numbers.append(EmergencyNumber(region.strip(), number))
    return tuple(numbers)
