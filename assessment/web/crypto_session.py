"""An encrypted session cookie: AES-GCM with a key derived from SECRET_KEY, and two lifetimes.

- Idle lifetime (SESSION_IDLE_MINUTES, 60): every response re-seals the cookie with a new time, so
  answers are forgotten after an hour without activity.
- Absolute lifetime (SESSION_ABSOLUTE_HOURS, 8): the time the session began travels inside the
  sealed cookie and is never refreshed, so no cookie (not even a copy taken before "Clear my
  answers") is accepted more than that long after it began.
- Key rotation: SECRET_KEY encrypts; SECRET_KEY_FALLBACKS (Flask's own setting) still decrypt, so
  a new key can be rolled out without ending everyone's session. Remove an old key after the
  absolute lifetime has passed.
- Name: a Secure cookie is called ``__Host-<SESSION_COOKIE_NAME>``, which browsers accept only
  with Secure, Path=/ and no Domain: no subdomain can set or overwrite it.
- The JSON API (``/api/``) gets a null session: it never reads, sets or refreshes the cookie.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask
from flask import Request
from flask import Response
from flask import has_request_context
from flask import request
from flask.sessions import NullSession
from flask.sessions import SecureCookieSession
from flask.sessions import SessionInterface

from assessment.web.state import state

_VERSION = b"\x01"
_NONCE = 12
_TAG = 16  # AES-GCM's authentication tag, appended to the ciphertext
HOST_PREFIX = "__Host-"
STATELESS_PREFIX = "/api/"


class EncryptedSession(SecureCookieSession):
    """A session that can say whether the cookie it came from was unreadable or expired."""

    expired = False
    started: int | None = None


class StatelessSession(NullSession):
    """The API's session: empty, never written, never sent."""

    expired = False


def derive_key(secret: str | bytes) -> bytes:
    """Derive a 256-bit AES key from SECRET_KEY, so the raw secret never keys the cipher."""
    material = secret.encode() if isinstance(secret, str) else secret
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"gut-check-session", info=b"aes-gcm v1")
    return hkdf.derive(material)


def seal(key: bytes, payload: dict[str, Any], now: float | None = None, started: float | None = None) -> str:
    """Encrypt and authenticate a payload with its issue time and the time its session began."""
    body = _envelope(payload, now, started)
    nonce = os.urandom(_NONCE)
    sealed = _VERSION + nonce + AESGCM(key).encrypt(nonce, body, _VERSION)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def sealed_length(payload: dict[str, Any], now: float | None = None, started: float | None = None) -> int:
    """Return the length of the token ``seal`` makes for this payload, without encrypting it.

    AES-GCM adds only its tag to the plaintext, and base64 without padding takes 4 characters per 3
    bytes, rounded up: the length follows from the envelope's.
    """
    size = len(_VERSION) + _NONCE + len(_envelope(payload, now, started)) + _TAG
    return (4 * size + 2) // 3


def _envelope(payload: dict[str, Any], now: float | None, started: float | None) -> bytes:
    """The plaintext a cookie seals: the payload with its issue time and its session's start."""
    issued = int(now if now is not None else time.time())
    return json.dumps(
        {"t": issued, "s": int(started) if started is not None else issued, "d": payload},
        separators=(",", ":"),
    ).encode()


def unseal_envelope(
    keys: bytes | list[bytes] | tuple[bytes, ...],
    token: str,
    max_age: int,
    now: float | None = None,
    max_total: int | None = None,
) -> tuple[dict[str, Any], int] | None:
    """Return (payload, session start), or None when tampered with, unreadable or too old.

    ``keys`` are tried in order (the current key first, then the fallbacks). ``max_age`` bounds the
    time since the cookie was sealed, ``max_total`` the time since its session began.
    """
    body = _decrypt(keys, token)
    if body is None:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or type(data.get("t")) is not int or not isinstance(data.get("d"), dict):
        return None
    issued = data["t"]
    started = data.get("s", issued)
    if type(started) is not int or started > issued:
        return None
    current = now if now is not None else time.time()
    if current - issued > max_age:
        return None
    if max_total is not None and current - started > max_total:
        return None
    payload: dict[str, Any] = data["d"]
    return payload, started


