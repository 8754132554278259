"""Shared fixtures: an app on the small test questionnaire, its client, and the questionnaire."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assessment import create_app
from assessment.domain import Questionnaire
from assessment.domain import load_questionnaire

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
MINI = DATA / "mini.yaml"
MINI_GUIDANCE = DATA / "guidance"


@pytest.fixture
def mini() -> Questionnaire:
    """The small questionnaire that exercises every question type."""
    return load_questionnaire(MINI, MINI_GUIDANCE)


@pytest.fixture
def app() -> Iterator[Flask]:
    """The real app on the bundled questionnaire, with a fixed key and CSRF on."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-0123456789"})
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()
