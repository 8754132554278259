"""The results page: urgency first, then scores (chart and table), then guidance cards."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import get_flashed_messages
from flask import render_template
from markupsafe import Markup
from markupsafe import escape
from werkzeug.wrappers import Response

from assessment.domain import ACT_SOON
from assessment.domain import Assessment
from assessment.domain import FiredRule
from assessment.domain import ScoreResult
from assessment.domain import Urgency
from assessment.domain import alarm_report
from assessment.domain import assess
from assessment.domain.model import Score
from assessment.report.summary import AnswerDates
from assessment.web import answers_store
from assessment.web import flow
from assessment.web.field_views import Markers
from assessment.web.field_views import Pieces
from assessment.web.questionnaire import _reusable

bp = Blueprint("results", __name__)


@dataclass(frozen=True, slots=True)
class BandView:
    """One band of a score's bar: where it starts and how wide it is, in percent of the range."""

    label: str
    low: str
    high: str
    x: str
    width: str
    index: int
    current: bool


@dataclass(frozen=True, slots=True)
class ScoreView:
    """A score as the chart and the table show it."""

    result: ScoreResult
    bands: tuple[BandView, ...]
    marker: str

    @property
    def label(self) -> str:
        """Return the score's label."""
        return self.result.score.label

    @property
    def maximum_text(self) -> str:
        """Return the top of the score's range as text."""
        return _plain(self.result.score.maximum)

    @property
    def range_text(self) -> str:
        """Return the score's range as text, like '0 to 10'."""
        return f"{_plain(self.result.score.minimum)} to {_plain(self.result.score.maximum)}"


@bp.get("/results")
def results() -> Response | str:
    """Show the assessment of the stored answers; redirect when required answers are missing."""
    questionnaire = answers_store.questionnaire()
    answers = answers_store.load_answers()
    blocked = flow.require_complete(questionnaire, answers)
    if blocked is not None:
        return blocked
    assessment = assess(questionnaire, answers)
    # The banner names the highest level among the cards shown, so no card asks for a shorter wait.
    level = assessment.urgency
    banner = [r for r in assessment.shown_rules if level in ACT_SOON and r.urgency is level]
    cards = [r for r in assessment.shown_rules if r not in banner]
    scores = [_score_view(result, _bands(result.score)) for result in assessment.scores]
    parts = _parts()
    filled: dict[str, list[Markup]] = {}
    if parts is not None:
        page = _from_shape(parts, assessment, banner, cards, scores)
        if page is not None:
            return page
        filled = {
            "banner_html": [parts.card(fired) for fired in banner],
            "cards_html": [parts.card(fired) for fired in cards],
            "charts_html": [parts.chart(view) for view in scores],
        }
    return render_template(
        "results/results.html",
        assessment=assessment,
        level=level,
        acts_soon=level in ACT_SOON,
        alarms=alarm_report(assessment),
        banner=banner,
        cards=cards,
        held_back=assessment.held_back_rules,
        scores=scores,
        pages=questionnaire.guidance,
        title_of=_title_of,
        # When the answers were given (and restored): templates/results/_answers_date.html.
        dates=answers_store.answer_dates(),
        recall=questionnaire.meta.recall,
        **filled,
    )


# Guidance cards and score charts are the same for everyone but for a few values (the "why"
# values, a score's value and marker), so, like the question pages (field_views.py), they are
# rendered once per process through the same macros with markers, and cut into pieces: one card
# per rule and variant (with and without a "why" block), one "why" line per question or score
# label, one chart per score and band. Only questionnaire text is kept. RESULTS_PARTS = False
# turns this off; a test compares both ways.
_PARTS_KEY = "gutcheck_results_parts"


@dataclass(frozen=True, slots=True)
class _ChartResult:
    """What score_chart reads of a result, with markers for the person's value."""

    score: Score
    display: str
    band_label: str


@dataclass(frozen=True, slots=True)
class _ChartView:
    """What score_chart reads of a view, with a marker for the bar's marker position."""

    result: _ChartResult
    bands: tuple[BandView, ...]
    marker: str
    label: str
    maximum_text: str


