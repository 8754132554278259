"""OPTIONS has no side effects; HTTPS posts need a same-site Referer (docs/design.md, cases 7 and 20)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.web.conftest import Respondent
from tests.web.conftest import csrf_token
from tests.web.conftest import make_app
from tests.web.conftest import text


def test_options_on_results_answers_without_side_effects(respondent: Respondent, client: FlaskClient) -> None:
    """OPTIONS lists the methods and neither changes nor clears the saved answers."""
    respondent.complete()
    before = text(client.get("/review"))
    response = client.options("/results")
    assert response.status_code in (200, 204)
    assert "GET" in response.headers["Allow"]
    assert text(client.get("/review")) == before


def https_post(client: FlaskClient, headers: dict[str, str]) -> int:
    """Post the first section over HTTPS with a real CSRF token and the given headers."""
    page = text(client.get("/q/about", base_url="https://localhost"))
    form = {"csrf_token": csrf_token(page), "age": "40", "sex": "female", "pregnant": "no"}
    response = client.post("/q/about", data=form, base_url="https://localhost", headers=headers)
    return response.status_code


def test_https_post_without_a_referer_is_refused() -> None:
    """Flask-WTF's strict SSL check refuses a form post with no Referer (why we never send no-referrer)."""
    client = make_app().test_client()
    assert https_post(client, {}) == 400


def test_https_post_from_another_site_is_refused() -> None:
    """A Referer from another origin is refused too."""
    client = make_app().test_client()
    assert https_post(client, {"Referer": "https://evil.example/form"}) == 400


def test_https_post_from_our_own_page_is_accepted() -> None:
    """With Referrer-Policy: same-origin a browser sends our own page as Referer, and the post works."""
    client = make_app().test_client()
    assert https_post(client, {"Referer": "https://localhost/q/about"}) == 302
