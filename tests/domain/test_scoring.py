"""assess(): visible path, rounding, bands, rule order, variants, explanations, and properties."""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from assessment.domain import Answers
from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from assessment.domain import ScoreResult
from assessment.domain import Urgency
from assessment.domain import Why
from assessment.domain import assess
from assessment.domain import display_value
from assessment.domain import load_questionnaire
from assessment.domain import visible_path
from assessment.domain.expressions import Record
from assessment.domain.expressions import Ref
from assessment.domain.expressions import build_schema
from assessment.domain.expressions import compile_expression
from assessment.domain.scoring import ScoreView
from assessment.domain.scoring import _score_result
from assessment.domain.scoring import _ScoreStep
from assessment.domain.scoring import choice_whys
from assessment.domain.scoring import explain
from assessment.domain.scoring import possible_results
from assessment.domain.scoring import round_half_up
from tests.conftest import MINI
from tests.conftest import MINI_GUIDANCE

ADULT = {"age": 40, "sex": "female", "pregnant": "no", "pain": 6, "pain_days": 3, "loose_share": "gt50"}


def test_rounding_is_half_up_only_at_the_end() -> None:
    """2.5 rounds to 3 and 0.05 to 0.1, unlike Python's banker's rounding."""
    assert round_half_up(Decimal("2.5"), 0) == 3
    assert round_half_up(Decimal("0.05"), 1) == Decimal("0.1")
    assert round(2.5) == 2  # the reason we do not use round()


def test_scores_read_unrounded_earlier_scores(mini: Questionnaire) -> None:
    """pain = (6 + 3*10/7)/2 = 5.142...; total = 5*(5.142... + 10) = 75.71 -> 76, not 5*(5.1+10)=75.5."""
    result = assess(mini, ADULT)
    pain, total = result.score("pain"), result.score("total")
    assert pain is not None and total is not None
    assert (pain.display, pain.band_label) == ("5.1", "medium")
    assert (total.display, total.band_label) == ("76", "higher")


def test_rules_are_ordered_by_urgency_and_use_variants(mini: Questionnaire) -> None:
    """The emergency comes first; a variant raises the dose rule and replaces its message."""
    result = assess(mini, {**ADULT, "alarms": ("black_stool",), "dose_g": Decimal("45")})
    assert [(r.id, r.urgency) for r in result.rules] == [("R01", Urgency.EMERGENCY), ("R02", Urgency.ROUTINE)]
    assert result.rules[1].message.startswith("Your daily amount is above the highest")
    assert result.urgency is Urgency.EMERGENCY and result.self_care_held_back
    assert [r.id for r in result.shown_rules] == ["R01"]
    assert [r.id for r in result.held_back_rules] == ["R02"]


def test_a_rule_can_depend_on_an_earlier_rule(mini: Questionnaire) -> None:
    """R03 fires on a high total only when the emergency rule R01 did not."""
    assert assess(mini, ADULT).fired("R03") is not None
    assert assess(mini, {**ADULT, "alarms": ("vomit_blood",)}).fired("R03") is None


def test_why_lists_what_the_rule_read_with_labels(mini: Questionnaire) -> None:
    """Explanations use the question's label and the answer as a person reads it."""
    fired = assess(mini, {**ADULT, "dose_g": Decimal("15.5")}).fired("R02")
    assert fired is not None
    assert [(w.label, w.value) for w in fired.why] == [("Grams of glutamine per day", "15.5 g")]


def test_a_chosen_option_is_explained_as_display_value_words_it(mini: Questionnaire) -> None:
    """The lines made once per option say what display_value says, and only options get one."""
    made = set(choice_whys(mini))
    for question in mini.questions.values():
        for value in [o.value for o in question.options] or ["7"]:
            answers = Answers({question.id: value})
            for namespace in ("answers", "points"):
                why = explain([Ref(namespace, question.id)], mini, answers, {})
                assert why == (Why(question.label, display_value(question, value), question.short_label),)
                chosen = question.type.has_options and question.type is not QuestionType.MULTI
                assert (why[0] in made) == chosen
    assert explain([Ref("answers", "sex")], mini, Answers(), {})[0].value == "not answered"