@dataclass(frozen=True, slots=True)
class ResultsParts:
    """The pre-rendered cards, "why" lines and charts, and how to fill them."""

    cards: dict[tuple[str, Urgency, str, bool], Pieces]
    why_list: Pieces
    why_items: dict[str, Pieces]
    charts: dict[tuple[str, int], Pieces]

    def card(self, fired: FiredRule) -> Markup:
        """Return a fired rule's card, with its "why" lines filled in."""
        why = fired.why
        pieces = self.cards[(fired.id, fired.urgency, fired.message, bool(why))]
        if not why:
            return Markup(pieces.fill({}))
        items = "".join(self.why_items[item.label].fill({"value": escape(item.value)}) for item in why)
        return Markup(pieces.fill({"why": self.why_list.fill({"items": items})}))

    def chart(self, view: ScoreView) -> Markup:
        """Return a score's chart, with its value and marker filled in."""
        current = next((band.index for band in view.bands if band.current), -1)
        pieces = self.charts[(view.result.score.id, current)]
        return Markup(pieces.fill({"display": escape(view.result.display), "marker": escape(view.marker)}))


def _parts() -> ResultsParts | None:
    """Return the pre-rendered parts when this request can use them (built at the first one)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("RESULTS_PARTS", True) or not _reusable(app):
        return None
    found: ResultsParts | None = app.extensions.get(_PARTS_KEY)
    if found is None:
        found = app.extensions[_PARTS_KEY] = _build_parts(app)
    return found


def _build_parts(app: Flask) -> ResultsParts:
    """Render every card variant, "why" line and chart through the macros, with markers."""
    questionnaire = app.extensions["questionnaire"]
    module: Any = app.jinja_env.get_template("results/_parts.html").module
    mark = Markers()
    cards: dict[tuple[str, Urgency, str, bool], Pieces] = {}
    charts: dict[tuple[str, int], Pieces] = {}
    with app.app_context(), app.test_request_context("/results"):
        for rule in questionnaire.rules:
            forms_of = {(rule.urgency, rule.message)}
            forms_of |= {(v.urgency or rule.urgency, v.message) for v in rule.variants}
            for urgency, message in forms_of:
                fired = FiredRule(rule, urgency, message)
                title = _title_of(fired)
                for with_why in (False, True):
                    why = mark("why") if with_why else Markup("")
                    html = module.rule_card(fired, title, questionnaire.guidance, heading_level=3, why=why)
                    cards[(rule.id, urgency, message, with_why)] = mark.cut(html, ["why"] if with_why else [])
        why_list = mark.cut(module.why_list((), items_html=mark("items")), ["items"])
        labels = {q.label for q in questionnaire.questions.values()} | {s.label for s in questionnaire.scores}
        why_items = {label: mark.cut(module.why_item(label, mark("value")), ["value"]) for label in labels}
        for score in questionnaire.scores:
            for index in range(-1, len(score.bands)):
                bands = tuple(
                    dataclasses.replace(b, current=b.index == index) for b in _band_views(score)
                )
                band_label = score.bands[index].label if index >= 0 else ""
                view = _ChartView(
                    _ChartResult(score, mark("display"), band_label),
                    bands,
                    mark("marker"),
                    score.label,
                    _plain(score.maximum),
                )
                html = module.score_chart(view)
                holes = ["display", "marker"] if score.show_value else []
                charts[(score.id, index)] = mark.cut(html, holes)
    return ResultsParts(cards, why_list, why_items, charts)


# The whole page is the same for everyone of one "shape" (level, how many cards, alarm features
# and scores, whether the answers were restored, ...) but for the person's values, so it too is
# rendered once per shape through results.html, with a marker for each value, and cut into pieces
# (as the section pages are, questionnaire.py). The template sees stand-ins that hold only
# questionnaire text and markers, never an answer. Each shape is rendered twice, for different
# requests, and kept only when both agree. A flashed message, or an app not at the site's root,
# takes the template path; so does any shape past _MAX_SHAPES, which keeps memory flat.
_SHAPES_KEY = "gutcheck_results_shapes"
_MAX_SHAPES = 256
_SHAPE_REQUESTS = (("http://localhost/", "/results"), ("http://shape-check.invalid/", "/results"))

ShapeKey = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _AssessmentStandIn:
    """What results.html reads of the assessment: the questionnaire only."""

    questionnaire: Any


@dataclass(frozen=True, slots=True)
class _FeatureStandIn:
    """An alarm feature with markers for its label and answer."""

    label: Markup
    answer: Markup


@dataclass(frozen=True, slots=True)
class _AlarmsStandIn:
    """What results.html reads of the alarm report: the features."""

    features: tuple[_FeatureStandIn, ...]


class _DayStandIn:
    """A date with markers for its day and for whatever strftime formats the template asks for."""

    def __init__(self, mark: Markers) -> None:
        """Keep the markers' maker; the formats asked for are recorded in order."""
        self._mark = mark
        self.day = mark("day")
        self.formats: list[str] = []

    def strftime(self, fmt: str) -> Markup:
        """Return a marker standing for the date in ``fmt``."""
        self.formats.append(fmt)
        return self._mark(f"date{len(self.formats) - 1}")


