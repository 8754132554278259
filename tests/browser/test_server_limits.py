"""Limits enforced by gunicorn itself, in front of the app (docs/design.md, security case 4)."""

from __future__ import annotations

import http.client
from urllib.parse import urlparse

import pytest


def raw_status(base_url: str, headers: dict[str, str]) -> int:
    """GET / with exactly these headers on a fresh connection; return the status code."""
    url = urlparse(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        connection.request("GET", "/", headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.browser
def test_an_oversized_cookie_header_is_refused_by_gunicorn_and_the_app_stays_up(base_url: str) -> None:
    """A Cookie header over 8190 bytes is refused by gunicorn (431, or 400 in older versions)."""
    assert raw_status(base_url, {"Cookie": "gutcheck=" + "A" * 9000}) in (400, 431)
    assert raw_status(base_url, {}) == 200