def test_no_rule_fired_means_info(mini: Questionnaire) -> None:
    """With nothing to say, the overall urgency is the lowest."""
    assert assess(mini, {"age": 30, "pain": 0}).urgency is Urgency.INFO


def test_hidden_section_is_skipped_and_its_answers_never_count(mini: Questionnaire) -> None:
    """Under 18 the symptoms section is hidden: its stale answers neither score nor fire."""
    child = {**ADULT, "age": 10, "alarms": ("black_stool",), "dose_g": Decimal("50")}
    result = assess(mini, child)
    assert [s.id for s in result.path.sections] == ["about"]
    assert result.rules == () and "alarms" not in result.answers
    assert result.score("total") is not None and result.score("total").value == 0  # type: ignore[union-attr]


def test_changing_a_hidden_answer_changes_nothing(mini: Questionnaire) -> None:
    """pregnant is hidden for men: whatever it says, the assessment is the same."""
    base = {**ADULT, "sex": "male"}
    one, other = assess(mini, {**base, "pregnant": "yes"}), assess(mini, {**base, "pregnant": "no"})
    assert one.answers == other.answers and one.scores == other.scores and one.rules == other.rules
    assert "pregnant" not in visible_path(mini, base).question_ids


# -- properties ----------------------------------------------------------------------------------


def answer_strategy(questionnaire: Questionnaire) -> st.SearchStrategy[dict[str, object]]:
    """Any set of valid answers (each question answered or not)."""
    fields: dict[str, st.SearchStrategy[object]] = {}
    for qid, q in questionnaire.questions.items():
        if q.type in (QuestionType.SCALE, QuestionType.INTEGER):
            value: st.SearchStrategy[object] = st.integers(int(q.minimum or 0), int(q.maximum or 0))
        elif q.type is QuestionType.NUMBER:
            value = st.decimals(q.minimum, q.maximum, places=q.decimals, allow_nan=False)
        elif q.type is QuestionType.MULTI:
            value = st.lists(st.sampled_from([o.value for o in q.options]), unique=True).map(tuple)
        elif q.type is QuestionType.TEXT:
            value = st.text(max_size=q.max_length)
        else:
            value = st.sampled_from([o.value for o in q.options])
        fields[qid] = value
    return st.fixed_dictionaries({}, optional=fields)


MINI_Q = __import__("assessment.domain", fromlist=["load_questionnaire"]).load_questionnaire(
    MINI, MINI_GUIDANCE
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_strategy(MINI_Q))
def test_any_valid_answers_assess_and_scores_stay_in_range(answers: dict[str, object]) -> None:
    """Every answer set assesses without error and every score lies within its range and a band."""
    result = assess(MINI_Q, answers)  # type: ignore[arg-type]
    for score in result.scores:
        assert score.score.minimum <= score.value <= score.score.maximum
        assert score.band is not None
    ranks = [r.urgency.rank for r in result.rules]
    assert ranks == sorted(ranks)


@settings(max_examples=100, deadline=None)
@given(answer_strategy(MINI_Q), answer_strategy(MINI_Q))
def test_hidden_answers_never_change_the_result(answers: dict[str, object], noise: dict[str, object]) -> None:
    """Replacing every answer that is not on the visible path leaves the assessment unchanged."""
    path = set(visible_path(MINI_Q, answers).question_ids)  # type: ignore[arg-type]
    mixed = {
        **{k: v for k, v in noise.items() if k not in path},
        **{k: v for k, v in answers.items() if k in path},
    }
    one, other = assess(MINI_Q, answers), assess(MINI_Q, mixed)  # type: ignore[arg-type]
    assert (one.answers, one.scores, one.rules) == (other.answers, other.scores, other.rules)
    assert [r.why for r in one.rules] == [r.why for r in other.rules]


def _shown(result: ScoreResult) -> tuple[str, str, str, int]:
    return (str(result.value), result.display, result.bar_marker, result.band_index)