@dataclass(frozen=True, slots=True)
class _DatesStandIn:
    """AnswerDates with markers for its text and date."""

    text: Markup
    restored: bool
    answered_at: _DayStandIn


@dataclass(frozen=True, slots=True)
class _TableResult:
    """What score_table reads of a score result, with markers for the person's values."""

    score: Score
    display: Markup
    band_label: Markup | str


@dataclass(frozen=True, slots=True)
class _TableView:
    """What score_table reads of a ScoreView."""

    result: _TableResult
    label: str
    range_text: str


@dataclass(frozen=True, slots=True)
class _Shape:
    """A page's pieces and the date formats its markers stand for."""

    pieces: Pieces
    formats: tuple[str, ...]


def _shape_key(
    level: Urgency,
    features: int,
    banner: int,
    held_back: int,
    cards: int,
    scores: Sequence[ScoreView],
    dates: AnswerDates,
) -> ShapeKey:
    """Return what decides a page's markup apart from the values filled in."""
    table = tuple((v.result.score.id, bool(v.result.band_label)) for v in scores)
    return (level, features, banner, held_back if banner else 0, cards, table, dates.restored)


def _render_shape(
    app: Flask, key: ShapeKey, questionnaire: Any, scores: Sequence[ScoreView]
) -> _Shape | None:
    """Render one shape with stand-ins and markers; None when two renders disagree."""
    level, features, banner, held_back, cards, table, restored = key
    built: list[_Shape] = []
    for base_url, path in _SHAPE_REQUESTS:
        mark = Markers()
        day = _DayStandIn(mark)
        views = [
            _TableView(
                _TableResult(v.result.score, mark(f"display{i}"), mark(f"band{i}") if has_band else ""),
                v.label,
                v.range_text,
            )
            for i, (v, (_, has_band)) in enumerate(zip(scores, table, strict=True))
        ]
        context = {
            "assessment": _AssessmentStandIn(questionnaire),
            "level": level,
            "acts_soon": level in ACT_SOON,
            "alarms": _AlarmsStandIn(
                tuple(_FeatureStandIn(mark(f"feature{i}"), mark(f"answer{i}")) for i in range(features))
            ),
            "banner": [None] * banner,
            "cards": [None] * cards,
            "held_back": [None] * held_back,
            "scores": views,
            "pages": questionnaire.guidance,
            "title_of": _title_of,
            "dates": _DatesStandIn(mark("dates_text"), restored, day),
            "recall": questionnaire.meta.recall,
            "banner_html": [mark(f"banner{i}") for i in range(banner)],
            "cards_html": [mark(f"card{i}") for i in range(cards)],
            "charts_html": [mark(f"chart{i}") for i in range(len(views))],
        }
        # A fresh app context too: nothing reaches the g of the request being served.
        with app.app_context(), app.test_request_context(path, base_url=base_url):
            pieces = mark.cut(render_template("results/results.html", **context))
        built.append(_Shape(pieces, tuple(day.formats)))
    return built[0] if built[0] == built[1] else None


