"""Configuration defaults; the environment (GUTCHECK_ prefix) and test overrides come on top."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    "ENV": "development",
    "SECRET_KEY": None,
    "QUESTIONS_PATH": str(ROOT / "questions.yaml"),
    "GUIDANCE_DIR": str(ROOT / "templates" / "guidance"),
    # Answers expire after an hour of inactivity (docs/design.md, "Privacy model").
    "SESSION_IDLE_MINUTES": 60,
    "SESSION_COOKIE_NAME": "gutcheck",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    # Forms are small; an upload of a saved answers file or summary PDF is the largest body.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # One saved answers file or summary PDF (ours are under 100 KB); read in memory, never to disk.
    "MAX_UPLOAD_BYTES": 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    "MAX_FORM_PARTS": 400,
    "WTF_CSRF_TIME_LIMIT": 3600,
    "WTF_CSRF_SSL_STRICT": True,
    "TRUSTED_HOSTS": None,
    # Where to send a person, by urgency level: "REGION NUMBER" pairs shown as tap-to-call links, and
    # the same-day service named by the "urgent" level. Set them for the country the tool serves.
    "EMERGENCY_NUMBERS": "UK 999, EU 112, US 911",
    "URGENT_CARE": "your GP practice, or 111 in the UK",
    "PDF_MAX_CONCURRENT": 2,
    "PDF_TIMEOUT_SECONDS": 20,
}
