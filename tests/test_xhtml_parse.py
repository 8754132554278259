"""The summary parsed by expat (report/xhtml.py) gives the tree WeasyPrint's own HTML parser gives."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import tinyhtml5
import weasyprint
from flask import Flask

from assessment import create_app
from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from assessment.domain import assess
from assessment.domain import parse_answers
from assessment.domain.answers_file import AnswerDates
from assessment.report.pdf import _make_html_class
from assessment.report.xhtml import parse_xhtml
from assessment.web.state import state
from assessment.web.summary_download import summary_document
from tests.casefiles import CASES
from tests.casefiles import load_case
from tests.casefiles import raw_of

# Text a person may write that means something to a parser: markup, quotes, entities, non-ASCII.
TRICKY = 'Tom & Jerry\'s <b>"bold"</b> &amp; café 5 < 6 > 4 \u2013 done. '


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"SECRET_KEY": secrets.token_hex(32), "TESTING": True})


def summary_html(app: Flask, raw: dict[str, list[Any]]) -> str:
    """The summary template filled for these answers, as the PDF route fills it."""
    questionnaire = state(app).questionnaire
    answers = parse_answers(questionnaire, raw).answers
    with app.test_request_context():
        return summary_document(assess(questionnaire, answers), AnswerDates(dt.date(2026, 6, 1))).html


def at_maximum(questionnaire: Questionnaire) -> dict[str, list[Any]]:
    """Every question answered at its maximum, every text full of characters markup cares about."""
    raw: dict[str, list[Any]] = {}
    for question in questionnaire.questions.values():
        options = [o.value for o in question.options if o.value not in question.exclusive]
        if question.type is QuestionType.MULTI:
            raw[question.id] = options
        elif question.type.has_options:
            raw[question.id] = options[-1:]
        elif question.type is QuestionType.TEXT:
            text = (TRICKY + ("\n" if question.multiline else "")) * 40
            raw[question.id] = [text[: question.max_length].strip()]
        else:
            raw[question.id] = [str(int(question.maximum if question.maximum is not None else Decimal(10)))]
    return raw


def nodes(root: ElementTree.Element) -> list[tuple[str, list[tuple[str, str]], str | None, str | None]]:
    """Every element in document order: name, attributes, text and the text after it."""
    return [(str(e.tag), sorted(e.attrib.items()), e.text, e.tail) for e in root.iter()]


def assert_same_tree(html: str) -> None:
    fast = parse_xhtml(html)
    assert fast is not None, "the summary template is no longer well-formed XHTML (report/xhtml.py)"
    assert nodes(fast) == nodes(tinyhtml5.parse(html, namespace_html_elements=False))


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_every_case_files_summary_parses_to_the_html5_tree(app: Flask, case: Path) -> None:
    assert_same_tree(summary_html(app, raw_of(load_case(case)["answers"])))


def test_a_summary_at_every_maximum_with_markup_in_every_text_parses_to_the_html5_tree(app: Flask) -> None:
    html = summary_html(app, at_maximum(state(app).questionnaire))
    assert "&lt;b&gt;" in html and "café" in html  # the texts are there, escaped
    assert_same_tree(html)


@pytest.mark.parametrize(
    "html",
    [
        "<!doctype html><html><head></head><body><p>lower-case doctype</p></body></html>",
        "<!DOCTYPE html><html><head></head><body><p>a<br>b</p></body></html>",
        "<!DOCTYPE html><html><head></head><body><p>&nbsp;</p></body></html>",
        '<!DOCTYPE html><html><head></head><body><p title="two\nlines">x</p></body></html>',
        "<!DOCTYPE html><html>\u00a0<head></head><body></body></html>",
        "<!DOCTYPE html><html><head></head><body></body>text after</html>",
        "<!DOCTYPE html><html><body></body></html>",
        '<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><head></head><body></body></html>',
        '<!DOCTYPE html [<!ENTITY x "y">]><html><head></head><body><p>&x;</p></body></html>',
    ],
    ids=[
        "doctype",
        "void",
        "entity",
        "attribute-newline",
        "nbsp",
        "text-after-body",
        "no-head",
        "namespace",
        "declared-entity",
    ],
)
def test_what_only_an_html_parser_reads_right_goes_to_weasyprints_parser(html: str) -> None:
    assert parse_xhtml(html) is None


def test_white_space_outside_the_body_lands_where_html5_puts_it() -> None:
    html = "<!DOCTYPE html>\n<html>\n<head><title>t</title></head>\n<body><p>x</p> </body>\n</html>"
    assert_same_tree(html)


def test_the_summary_document_made_from_expats_tree_is_set_up_as_weasyprint_sets_it_up(app: Flask) -> None:
    html = summary_html(app, raw_of(load_case(CASES[0])["answers"]))
    fast = _make_html_class()(string=html, url_fetcher=weasyprint.urls.URLFetcher())
    slow = weasyprint.HTML(string=html)
    assert set(vars(fast)) == set(vars(slow))
    assert (fast.base_url, fast.media_type) == (slow.base_url, slow.media_type)
    assert nodes(fast.etree_element) == nodes(slow.etree_element)