def _from_shape(
    parts: ResultsParts,
    assessment: Assessment,
    banner: Sequence[FiredRule],
    cards: Sequence[FiredRule],
    scores: Sequence[ScoreView],
) -> str | None:
    """Return the results page from its pre-rendered shape, or None for the template path."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # get_flashed_messages() keeps what it finds for this request, so the template still shows it.
    if get_flashed_messages():
        return None
    level = assessment.urgency
    features = alarm_report(assessment).features if level not in ACT_SOON else ()
    dates = answers_store.answer_dates()
    held_back = assessment.held_back_rules
    key = _shape_key(level, len(features), len(banner), len(held_back), len(cards), scores, dates)
    shapes: dict[ShapeKey, _Shape | None] = app.extensions.setdefault(_SHAPES_KEY, {})
    shape = shapes.get(key)
    if shape is None:
        if key in shapes or len(shapes) >= _MAX_SHAPES:
            return None
        shape = shapes[key] = _render_shape(app, key, assessment.questionnaire, scores)
        if shape is None:
            return None
    values: dict[str, str] = {"dates_text": escape(dates.text), "day": escape(dates.answered_at.day)}
    values.update(_date_values(dates.answered_at, shape.formats))
    for i, feature in enumerate(features):
        values[f"feature{i}"] = escape(feature.label)
        values[f"answer{i}"] = escape(feature.answer)
    for i, fired in enumerate(banner):
        values[f"banner{i}"] = parts.card(fired)
    for i, fired in enumerate(cards):
        values[f"card{i}"] = parts.card(fired)
    for i, view in enumerate(scores):
        values[f"chart{i}"] = parts.chart(view)
        values[f"display{i}"] = escape(view.result.display)
        values[f"band{i}"] = escape(view.result.band_label)
    return shape.pieces.fill(values)


def _date_values(day: dt.date, formats: Sequence[str]) -> dict[str, str]:
    """Return the date as each of the template's strftime calls wrote it, escaped."""
    return {f"date{i}": escape(day.strftime(fmt)) for i, fmt in enumerate(formats)}


def _title_of(fired: FiredRule) -> str:
    """Return a card's heading: the rule's own title, else its guidance page's title."""
    if fired.rule.title:
        return fired.rule.title
    page = answers_store.questionnaire().guidance.get(fired.guidance)
    return page.title if page else "Guidance"


def _score_view(result: ScoreResult, bands: tuple[BandView, ...]) -> ScoreView:
    """Place the person's value on the score's bar and mark the band it fell in."""
    score = result.score
    span = score.maximum - score.minimum
    index = next((i for i, band in enumerate(score.bands) if result.band is band), -1)
    if index >= 0:
        bands = _with_current(score, index, bands)
    marker = _percent(result.value - score.minimum, span)
    return ScoreView(result, bands, _fmt(min(max(marker, Decimal(0)), Decimal(100))))


_BANDS_KEY = "gutcheck_band_views"
_CURRENT_KEY = "gutcheck_band_views_current"


def _with_current(score: Score, index: int, bands: tuple[BandView, ...]) -> tuple[BandView, ...]:
    """Return `bands` with band `index` marked current (made once per app, score and band)."""
    views: dict[tuple[str, int], tuple[BandView, ...]] = current_app.extensions.setdefault(_CURRENT_KEY, {})
    found = views.get((score.id, index))
    if found is None:
        current = dataclasses.replace(bands[index], current=True)
        found = views[(score.id, index)] = (*bands[:index], current, *bands[index + 1 :])
    return found


def _bands(score: Score) -> tuple[BandView, ...]:
    """Return a score's bands on a 0-100 scale, none marked current (made once per app and score).

    Band geometry depends on the questionnaire only, so it is kept with the app that loaded it.
    """
    views: dict[str, tuple[BandView, ...]] = current_app.extensions.setdefault(_BANDS_KEY, {})
    found = views.get(score.id)
    if found is None:
        found = views[score.id] = _band_views(score)
    return found


def _band_views(score: Score) -> tuple[BandView, ...]:
    span = score.maximum - score.minimum
    bands = []
    for index, band in enumerate(score.bands):
        start = _percent(band.minimum - score.minimum, span)
        # Bands meet at the next step of the score's precision (2.9 then 3.0), so stretch each one
        # to the next band's start to leave no visual gap.
        following = score.bands[index + 1].minimum if index + 1 < len(score.bands) else score.maximum
        end = _percent(following - score.minimum, span)
        bands.append(
            BandView(
                label=band.label,
                low=_plain(band.minimum),
                high=_plain(band.maximum),
                x=_fmt(start),
                width=_fmt(max(end - start, Decimal(0))),
                index=index,
                current=False,
            )
        )
    return tuple(bands)


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return part * 100 / whole if whole else Decimal(0)


def _fmt(value: Decimal) -> str:
    return f"{value:.2f}"


def _plain(number: Decimal) -> str:
    if number == number.to_integral_value():
        return str(int(number))
    return str(number.normalize())
