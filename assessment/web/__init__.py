"""The thin web layer: blueprints, forms built from the model, encrypted session, headers."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from assessment import prerender
from assessment.domain import Questionnaire
from assessment.prerender import PageLinks
from assessment.web import headers
from assessment.web.crypto_session import EncryptedSessionInterface
from assessment.web.in_memory_request import InMemoryRequest
from assessment.web.state import KEY
from assessment.web.state import AppState
from assessment.web.state import state

csrf = CSRFProtect()


def init_app(app: Flask, questionnaire: Questionnaire) -> None:
    """Wire the session, CSRF, headers, guidance, blueprints and error pages into the app."""
    # Uploaded files (a saved answers file) are kept in memory, never spooled to a temporary file.
    app.request_class = InMemoryRequest
    app.session_interface = EncryptedSessionInterface()
    csrf.init_app(app)
    headers.init_app(app)
    _proxy_fix(app)

    from assessment.web import api
    from assessment.web import errors
    from assessment.web import guidance
    from assessment.web import health
    from assessment.web import questionnaire as questionnaire_views
    from assessment.web import results
    from assessment.web import save_and_continue
    from assessment.web import stops
    from assessment.web import summary_download

    app.register_blueprint(health.bp)
    app.register_blueprint(questionnaire_views.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(stops.bp)
    app.register_blueprint(guidance.bp)
    app.register_blueprint(summary_download.bp)
    app.register_blueprint(save_and_continue.bp)
    app.register_blueprint(api.bp)
    # The API takes JSON from programs, holds no session and sets no cookie: CSRF does not apply.
    csrf.exempt(api.bp)
    from assessment.web import fhir

    fhir.init_app(app)
    app.extensions[KEY] = _state(app, questionnaire)
    app.jinja_env.globals["page_links"] = _page_links
    errors.init_app(app)
    app.context_processor(_template_globals)


def _state(app: Flask, questionnaire: Questionnaire) -> AppState:
    """Make everything the app needs once: level views, guidance HTML, pre-rendered HTML."""
    from assessment.web import forms
    from assessment.web import guidance
    from assessment.web import levels

    views, numbers = levels.build(app, questionnaire)
    return AppState(
        questionnaire=questionnaire,
        levels=views,
        emergency_numbers=numbers,
        guidance_html=guidance.render_pages(questionnaire),
        prerender=prerender.build(app, questionnaire, forms.form_for),
    )


def _proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto/-Host from PROXY_FIX proxies (GUTCHECK_PROXY_FIX; 0: from none).

    Behind deploy/nginx (one proxy) set 1: the scheme nginx saw (https) then makes the session
    cookie Secure and ``__Host-`` and adds HSTS, and the client address is the real one. With 0 a
    client's own X-Forwarded-Proto changes nothing (gunicorn.conf.py trusts no forwarded header).
    """
    hops = app.config["PROXY_FIX"]
    if hops:
        # No X-Forwarded-Port: the host the proxy passes on carries the browser's port, if any.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=0, x_prefix=0
        )


def _page_links(about_slug: str | None) -> PageLinks:
    """Return the links on every page (a template global: base.html asks once per page)."""
    return state().prerender.page_links(about_slug)


def _template_globals() -> dict[str, Any]:
    """Give every template the tool's name and whether the about page exists."""
    questionnaire = state().questionnaire
    return {
        "tool_name": questionnaire.meta.title,
        "about_slug": "about-this-tool" if "about-this-tool" in questionnaire.guidance else None,
    }
