"""The clinician summary PDF, read back from the real bytes (pypdf, poppler) for personas P1-P3.

Covers issue 6: page 1 (header, alarm box, overall urgency, scores, bowel pattern, glutamine,
conditions), fired rules, the appendix ("Not asked" told apart from "No"), page X of Y and the
footer, tagging and metadata, the answers.json attachment; GET /report.pdf and POST /api/v1/report
(headers, busy, timeout, concurrency); and hostile or unusual free text (docs/design.md, security cases
15-18 and 24-26). Each persona's PDF is rendered once per module.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
import threading
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from werkzeug.test import TestResponse

from assessment import create_app
from assessment.domain import Questionnaire
from assessment.report import RenderBusy
from assessment.web.state import state
from assessment.web.summary_download import renderer
from tests.casefiles import load_case as read_case
from tests.spy_server import Hits
from tests.spy_server import spy_http_server
from tests.web.conftest import Respondent

CASES = Path(__file__).parent / "cases"
PERSONAS = ("p1_emma", "p2_raj", "p3_linda")
SECRET = "report-pdf-tests-secret-key-0123456789"
DISCLAIMER = "Patient-completed. Not a diagnosis."
APPENDIX_HEADING = "Appendix: every answer"

# Answers to questions that are hidden for P2 (a man who takes no probiotic and cut out no food):
# posted on purpose, they must be dropped from the PDF and from answers.json.
P2_HIDDEN_EXTRAS: dict[str, Any] = {
    "pregnancy": "pregnant",
    "probiotic_product": "Hidden-Brand-Probiotic",
    "foods_cut_weeks": 6,
}

# Alarm box (CONTENT 9.6): each persona's alarm answers (question id and level), then the rules at
# soon or above that fired on a combination of other answers, by id, with their level.
ALARMS: dict[str, dict[str, Any]] = {
    "p1_emma": {"features": [], "rules": {}},
    "p2_raj": {
        "features": [("blood", "urgent"), ("weight_loss_kg", "soon")],
        "rules": {"R05": "soon", "R06": "soon", "R28": "soon"},
    },
    "p3_linda": {
        "features": [("alarms_now", "emergency")],
        "rules": {"R09": "soon", "R15": "soon", "R28": "soon"},
    },
}
# The words the summary prints for each level (fixed here so a wrong mapping fails).
URGENCY_TEXT = {
    "emergency": "Emergency: Get help now.",
    "urgent": "Urgent: Contact a doctor today.",
    "soon": "Soon: See a doctor within the next few days.",
    "routine": "Routine: Mention it at a routine appointment.",
    "info": "Information: For your information; no appointment is needed for this alone.",
}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def squash(text: str) -> str:
    """Remove all whitespace, so pypdf's line wrapping inside the PDF does not matter."""
    return "".join(text.split())


def pair(label: str, value: str) -> str:
    """A table row as it reads in the extracted text: the label directly followed by the value."""
    return squash(label) + squash(value)


def load_case(name: str) -> dict[str, Any]:
    """Read a persona's case file."""
    return read_case(CASES / f"{name}.yaml")


