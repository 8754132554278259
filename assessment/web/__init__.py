"""The thin web layer: blueprints, forms built from the model, encrypted session, headers."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from assessment.web import headers
from assessment.web.crypto_session import EncryptedSessionInterface
from assessment.web.uploads import InMemoryRequest

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Wire the session, CSRF, headers, guidance, blueprints and error pages into the app."""
    # Uploaded files (a saved answers file) are kept in memory, never spooled to a temporary file.
    app.request_class = InMemoryRequest
    app.session_interface = EncryptedSessionInterface()
    csrf.init_app(app)
    headers.init_app(app)
    _trusted_hosts(app)

    from assessment.web import api
    from assessment.web import errors
    from assessment.web import guidance
    from assessment.web import health
    from assessment.web import levels
    from assessment.web import portable
    from assessment.web import questionnaire
    from assessment.web import report
    from assessment.web import results
    from assessment.web import stops

    app.register_blueprint(health.bp)
    app.register_blueprint(questionnaire.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(stops.bp)
    app.register_blueprint(guidance.bp)
    app.register_blueprint(report.bp)
    app.register_blueprint(portable.bp)
    app.register_blueprint(api.bp)
    # The API takes JSON from programs, holds no session and sets no cookie: CSRF does not apply.
    csrf.exempt(api.bp)
    from assessment.web import fhir

    fhir.init_app(app)
    levels.init_app(app)
    questionnaire.init_app(app)
    guidance.init_app(app)
    errors.init_app(app)
    app.context_processor(_template_globals)


def _trusted_hosts(app: Flask) -> None:
    """Accept TRUSTED_HOSTS as a list or as "a.example,b.example" (an environment variable)."""
    hosts = app.config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):
        app.config["TRUSTED_HOSTS"] = [h.strip() for h in hosts.split(",") if h.strip()] or None


def _template_globals() -> dict[str, Any]:
    """Give every template the tool's name and whether the about page exists."""
    from flask import current_app

    questionnaire = current_app.extensions["questionnaire"]
    return {
        "tool_name": questionnaire.meta.title,
        "about_slug": "about-this-tool" if "about-this-tool" in questionnaire.guidance else None,
    }