@settings(max_examples=150, deadline=None)
@given(answer_strategy(MINI_Q))
def test_possible_results_hold_every_result_assess_gives(answers: dict[str, object]) -> None:
    """The results page makes each score's chart once per possible value: assess() never gives another."""
    for result in assess(MINI_Q, answers).scores:  # type: ignore[arg-type]
        possible = {str(r.value): _shown(r) for r in possible_results(result.score)}
        assert possible[str(result.value)] == _shown(result)


@settings(max_examples=300, deadline=None)
@given(st.decimals(-1000, 1000, places=4, allow_nan=False), st.sampled_from([(0, 1), (1, 0), (2, 2)]))
def test_possible_results_at_odd_bounds(raw: Decimal, shape: tuple[int, int]) -> None:
    """Ends that are not a step of the score's decimals, and negative values, are listed too."""
    decimals, extra = shape
    base = MINI_Q.scores[0]
    low, high = Decimal("-2.5") - Decimal("0.03") * extra, Decimal("7.25") + Decimal("0.004") * extra
    score = replace(base, minimum=low, maximum=high, decimals=decimals)
    step = _ScoreStep(score, Decimal(1).scaleb(-decimals), score.bands)
    got = _score_result(step, raw)
    possible = {str(r.value): _shown(r) for r in possible_results(score)}
    assert possible[str(got.value)] == _shown(got)


def test_a_score_view_names_its_band_range_and_marks_its_segment(mini: Questionnaire) -> None:
    """What the results page's chart and table read: band label, range texts, the current segment."""
    pain = mini.scores[0]
    view = ScoreView(pain, 1, "5.1", "51.00")
    assert (view.label, view.band_label, view.maximum_text, view.range_text) == (
        "Pain",
        "medium",
        "10",
        "0 to 10",
    )
    assert [segment.current for segment in view.bands] == [False, True, False]
    assert ScoreView(pain, -1, "", "").band_label == ""


def test_a_score_with_too_many_values_lists_none() -> None:
    """A wide range is not listed (the page then fills its chart per request)."""
    score = replace(MINI_Q.scores[0], maximum=Decimal(100_000), decimals=2)
    assert possible_results(score) == ()
    shown = {r.display for r in possible_results(replace(score, maximum=Decimal(10)))}
    assert shown == {f"{Decimal(k) / 100:.2f}" for k in range(1001)} | {"-0.00"}


def test_why_lists_only_the_parts_of_the_condition_that_held() -> None:
    """R01 reads blood or the now-alarms: for P3 (confusion, no blood) only the alarm explains it."""
    import yaml

    from assessment.config import ROOT
    from assessment.domain import load_questionnaire
    from assessment.domain import parse_answers

    real = load_questionnaire(ROOT / "questions.yaml", ROOT / "templates" / "guidance")
    case = yaml.safe_load((ROOT / "tests" / "cases" / "p3_linda.yaml").read_text())
    raw = {k: v if isinstance(v, list) else [v] for k, v in case["answers"].items()}
    fired = assess(real, parse_answers(real, raw).answers).fired("R01")
    assert fired is not None
    assert [w.value for w in fired.why] == ["Confusion, or unusual sleepiness"]


def _real_why(overrides: dict[str, list[str]], rule_id: str) -> list[tuple[str, str]]:
    """The (short label, value) pairs of a real rule's "why", for P3's answers with some replaced."""
    import yaml

    from assessment.config import ROOT
    from assessment.domain import parse_answers

    real = load_questionnaire(ROOT / "questions.yaml", ROOT / "templates" / "guidance")
    case = yaml.safe_load((ROOT / "tests" / "cases" / "p3_linda.yaml").read_text())
    raw = {k: v if isinstance(v, list) else [v] for k, v in case["answers"].items()} | overrides
    fired = assess(real, parse_answers(real, raw).answers).fired(rule_id)
    assert fired is not None, rule_id
    return [(w.summary_label, w.value) for w in fired.why]


def test_why_names_only_the_ticked_options_the_rule_tested() -> None:
    """The liver rule is explained by the liver disease, not by every condition ticked."""
    conditions = {"conditions": ["ibs", "liver", "epilepsy", "cancer"]}
    assert ("Diagnosed conditions", "Liver disease or cirrhosis") in _real_why(conditions, "R09")
    signs = {"other_signs": ["jaundice", "lump", "anaemia"]}
    # The same answer explains two rules differently: each names the signs it looks for.
    assert ("Other warning signs", "Yellow skin, or yellow whites of the eyes (jaundice)") in _real_why(
        signs, "R04U"
    )
    assert ("Other warning signs", "A lump in my tummy, I have been told I am anaemic or low in iron") in (
        _real_why(signs, "R04")
    )


