"""The visible path: moving along it, and what is missing on it."""

from __future__ import annotations

import random

from assessment.domain import Answers
from assessment.domain import Questionnaire
from assessment.domain import load_questionnaire
from assessment.domain import parse_answers
from assessment.domain import prune
from assessment.domain import visible_path
from tests.conftest import ROOT
from tests.web.conftest import generic_answers

ADULT = {"age": 40, "sex": "female", "pain": 6}


def test_position_next_and_previous_follow_the_visible_sections(mini: Questionnaire) -> None:
    """An adult sees both sections; the symptoms page comes after the about page and before nothing."""
    path = visible_path(mini, ADULT)
    assert [s.id for s in path.sections] == ["about", "symptoms"]
    assert (path.position("about"), path.position("symptoms")) == (0, 1)
    assert path.next_section("about") is path.sections[1]
    assert path.next_section("symptoms") is None
    assert path.previous_section("symptoms") is path.sections[0]
    assert path.previous_section("about") is None


def test_a_hidden_section_has_no_position_and_leads_to_the_next_visible_one(mini: Questionnaire) -> None:
    """Under 18 the symptoms section is hidden: nothing comes after it, before it, or at it."""
    path = visible_path(mini, {"age": 12})
    assert path.position("symptoms") is None
    assert path.next_section("symptoms") is None and path.previous_section("symptoms") is None
    assert path.next_after(mini.sections, "symptoms") is None
    assert visible_path(mini, ADULT).next_after(mini.sections, "about") is mini.sections[1]


def test_missing_required_lists_only_visible_required_questions(mini: Questionnaire) -> None:
    """Both are missing at first (a missing age counts as adult); a child's pain is not asked."""
    assert [q.id for q in visible_path(mini, {}).missing_required({})] == ["age", "pain"]
    adult = {"age": 40}
    path = visible_path(mini, adult)
    assert [q.id for q in path.missing_required(adult)] == ["pain"]
    assert path.first_missing(adult) is path.sections[1]
    assert path.first_missing(adult, before="symptoms") is None
    assert path.first_missing(ADULT) is None
    assert visible_path(mini, {"age": 12}).missing_required({"age": 12}) == ()


def test_prune_drops_answers_to_hidden_questions(mini: Questionnaire) -> None:
    """A pregnancy answer goes when sex changes; a child's symptom answers go with the section."""
    kept = prune(mini, Answers({"age": 12, "sex": "male", "pregnant": "no", "pain": 4}))
    assert dict(kept) == {"age": 12, "sex": "male"}


def test_first_missing_before_a_section_agrees_with_first_missing() -> None:
    """The one-pass check a page makes equals "the first missing section, if it comes earlier"."""
    real = load_questionnaire(ROOT / "questions.yaml", ROOT / "templates" / "guidance")
    raw = {qid: value if isinstance(value, list) else [value] for qid, value in generic_answers(real).items()}
    full = parse_answers(real, raw).answers
    rng = random.Random(3)
    for _ in range(200):
        answers = {qid: value for qid, value in full.items() if rng.random() < 0.7}
        path = visible_path(real, answers)
        blocker = path.first_missing(answers)
        for current in path.sections:
            found, here = (path.position(blocker.id) if blocker else None), path.position(current.id)
            earlier = found is not None and here is not None and found < here
            assert path.first_missing(answers, before=current.id) is (blocker if earlier else None)
