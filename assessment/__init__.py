"""Gut Check: the Flask application factory."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

from assessment.config import DEFAULTS
from assessment.config import ROOT
from assessment.config import ConfigError
from assessment.config import read_settings
from assessment.domain import QuestionnaireError
from assessment.domain import load_questionnaire


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then GUTCHECK_* environment, then overrides; check the questionnaire."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(DEFAULTS)
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    app.config.from_prefixed_env("GUTCHECK")
    if test_config:
        app.config.update(test_config)
    _ensure_secret_key(app)
    read_settings(app.config)
    if app.config["ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
    # WeasyPrint and fontTools log at INFO/WARNING about fonts; nothing about a person, but noisy.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    started = time.perf_counter()
    questionnaire = load_questionnaire(app.config["QUESTIONS_PATH"], app.config["GUIDANCE_DIR"])
    app.config["QUESTIONNAIRE_LOAD_MS"] = (time.perf_counter() - started) * 1000

    from assessment import cli
    from assessment import web

    web.init_app(app, questionnaire)
    cli.init_app(app)
    return app


def _ensure_secret_key(app: Flask) -> None:
    """Production refuses to start without SECRET_KEY; development makes one and says so."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config["ENV"] == "production":
        message = "SECRET_KEY is not set: set GUTCHECK_SECRET_KEY (or SECRET_KEY) to a long random value."
        raise ConfigError(message)
    app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.logger.warning("No SECRET_KEY set: generated one for this process (development only).")


__all__ = ["ConfigError", "QuestionnaireError", "create_app"]
