"""Every case file's summary comes out the same with all of WeasyPrint's fast paths as without."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from assessment.report import fast_layout
from assessment.report import fast_text
from assessment.report import kept_layouts
from assessment.report.pdf import PdfRenderer
from tests.casefiles import CASES
from tests.casefiles import load_case
from tests.casefiles import raw_of
from tests.test_fast_layout import assert_same_pages
from tests.test_xhtml_parse import summary_html

FAST_PATHS = (fast_layout, fast_text, kept_layouts)


@pytest.fixture(scope="module")
def renderer() -> PdfRenderer:
    return PdfRenderer(finish=False, timeout_s=None)  # WeasyPrint's own file: its pages as drawn


@pytest.fixture(autouse=True)
def fast_paths_stay_installed() -> Iterator[None]:
    yield
    assert all(module.install() for module in FAST_PATHS)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_every_case_files_summary_has_the_same_pages(app: Flask, renderer: PdfRenderer, case: Path) -> None:
    assert_same_pages(renderer, summary_html(app, raw_of(load_case(case)["answers"])), FAST_PATHS)