def test_why_keeps_the_whole_answer_where_the_rule_read_all_of_it(mini: Questionnaire) -> None:
    """A condition that reads the answer as a whole (not one option of it) shows all that was ticked."""
    question = next(q for q in mini.questions.values() if q.type is QuestionType.MULTI)
    ticked = tuple(o.value for o in question.options[:2])
    answers = Answers({question.id: ticked})
    full = display_value(question, ticked)
    one = display_value(question, ticked[1:])
    assert full != one
    by_option = [Ref("answers", question.id, ticked[1])]
    assert [w.value for w in explain(by_option, mini, answers, {})] == [one]
    assert [w.value for w in explain([*by_option, Ref("answers", question.id)], mini, answers, {})] == [full]
    # An option that was not ticked cannot have made the rule fire: never show an empty answer.
    assert [w.value for w in explain([Ref("answers", question.id, "other")], mini, answers, {})] == [full]


def test_why_says_which_options_a_rule_needed_unticked() -> None:
    """R26, "no gut condition named yet", is not explained by the liver disease the person named."""
    assert ("Diagnosed conditions", "not Coeliac disease") in _real_why(
        {"conditions": ["liver", "epilepsy"], "food_triggers": ["wheat"]}, "R21"
    )
    none_of_four = (
        "not Irritable bowel syndrome (IBS), Crohn's disease, Ulcerative colitis or Coeliac disease"
    )
    assert ("Diagnosed conditions", none_of_four) in _real_why({"conditions": ["liver"]}, "R26")
    # "None of these" already says it, in the person's own answer.
    assert ("Diagnosed conditions", "None of these") in _real_why({"conditions": ["none"]}, "R26")


def _why_of(mini: Questionnaire, source: str, ticked: tuple[str, ...]) -> list[str]:
    """The "why" values of a condition on the mini questionnaire's alarms, walked by rule-engine."""
    expr = compile_expression(source, build_schema(mini.questions, [], []))
    values = {qid: () if q.type is QuestionType.MULTI else None for qid, q in mini.questions.items()}
    env = {name: Record({}) for name in ("points", "scores", "rules", "levels")}
    env["answers"] = Record(values | {"alarms": ticked})
    assert expr.matches(env), source
    return [w.value for w in explain(expr.reads_that_held(env), mini, Answers({"alarms": ticked}), {})]


def test_why_of_a_negated_option_test(mini: Questionnaire) -> None:
    """A test that an option is not ticked shows as "not ...", after any ticked option tested."""
    vomit = ("vomit_blood",)
    assert _why_of(mini, "not 'black_stool' in answers.alarms", vomit) == ["not Black, sticky poo"]
    assert _why_of(mini, "'black_stool' not in answers.alarms", vomit) == ["not Black, sticky poo"]
    both = "not ('black_stool' in answers.alarms or 'vomit_blood' in answers.alarms)"
    assert _why_of(mini, both, ("none",)) == ["None of these"]
    mixed = "'vomit_blood' in answers.alarms and not 'black_stool' in answers.alarms"
    assert _why_of(mini, mixed, vomit) == ["Vomiting blood, but not Black, sticky poo"]
    # A negation over two answers has no one answer to narrow: each is shown whole.
    two = "not ('black_stool' in answers.alarms or (answers.age ?? 0) > 50)"
    assert _why_of(mini, two, vomit) == ["Vomiting blood", "not answered"]


def test_assessing_keeps_no_questionnaire_alive() -> None:
    """Per-questionnaire caches must not hold a questionnaire the caller has dropped."""
    questionnaire = load_questionnaire(MINI, MINI_GUIDANCE)
    assess(questionnaire, ADULT)
    visible_path(questionnaire, ADULT)
    alive = weakref.ref(questionnaire)
    del questionnaire
    gc.collect()
    assert alive() is None