def _decrypt(keys: bytes | list[bytes] | tuple[bytes, ...], token: str) -> bytes | None:
    """The sealed body under the first key that opens it; None if the token is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if raw[:1] != _VERSION or len(raw) < 1 + _NONCE + 16:
        return None
    for key in [keys] if isinstance(keys, bytes) else keys:
        try:
            body: bytes = AESGCM(key).decrypt(raw[1 : 1 + _NONCE], raw[1 + _NONCE :], _VERSION)
        except (InvalidTag, ValueError):
            continue
        return body
    return None


def is_stateless(req: Request) -> bool:
    """Say whether a request is one the session must stay out of (the JSON API)."""
    return req.path.startswith(STATELESS_PREFIX)


class EncryptedSessionInterface(SessionInterface):
    """Flask session interface that keeps the whole session encrypted in one cookie."""

    session_class = EncryptedSession

    def _keys(self, app: Flask) -> tuple[bytes, ...]:
        """Return the current key, then the keys of SECRET_KEY_FALLBACKS (made once per app)."""
        secrets = (app.secret_key or "", *app.config["SECRET_KEY_FALLBACKS"])
        return state(app).session_keys.get(lambda: tuple(derive_key(secret) for secret in secrets))

    def _key(self, app: Flask) -> bytes:
        return self._keys(app)[0]

    def _max_age(self, app: Flask) -> int:
        return int(app.config["SESSION_IDLE_MINUTES"]) * 60

    def _max_total(self, app: Flask) -> int:
        return int(float(app.config["SESSION_ABSOLUTE_HOURS"]) * 3600)

    def secure(self, app: Flask) -> bool:
        """Secure whenever the page came over HTTPS, not only when the configuration says so."""
        return self.get_cookie_secure(app) or (has_request_context() and request.is_secure)

    def get_cookie_name(self, app: Flask) -> str:
        """``__Host-gutcheck`` for a Secure cookie, the plain name otherwise."""
        name = str(app.config["SESSION_COOKIE_NAME"])
        return HOST_PREFIX + name if self.secure(app) else name

    def get_cookie_domain(self, app: Flask) -> str | None:
        """No Domain for a ``__Host-`` cookie (browsers would refuse it)."""
        return None if self.secure(app) else super().get_cookie_domain(app)

    def get_cookie_path(self, app: Flask) -> str:
        """Path=/ for a ``__Host-`` cookie."""
        return "/" if self.secure(app) else super().get_cookie_path(app)

    def open_session(self, app: Flask, request: Request) -> EncryptedSession | StatelessSession:
        """Read the cookie; a bad or expired one gives an empty session marked expired."""
        if is_stateless(request):
            return StatelessSession()
        token = request.cookies.get(self.get_cookie_name(app))
        if not token:
            return self.session_class()
        found = unseal_envelope(self._keys(app), token, self._max_age(app), max_total=self._max_total(app))
        if found is None:
            session = self.session_class()
            session.expired = True
            return session
        session = self.session_class(found[0])
        session.started = found[1]
        return session

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Write the cookie again on every request (sliding idle lifetime), or delete it."""
        if is_stateless(request) or isinstance(session, NullSession):
            return
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.secure(app)
        samesite = self.get_cookie_samesite(app)
        httponly = self.get_cookie_httponly(app)
        if not session:
            if session.modified or getattr(session, "expired", False):
                response.delete_cookie(
                    name, domain=domain, path=path, secure=secure, samesite=samesite, httponly=httponly
                )
                response.vary.add("Cookie")
            return
        response.vary.add("Cookie")
        now = time.time()
        started = getattr(session, "started", None) or now
        # Never past the absolute lifetime, even in the browser's own bookkeeping.
        max_age = max(0, min(self._max_age(app), int(started + self._max_total(app) - now)))
        response.set_cookie(
            name,
            seal(self._key(app), dict(session), now=now, started=started),
            max_age=max_age,
            domain=domain,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )
