"""An encrypted session cookie: AES-GCM with a key derived from SECRET_KEY, and an idle lifetime."""

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
from flask import request
from flask.sessions import SecureCookieSession
from flask.sessions import SessionInterface

_VERSION = b"\x01"
_NONCE = 12


class EncryptedSession(SecureCookieSession):
    """A session that can say whether the cookie it came from was unreadable or expired."""

    expired = False


def derive_key(secret: str | bytes) -> bytes:
    """Derive a 256-bit AES key from SECRET_KEY, so the raw secret never keys the cipher."""
    material = secret.encode() if isinstance(secret, str) else secret
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"gut-check-session", info=b"aes-gcm v1")
    return hkdf.derive(material)


def seal(key: bytes, payload: dict[str, Any], now: float | None = None) -> str:
    """Encrypt and authenticate a payload with its issue time."""
    body = json.dumps(
        {"t": int(now if now is not None else time.time()), "d": payload}, separators=(",", ":")
    ).encode()
    nonce = os.urandom(_NONCE)
    sealed = _VERSION + nonce + AESGCM(key).encrypt(nonce, body, _VERSION)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def unseal(key: bytes, token: str, max_age: int, now: float | None = None) -> dict[str, Any] | None:
    """Return the payload, or None when the cookie is tampered with, unreadable or too old."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        if raw[:1] != _VERSION or len(raw) < 1 + _NONCE + 16:
            return None
        body = AESGCM(key).decrypt(raw[1 : 1 + _NONCE], raw[1 + _NONCE :], _VERSION)
        data = json.loads(body)
    except (ValueError, InvalidTag, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("t"), int):
        return None
    current = now if now is not None else time.time()
    if current - data["t"] > max_age or not isinstance(data.get("d"), dict):
        return None
    payload: dict[str, Any] = data["d"]
    return payload


class EncryptedSessionInterface(SessionInterface):
    """Flask session interface that keeps the whole session encrypted in one cookie."""

    session_class = EncryptedSession

    def _key(self, app: Flask) -> bytes:
        key = app.extensions.get("gutcheck_session_key")
        if key is None:
            key = derive_key(app.secret_key or "")
            app.extensions["gutcheck_session_key"] = key
        return key

    def _max_age(self, app: Flask) -> int:
        return int(app.config["SESSION_IDLE_MINUTES"]) * 60

    def open_session(self, app: Flask, request: Request) -> EncryptedSession:
        """Read the cookie; a bad or expired one gives an empty session marked expired."""
        token = request.cookies.get(self.get_cookie_name(app))
        if not token:
            return self.session_class()
        data = unseal(self._key(app), token, self._max_age(app))
        if data is None:
            session = self.session_class()
            session.expired = True
            return session
        return self.session_class(data)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Write the cookie again on every request (sliding idle lifetime), or delete it."""
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        # Secure whenever the page came over HTTPS, not only when production config says so.
        secure = self.get_cookie_secure(app) or request.is_secure
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
        response.set_cookie(
            name,
            seal(self._key(app), dict(session)),
            max_age=self._max_age(app),
            domain=domain,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )
