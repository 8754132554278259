"""The thin web layer: blueprints, forms built from the model, encrypted session, headers."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from assessment.web import headers
from assessment.web.crypto_session import EncryptedSessionInterface

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Wire the session, CSRF, headers, guidance, blueprints and error pages into the app."""
    app.session_interface = EncryptedSessionInterface()
    csrf.init_app(app)
    headers.init_app(app)

    from assessment.web import health

    app.register_blueprint(health.bp)