def pdf_texts(pdf: bytes) -> list[str]:
    """Extract every page's text with pypdf."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def tool(name: str) -> str:
    """Return the path of a poppler tool; poppler-utils is a test dependency (Makefile TEST_DEBS)."""
    found = shutil.which(name)
    assert found, f"{name} is missing: install poppler-utils"
    return found


def pdfinfo(path: Path) -> dict[str, str]:
    """Run pdfinfo and return its fields."""
    out = subprocess.run([tool("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """Extract the text with poppler (it reads WeasyPrint's custom CMaps that pypdf misreads)."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out: str = subprocess.run(
        [tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return out


def word_blocks(path: Path) -> list[list[list[tuple[float, str]]]]:
    """Poppler's layout of every page: blocks of lines, each line its words as (left edge, word)."""
    out = subprocess.run(
        [tool("pdftotext"), "-enc", "UTF-8", "-bbox-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    blocks = []
    for block in ET.fromstring(out).iter("{http://www.w3.org/1999/xhtml}block"):
        lines = [
            [(float(word.attrib["xMin"]), word.text or "") for word in line]
            for line in block.iter("{http://www.w3.org/1999/xhtml}line")
        ]
        blocks.append([line for line in lines if line])
    return blocks


def attachments(pdf: bytes) -> dict[str, list[bytes]]:
    """Return the PDF's embedded files by name."""
    return {name: list(data) for name, data in PdfReader(io.BytesIO(pdf)).attachments.items()}


def answers_json(pdf: bytes) -> dict[str, Any]:
    """Parse the single answers.json attachment (beside it: the same answers as FHIR, issue 17)."""
    found = attachments(pdf)
    assert sorted(found) == ["answers.json", "questionnaire-response.fhir.json"], found.keys()
    assert len(found["answers.json"]) == 1, found.keys()
    document: dict[str, Any] = json.loads(found["answers.json"][0].decode("utf-8"))
    return document


def filename_date(response: TestResponse) -> dt.date:
    """Return the date in the download's file name, checking the whole header on the way."""
    header = response.headers["Content-Disposition"]
    match = re.fullmatch(r'attachment; filename="gut-check-summary-(\d{4}-\d{2}-\d{2})\.pdf"', header)
    assert match, header
    return dt.date.fromisoformat(match.group(1))


def long_dates(day: dt.date) -> set[str]:
    """The header's date as "26 November 2026" (a leading zero on the day is accepted too)."""
    return {squash(f"{day.day} {day:%B %Y}"), squash(f"{day:%d %B %Y}")}


def make_app(**config: Any) -> Flask:
    """The real app on the bundled questionnaire, CSRF on."""
    return create_app({"TESTING": True, "SECRET_KEY": SECRET, **config})


def answered_client(app: Flask, answers: dict[str, Any]) -> FlaskClient:
    """A client whose session holds `answers`, given through the real forms with CSRF tokens."""
    client = app.test_client()
    Respondent(client).complete(answers)
    return client


@dataclass
class Rendered:
    """One persona's summary: what was posted, what came back, and its text."""

    name: str
    case: dict[str, Any]
    posted: dict[str, Any]
    assessment: dict[str, Any]
    response: TestResponse
    pdf: bytes
    path: Path
    completed: dt.date
    pages: list[str]
    first_page: str

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    @property
    def summary_part(self) -> str:
        """Everything before the appendix, whitespace removed."""
        return squash(self.text.split(APPENDIX_HEADING, 1)[0])

    @property
    def appendix_part(self) -> str:
        """The appendix, whitespace removed."""
        parts = self.text.split(APPENDIX_HEADING, 1)
        assert len(parts) == 2, "the PDF has no appendix"
        return squash(parts[1])

    @property
    def page_one(self) -> str:
        """Page 1 only, as `pdftotext -f 1 -l 1` reads it, whitespace removed."""
        return squash(self.first_page)

    @property
    def alarm_box(self) -> str:
        """Page 1 between the alarm heading and the overall urgency."""
        match = re.search("Alarmfeatures(.*?)Overall:", self.page_one)
        assert match, "page 1 has no alarm box followed by the overall urgency"
        return match.group(1)


@pytest.fixture(scope="module")
def app() -> Flask:
    """One app for the module, so its renderer (CSS parsed, fonts loaded) is made once."""
    return make_app()


@pytest.fixture(scope="module")
def questionnaire(app: Flask) -> Questionnaire:
    """The questionnaire the app serves."""
    found: Questionnaire = state(app).questionnaire
    return found


@pytest.fixture(scope="module")
def rendered(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """P1-P3 summaries made through POST /api/v1/report, once per module."""
    client = app.test_client()
    folder = tmp_path_factory.mktemp("personas")
    out = {}
    for name in PERSONAS:
        case = load_case(name)
        posted = dict(case["answers"], **(P2_HIDDEN_EXTRAS if name == "p2_raj" else {}))
        assessment = client.post("/api/v1/assessments", json={"answers": posted})
        assert assessment.status_code == 200, assessment.get_json()
        response = client.post("/api/v1/report", json={"answers": posted})
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        pdf = response.get_data()
        path = folder / f"{name}.pdf"
        path.write_bytes(pdf)
        out[name] = Rendered(
            name=name,
            case=case,
            posted=posted,
            assessment=assessment.get_json(),
            response=response,
            pdf=pdf,
            path=path,
            completed=filename_date(response),
            pages=pdf_texts(pdf),
            first_page=subprocess.run(
                [tool("pdftotext"), "-enc", "UTF-8", "-f", "1", "-l", "1", str(path), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout,
        )
    return out


@pytest.fixture(scope="module")
def session_p3(app: Flask) -> tuple[FlaskClient, TestResponse]:
    """P3 answered through the real forms, then GET /report.pdf from the session."""
    client = answered_client(app, load_case("p3_linda")["answers"])
    response = client.get("/report.pdf")
    assert response.status_code == 200, response.status
    return client, response


def label(questionnaire: Questionnaire, qid: str) -> str:
    return questionnaire.questions[qid].label


def short(questionnaire: Questionnaire, qid: str) -> str:
    """The name the clinician summary gives a question beside its answer."""
    return questionnaire.questions[qid].summary_label


def option(questionnaire: Questionnaire, qid: str, value: str) -> str:
    """The printed label of one option of a question."""
    for opt in questionnaire.questions[qid].options:
        if opt.value == value:
            return opt.label
    raise AssertionError(f"{qid} has no option {value}")


# ---------------------------------------------------------------------------------------------
# 1. Personas: what the PDF says
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PERSONAS)
def test_page_one_header_has_disclaimer_age_sex_name_and_the_date_given(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    r = rendered[name]
    header = r.page_one.split("Alarmfeatures", 1)[0]
    assert squash(DISCLAIMER) in header
    answers = r.case["answers"]
    sex = option(questionnaire, "sex", answers["sex"])
    # One header per value: Name, Age, Sex, then the values in the same order.
    assert squash(f"Name Age Sex not given {answers['age']} years {sex}") in header
    assert any(squash(f"Answers given on {d}.") in header for d in long_dates(r.completed)), header
    assert "restored" not in header  # answers given today through the API


@pytest.mark.parametrize("name", PERSONAS)
def test_alarm_box_lists_alarm_answers_and_combinations_or_says_none(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    r = rendered[name]
    box = r.alarm_box
    rules = {rule.id: rule for rule in questionnaire.rules}
    expected = ALARMS[name]
    if not expected["features"] and not expected["rules"]:
        assert "Noalarmfeaturesreported" in box
        assert not any(squash(words) in box for words in URGENCY_TEXT.values())
        return
    assert "Noalarmfeaturesreported" not in box
    for qid, level in expected["features"]:
        # "<level words> <short label>: <answer>" for each alarm answer.
        assert squash(f"{URGENCY_TEXT[level]} {short(questionnaire, qid)}:") in box, qid
    for rule_id, level in expected["rules"].items():
        assert squash(f"{URGENCY_TEXT[level]} {rules[rule_id].title}") in box, rule_id
    # Routine and information rules stay out of the alarm box.
    others = [f for f in r.assessment["rules"] if f["urgency"] in ("routine", "info")]
    assert others, "every persona has routine or information rules"
    for fired in others:
        assert squash(rules[fired["id"]].title) not in box, fired["id"]


@pytest.mark.parametrize("name", PERSONAS)
def test_overall_urgency_words_on_page_one(rendered: dict[str, Rendered], name: str) -> None:
    r = rendered[name]
    assert r.assessment["urgency"] == r.case["urgency"]
    assert "Overall:" + squash(URGENCY_TEXT[r.case["urgency"]]) in r.page_one


@pytest.mark.parametrize("name", PERSONAS)
def test_scores_on_page_one_are_compact_with_case_values_bands_and_marked_not_validated(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    r = rendered[name]
    scores = {s.id: s for s in questionnaire.scores}
    for score_id, value in r.case["scores"].items():
        score = scores[score_id]
        band = r.case["bands"].get(score_id, "")
        entry = f"{score.label} {value} (range {int(score.minimum)}–{int(score.maximum)}), {band}"
        assert squash(entry) in r.page_one, entry
    assert squash("This tool's own scores, not validated") in r.page_one
    # After everything else on page 1 (CONTENT 9.6): scores come last.
    assert r.page_one.index("Symptomscores") > r.page_one.index("Intheperson")


@pytest.mark.parametrize("name", PERSONAS)
def test_bowel_pattern_is_in_the_story_unless_there_is_none(rendered: dict[str, Rendered], name: str) -> None:
    r = rendered[name]
    pattern = r.case["bands"]["bowel_pattern"]
    story = r.page_one.split("Alarmfeatures", 1)[0]
    if pattern == "no clear pattern":
        assert squash(pattern) not in story
    else:
        assert squash(f"; {pattern};") in story


@pytest.mark.parametrize("name", PERSONAS)
def test_page_one_story_sentence_has_age_sex_symptoms_duration_trend_and_glutamine(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    """The one-sentence story (CONTENT 9.6 item 2), from the answers, before the alarm box."""
    r, q = rendered[name], questionnaire
    answers = r.case["answers"]
    story = r.page_one.split("Alarmfeatures", 1)[0]
    person = {"female": "woman", "male": "man"}[answers["sex"]]
    assert squash(f"{answers['age']}-year-old {person};") in story
    top = max(("bloating", "gas", "pain"), key=lambda k: answers[k])
    word = {"bloating": "bloating", "gas": "wind", "pain": "tummy pain"}[top]
    assert squash(f"{word} {answers[top]}/10") in story
    duration = option(q, "duration", answers["duration"])
    assert squash(f"for {duration[0].lower()}{duration[1:]}") in story
    change = option(q, "change", answers["change"]).lower()
    assert squash(change) in story and "4weeksago" in story
    status = answers["glutamine_status"]
    if status == "now":
        dose = answers["glutamine_dose_g"]
        assert squash(f"takes glutamine {dose} g a day for {answers['glutamine_weeks']} weeks.") in story
    else:
        assert squash("is thinking about taking glutamine.") in story


@pytest.mark.parametrize("name", PERSONAS)
def test_page_one_names_every_medicine_and_supplement_with_dose_duration_and_effect(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    r, q = rendered[name], questionnaire
    answers = r.case["answers"]
    block = r.page_one.split("Medicinesandsupplements", 1)
    assert len(block) == 2, "page 1 has no medicines and supplements block"
    medicines = block[1].split("Conditionsrelevant", 1)[0]
    if answers["glutamine_status"] == "now":
        effect = option(q, "glutamine_effect", answers["glutamine_effect"])
        row = (
            f"L-glutamine {answers['glutamine_dose_g']} g per day {answers['glutamine_weeks']} weeks {effect}"
        )
        assert squash(row) in medicines
    else:
        assert "L-glutamine" not in medicines
    ticked = [option(q, "medicines", v) for v in answers["medicines"] if v != "none"]
    for medicine in ticked:
        assert squash(medicine) in medicines
    if ticked:
        assert squash("Also taken (dose not asked):") in medicines
    # Blank is never a silent omission.
    assert squash(f"{short(q, 'other_supplements')}: not given") in medicines


@pytest.mark.parametrize("name", PERSONAS)
def test_page_one_has_conditions_with_pregnancy_and_the_persons_own_words(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    r, q = rendered[name], questionnaire
    answers = r.case["answers"]
    conditions = r.page_one.split("Conditionsrelevanttoglutaminesafety", 1)
    assert len(conditions) == 2
    for value in answers["conditions"]:
        assert squash(option(q, "conditions", value)) in conditions[1]
    if answers["sex"] != "male":
        assert (
            pair(short(q, "pregnancy") + ":", option(q, "pregnancy", answers["pregnancy"])) in conditions[1]
        )
    own = r.page_one.split(squash("In the person's own words"), 1)[1]
    for qid in ("my_questions", "tried_and_worries"):
        assert pair(short(q, qid) + ":", answers.get(qid, "not given")) in own, qid


def test_a_long_story_named_medicines_and_words_still_fit_page_one(
    rendered: dict[str, Rendered],
) -> None:
    """Page 1 ends with the scores for every persona: nothing spills onto page 2 before the guidance."""
    for r in rendered.values():
        assert "Symptomscores" in r.page_one and squash("not validated") in r.page_one, r.name
        assert squash("Guidance shown to the person") not in r.page_one, r.name


def test_summary_names_questions_by_their_short_labels_and_the_appendix_by_the_full_ones(
    rendered: dict[str, Rendered], questionnaire: Questionnaire
) -> None:
    """Page 1 and the alarm box are terse for the clinician; the appendix keeps the exact wording."""
    r, q = rendered["p3_linda"], questionnaire
    # The alarm box explains R01 by the confusion answer, named briefly.
    assert squash(short(q, "alarms_now")) + ":" in r.alarm_box
    assert squash(label(q, "alarms_now")) not in r.alarm_box
    assert squash(label(q, "glutamine_dose_g")) not in r.summary_part
    assert pair(label(q, "glutamine_dose_g"), "15 g per day") in r.appendix_part


@pytest.mark.parametrize("name", PERSONAS)
def test_fired_rules_are_listed_by_title_and_message_and_no_rule_code_is_printed(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, tmp_path: Path, name: str
) -> None:
    r = rendered[name]
    rules = {rule.id: rule for rule in questionnaire.rules}
    guidance = r.summary_part.split(squash("Guidance shown to the person, and why"), 1)
    assert len(guidance) == 2, "no guidance section before the appendix"
    for f in r.assessment["rules"]:
        assert squash(f"{rules[f['id']].title}. {f['message']}") in guidance[1], f["id"]
    for rule_id in r.case["not_fires"]:
        assert squash(rules[rule_id].title) not in guidance[1], rule_id
    # No internal rule code (R + digits, R04U, U18) on any page, by pypdf or poppler.
    code = re.compile(r"\b(?:R\d+U?|U18)\b")
    assert not code.findall(r.text)
    assert not code.findall(pdftotext(r.pdf, tmp_path))


@pytest.mark.parametrize("name", PERSONAS)
def test_page_one_plus_at_most_one_page_before_the_transcript(
    rendered: dict[str, Rendered], name: str
) -> None:
    """CONTENT 9.6: page 1, then at most one page of guidance; the transcript starts on page 2 or 3."""
    r = rendered[name]
    starts = [n for n, page in enumerate(r.pages, start=1) if squash(APPENDIX_HEADING) in squash(page)]
    assert starts and starts[0] <= 3, starts
    assert squash("Guidance shown to the person") in squash(r.pages[1])
    if starts[0] == 3:  # then page 3 holds no guidance before the transcript (only its running title)
        before = squash(r.pages[2]).split(squash(APPENDIX_HEADING), 1)[0]
        assert len(before) < 60, before


@pytest.mark.parametrize("name", PERSONAS)
def test_no_page_holds_only_a_few_lines(rendered: dict[str, Rendered], name: str) -> None:
    """A stranded tail wastes paper: every page carries at least 12 lines besides its furniture."""
    r = rendered[name]
    for number, page in enumerate(r.pages, start=1):
        lines = [ln for ln in page.splitlines() if ln.strip() and "Patient-completed" not in ln]
        assert len(lines) >= 12, (number, lines)


@pytest.mark.parametrize("name", PERSONAS)
def test_body_text_is_at_least_9_5_pt_and_because_lines_at_least_8_5_pt(
    rendered: dict[str, Rendered], name: str
) -> None:
    r = rendered[name]
    sizes: dict[float, list[str]] = {}

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            sizes.setdefault(round(size * tm[3] * cm[3], 2), []).append(text)

    for page in PdfReader(io.BytesIO(r.pdf)).pages:
        page.extract_text(visitor_text=visit)
    assert min(sizes) >= 8.5, sorted(sizes)
    small = squash("".join(t for size, texts in sizes.items() if size < 9.5 for t in texts))
    # Only the reasons, the page furniture and the safety-net box's neighbours are below 9.5 pt.
    for f in r.assessment["rules"]:
        assert squash(f["message"])[:40] not in small, f["id"]
    assert squash(r.case["answers"].get("my_questions", "")) not in small or not r.case["answers"].get(
        "my_questions"
    )
    assert "Because:" in small


LIST_LABEL = re.compile(r"\u2022|\d+\.")


@pytest.mark.parametrize("name", PERSONAS)
def test_wrapped_list_items_line_up_after_their_bullet_or_number(
    rendered: dict[str, Rendered], name: str
) -> None:
    """Bullets and numbers hang: an item's wrapped lines start where the text after its label does."""
    pairs = []
    for block in word_blocks(rendered[name].path):
        for first, after in zip(block, block[1:], strict=False):
            # The next line is the item's own when it starts right of the label (not a new item,
            # and not the paragraph after the list, which starts under the label).
            if LIST_LABEL.fullmatch(first[0][1]) and len(first) > 1 and after[0][0] > first[0][0] + 1:
                pairs.append((first[1][0], after[0][0]))
    assert pairs, "no wrapped list item found"
    assert all(abs(text - wrapped) < 0.5 for text, wrapped in pairs), pairs


@pytest.mark.parametrize("name", PERSONAS)
def test_appendix_has_every_section_and_question_label_in_order(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    appendix = rendered[name].appendix_part
    at = 0
    for section in questionnaire.sections:
        found = appendix.find(squash(section.title), at)
        assert found >= 0, f"section {section.id!r} missing or out of order"
        at = found
        for question in section.questions:
            found = appendix.find(squash(question.label), at)
            assert found >= 0, f"question {question.id!r} missing from the appendix or out of order"
            at = found + len(squash(question.label))


def not_asked_runs(questionnaire: Questionnaire, path: set[str]) -> list[list[str]]:
    """Labels of hidden questions, grouped by section into runs of consecutive questions."""
    runs: list[list[str]] = []
    for section in questionnaire.sections:
        previous_hidden = False
        for question in section.questions:
            hidden = question.id not in path
            if hidden and previous_hidden:
                runs[-1].append(question.label)
            elif hidden:
                runs.append([question.label])
            previous_hidden = hidden
    return runs


@pytest.mark.parametrize("name", PERSONAS)
def test_appendix_says_not_asked_exactly_for_hidden_questions(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    """Each run of skipped questions is one 'Not asked:' line naming exactly those questions."""
    r = rendered[name]
    appendix = r.appendix_part
    runs = not_asked_runs(questionnaire, set(r.assessment["path"]))
    assert runs, "every persona skips some questions"
    for run in runs:
        assert squash("Not asked: " + "; ".join(run)) in appendix, run[0]
    # No other line says "Not asked", so no answered question is hidden inside one.
    assert appendix.count("Notasked:") == len(runs)


def test_appendix_tells_not_asked_apart_from_no_and_not_answered(
    rendered: dict[str, Rendered], questionnaire: Questionnaire
) -> None:
    q = questionnaire
    p1, p2 = rendered["p1_emma"].appendix_part, rendered["p2_raj"].appendix_part
    # Pregnancy: hidden for a man (P2, although posted), answered by a woman (P1).
    assert "Notasked:" + squash(label(q, "pregnancy")) in p2
    assert pair(label(q, "pregnancy"), option(q, "pregnancy", "neither")) in p1
    # "No" to a probiotic, then its follow-up questions are "Not asked".
    assert pair(label(q, "probiotic"), "No") in p2
    assert pair(label(q, "probiotic"), "No") + "Notasked:" + squash(label(q, "probiotic_product")) in p2
    # Shown but left blank.
    assert pair(label(q, "other_supplements"), "Not answered") in p2
    # Posted answers to hidden questions are dropped, not printed.
    assert "Hidden-Brand-Probiotic" not in squash(rendered["p2_raj"].text)


@pytest.mark.parametrize("name", PERSONAS)
def test_every_page_has_page_x_of_y_and_the_footer(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    r = rendered[name]
    total = int(pdfinfo(r.path)["Pages"])
    assert total == len(r.pages) >= 2
    meta = questionnaire.meta
    for number, page in enumerate(r.pages, start=1):
        text = squash(page)
        assert f"Page{number}of{total}" in text, number
        assert squash(f"{meta.id} v{meta.version}") in text, number
        assert squash(f"answers given {r.completed.isoformat()}") in text, number
        assert squash(DISCLAIMER) in text, number


@pytest.mark.parametrize("name", PERSONAS)
def test_pdf_is_tagged_with_title_author_subject(rendered: dict[str, Rendered], name: str) -> None:
    r = rendered[name]
    info = pdfinfo(r.path)
    assert info["Tagged"] == "yes"
    assert "Gut Check" in info["Title"]
    assert info["Author"]
    assert "not a diagnosis" in info["Subject"]
    reader = PdfReader(io.BytesIO(r.pdf))
    root = reader.root_object
    mark_info = root["/MarkInfo"].get_object()
    assert "/StructTreeRoot" in root and isinstance(mark_info, DictionaryObject) and mark_info["/Marked"]
    assert reader.metadata is not None and reader.metadata.title == info["Title"]


@pytest.mark.parametrize("name", PERSONAS)
def test_answers_json_attachment_holds_the_visible_answers(
    rendered: dict[str, Rendered], questionnaire: Questionnaire, name: str
) -> None:
    r = rendered[name]
    document = answers_json(r.pdf)
    assert document["questionnaire"] == {"id": questionnaire.meta.id, "version": questionnaire.meta.version}
    assert document["answered_at"] == document["exported_at"] == r.completed.isoformat()
    assert "date" not in document
    path = set(r.assessment["path"])
    visible = {qid: value for qid, value in r.posted.items() if qid in path}
    assert document["answers"] == visible
    if name == "p2_raj":
        assert not set(P2_HIDDEN_EXTRAS) & set(document["answers"])


def test_session_route_pdf_equals_the_api_pdf_for_p3(
    session_p3: tuple[FlaskClient, TestResponse], rendered: dict[str, Rendered]
) -> None:
    _, response = session_p3
    api = rendered["p3_linda"]
    assert filename_date(response) == api.completed
    pdf = response.get_data()
    assert pdf_texts(pdf) == api.pages
    assert answers_json(pdf) == answers_json(api.pdf)


# ---------------------------------------------------------------------------------------------
# 2. Route behaviour
# ---------------------------------------------------------------------------------------------


def assert_security_headers(response: TestResponse) -> None:
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_report_without_answers_redirects_to_the_start_with_a_message(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/report.pdf")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    start = client.get("/")
    assert "no answers to summarise" in start.get_data(as_text=True).lower()


def test_report_pdf_download_headers(session_p3: tuple[FlaskClient, TestResponse]) -> None:
    before = dt.date.today()
    _, response = session_p3
    assert response.headers["Content-Type"] == "application/pdf"
    assert filename_date(response) in {before, before - dt.timedelta(days=1)}
    assert response.get_data().startswith(b"%PDF-")
    assert_security_headers(response)


def test_pdf_over_https_has_hsts(app: Flask) -> None:
    client = app.test_client()
    response = client.post(
        "/api/v1/report", json={"answers": load_case("p1_emma")["answers"]}, base_url="https://localhost"
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert_security_headers(response)


class BusyRenderer:
    """Stands in for the app's renderer: every slot is taken."""

    calls = 0

    def render(self, *args: Any, **kwargs: Any) -> bytes:
        BusyRenderer.calls += 1
        raise RenderBusy("all PDF render slots of this process are busy")


def assert_busy(response: TestResponse, elapsed: float) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    # "At once": far below the 20 s render timeout (generous for a loaded test machine).
    assert elapsed < 2.0, f"503 took {elapsed:.2f} s: it should come at once"
    assert response.headers["Cache-Control"] == "no-store"


def test_busy_renderer_gives_a_friendly_503_with_retry_after_at_once() -> None:
    app = make_app()
    client = answered_client(app, load_case("p1_emma")["answers"])
    state(app).pdf_renderer.set(BusyRenderer())
    BusyRenderer.calls = 0

    started = time.perf_counter()
    response = client.get("/report.pdf")
    assert_busy(response, time.perf_counter() - started)
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "could not be made just now" in body and "try again" in body.lower()
    assert "Traceback" not in body
    assert_security_headers(response)

    started = time.perf_counter()
    api = client.post("/api/v1/report", json={"answers": load_case("p1_emma")["answers"]})
    assert_busy(api, time.perf_counter() - started)
    assert api.get_json()["error"] == "busy"
    assert BusyRenderer.calls == 2


def test_real_renderer_with_every_slot_held_answers_503_at_once(app: Flask) -> None:
    client = answered_client(app, load_case("p1_emma")["answers"])
    pdf_renderer = renderer(app)
    held = 0
    while pdf_renderer._slots.acquire(blocking=False):  # take every slot, as running renders do
        held += 1
    assert held == app.config["PDF_MAX_CONCURRENT"]
    try:
        started = time.perf_counter()
        response = client.get("/report.pdf")
        assert_busy(response, time.perf_counter() - started)
        started = time.perf_counter()
        api = client.post("/api/v1/report", json={"answers": load_case("p1_emma")["answers"]})
        assert_busy(api, time.perf_counter() - started)
    finally:
        for _ in range(held):
            pdf_renderer._slots.release()


def test_render_past_the_timeout_gives_503_and_the_next_request_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timeout = 0.5
    app = make_app(PDF_TIMEOUT_SECONDS=timeout, PDF_MAX_CONCURRENT=2)
    client = answered_client(app, load_case("p1_emma")["answers"])
    pdf_renderer = renderer(app)
    real_render_now = pdf_renderer._render_now
    release, finished = threading.Event(), threading.Event()

    def stuck_render_now(*args: Any, **kwargs: Any) -> bytes:
        """A render that takes far longer than the timeout (until the test lets it go)."""
        try:
            release.wait(30)
            return real_render_now(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(pdf_renderer, "_render_now", stuck_render_now)
    try:
        started = time.perf_counter()
        response = client.get("/report.pdf")
        elapsed = time.perf_counter() - started
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert timeout <= elapsed < timeout + 5.0, elapsed
        assert "could not be made just now" in response.get_data(as_text=True)

        # The stuck render still holds one slot; the worker keeps serving with the other. The
        # timeout goes back to a real budget: this slot's first render also loads its fonts.
        monkeypatch.setattr(pdf_renderer, "_render_now", real_render_now)
        monkeypatch.setattr(pdf_renderer, "timeout_s", 20.0)
        assert client.get("/").status_code == 200
        response = client.get("/report.pdf")
        assert response.status_code == 200 and response.get_data().startswith(b"%PDF-")
    finally:
        release.set()
        assert finished.wait(30), "the stuck render never ended"


def test_twenty_concurrent_api_reports_get_200_or_503_never_500() -> None:
    app = make_app(PDF_MAX_CONCURRENT=2)
    answers = load_case("p1_emma")["answers"]
    count = 20
    barrier = threading.Barrier(count)

    def one(_: int) -> tuple[int, str | None]:
        client = app.test_client()
        barrier.wait(10)
        response = client.post("/api/v1/report", json={"answers": answers})
        return response.status_code, response.headers.get("Retry-After")

    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(one, range(count)))

    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 1
    # Two slots for twenty requests started together: the rest are turned away, not queued.
    assert statuses.count(503) >= 1, "every request waited for a slot: the renders queued"
    for status, retry_after in results:
        if status == 503:
            assert retry_after is not None and int(retry_after) > 0
    # The app is still fine afterwards.
    after = app.test_client().post("/api/v1/report", json={"answers": answers})
    assert after.status_code == 200


# ---------------------------------------------------------------------------------------------
# 3. Hostile text reaches the PDF as text, and nothing is fetched
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def spy_server() -> Iterator[tuple[int, Hits]]:
    """A real HTTP server on 127.0.0.1 that records every request; yield (port, hits)."""
    with spy_http_server(content_type="text/css") as found:
        yield found


def hostile_answers(port: int) -> dict[str, str]:
    """Markup and URLs in every kind of free-text field (each within its length limit)."""
    return {
        "summary_name": "<script>alert(1)</script>",
        "my_questions": f'"><img src=x onerror=alert(1)> <img src="http://127.0.0.1:{port}/x">',
        "tried_and_worries": 'file:///etc/passwd <link rel=attachment href="file:///etc/passwd">',
        "other_supplements": f"@import url(http://127.0.0.1:{port}/css)",
        "probiotic": "yes",
        "probiotic_product": '<img src="file:///etc/passwd">',
    }


def test_hostile_free_text_prints_literally_fetches_nothing_and_attaches_nothing(
    app: Flask, spy_server: tuple[int, Hits], tmp_path: Path
) -> None:
    port, hits = spy_server
    refused_before = list(renderer(app).refused)
    hostile = hostile_answers(port)
    response = app.test_client().post(
        "/api/v1/report", json={"answers": dict(load_case("p1_emma")["answers"], **hostile)}
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    pdf = response.get_data()
    text = squash("\n".join(pdf_texts(pdf)))

    for qid, value in hostile.items():
        if qid != "probiotic":
            assert squash(value) in text, qid
    # The name prints on page 1 as text.
    assert "NameAgeSex<script>alert(1)</script>" in squash(pdf_texts(pdf)[0])
    # Nothing was fetched, by the server's count and by the renderer's fetcher.
    assert hits.count == 0, hits.paths
    assert renderer(app).refused == refused_before == []
    # Only our answers.json (and its FHIR twin) is embedded, and it carries the strings unchanged.
    document = answers_json(pdf)
    assert {qid: document["answers"][qid] for qid in hostile} == hostile
    detached = subprocess.run([tool("pdfdetach"), "-list", "-"], input=pdf, capture_output=True, check=False)
    if detached.returncode != 0:  # older poppler cannot read stdin
        (tmp_path / "h.pdf").write_bytes(pdf)
        detached = subprocess.run(
            [tool("pdfdetach"), "-list", str(tmp_path / "h.pdf")], capture_output=True, check=True
        )
    assert detached.stdout.decode().splitlines()[0].strip() == "2 embedded files"  # answers.json and FHIR
    # /etc/passwd never got in.
    assert "root:" not in "\n".join(pdf_texts(pdf))
    assert b"root:" not in pdf
    assert all(b"root:" not in data for items in attachments(pdf).values() for data in items)
    assert "root:" not in pdftotext(pdf, tmp_path)


def test_emoji_in_dejavu_and_arabic_render_and_survive_pypdf_extraction(app: Flask) -> None:
    """Emoji that DejaVu Sans covers (U+1F600, U+263A, U+2764) and Arabic print and extract as is."""
    words = {"other_supplements": "Fish oil 😀 ☺ ❤ daily", "my_questions": "ألم في البطن بعد الأكل"}
    answers = dict(load_case("p1_emma")["answers"], **words)
    response = app.test_client().post("/api/v1/report", json={"answers": answers})
    assert response.status_code == 200
    pdf = response.get_data()
    text = squash("\n".join(pdf_texts(pdf)))
    assert squash("Fish oil 😀 ☺ ❤ daily") in text
    assert squash("ألم في البطن بعد الأكل") in text
    assert {k: answers_json(pdf)["answers"][k] for k in words} == words


def test_cjk_and_emoji_missing_from_dejavu_render_and_survive_in_poppler_text(
    app: Flask, tmp_path: Path
) -> None:
    """DejaVu has no CJK and few emoji: those print as empty boxes but keep their Unicode.

    pypdf (7.1) misreads the whole regular font once a missing glyph makes WeasyPrint write a
    custom /Encoding CMap, so this reads the text with poppler's pdftotext.
    """
    words = {"tried_and_worries": "胃痛 and 腹胀 after meals 🐟 👍", "my_questions": "Mixed 😀 胃痛 ألم"}
    answers = dict(load_case("p1_emma")["answers"], **words)
    response = app.test_client().post("/api/v1/report", json={"answers": answers})
    assert response.status_code == 200
    pdf = response.get_data()
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    assert {k: answers_json(pdf)["answers"][k] for k in words} == words
    # pdftotext wraps right-to-left runs in bidi embedding marks; drop format characters.
    text = "".join(ch for ch in pdftotext(pdf, tmp_path) if unicodedata.category(ch) != "Cf")
    assert squash("胃痛 and 腹胀 after meals 🐟 👍") in squash(text)
    assert squash("Mixed 😀 胃痛 ألم") in squash(text)
    assert "Gut symptom and supplement summary" in text


# ---------------------------------------------------------------------------------------------
# 4. Control, format and combining characters: never a 500
# ---------------------------------------------------------------------------------------------

# Each in its own free-text field (within that field's length limit), so one render covers them all.
ODD_TEXT = {
    "my_questions": "a" + "\u0301" * 299,  # combining marks up to the 300-character limit
    "tried_and_worries": "Pain \u202eevil\u202c after food",  # RTL override
    "other_supplements": "zero\u200bwidth\u200c\u200djoin\ufeffers\u2060here",
    "summary_name": "before\x00after",  # NUL
    "probiotic_product": "half\ud800pair",  # lone surrogate
}
CONTROL = ("Cc", "Cf", "Cs")


def visible_part(text: str) -> str:
    """The text without control, format and surrogate code points."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in CONTROL)


def test_ten_thousand_combining_marks_give_422_or_a_pdf_never_500(app: Flask) -> None:
    answers = dict(load_case("p1_emma")["answers"], my_questions="a" + "\u0301" * 10_000)
    response = app.test_client().post("/api/v1/report", json={"answers": answers})
    assert response.status_code in (200, 422), response.status
    if response.status_code == 422:
        assert list(response.get_json()["errors"]) == ["my_questions"]
    else:
        assert len(PdfReader(io.BytesIO(response.get_data())).pages) >= 2


def test_control_format_and_combining_characters_give_a_pdf_without_them(app: Flask) -> None:
    answers = dict(load_case("p1_emma")["answers"], probiotic="yes", **ODD_TEXT)
    response = app.test_client().post("/api/v1/report", json={"answers": answers})
    assert response.status_code in (200, 422), response.status
    # All of these are valid once cleaned, so the summary must be made.
    assert response.status_code == 200, response.get_json()
    pdf = response.get_data()
    assert pdf.startswith(b"%PDF-") and len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    stored = answers_json(pdf)["answers"]
    text = "\n".join(pdf_texts(pdf))
    assert not {"\u202e", "\u200b", "\x00", "\ufeff", "\u2060"} & set(text)
    for qid, value in ODD_TEXT.items():
        # Control and format characters are stripped before the answer is used (security case 17).
        assert not [ch for ch in stored[qid] if unicodedata.category(ch) in CONTROL], qid
        if qid == "my_questions":
            assert stored[qid] == unicodedata.normalize("NFC", value)
        else:
            assert stored[qid] == visible_part(value), qid
        assert squash(stored[qid]) in squash(text), qid
