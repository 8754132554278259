"""Configuration defaults; the environment (GUTCHECK_ prefix) and test overrides come on top."""

from __future__ import annotations

from pathlib import Path

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
    # Pages made once per process and filled per request (web/prerender.py); False renders every
    # page through its templates, which tests compare with.
    "PRERENDER": True,
}
