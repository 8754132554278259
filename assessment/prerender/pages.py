"""The pre-rendered pages, links and checks behind the PRERENDER switch (see the package's docstring)."""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from types import SimpleNamespace
from typing import Any

from flask import Flask
from flask import current_app
from flask import g
from flask import get_flashed_messages
from flask import has_request_context
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_wtf.csrf import generate_csrf
from itsdangerous import Signer
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from itsdangerous import want_bytes
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin
from markupsafe import Markup
from markupsafe import escape

from assessment.domain import ACT_SOON
from assessment.domain import Answers
from assessment.domain import FiredRule
from assessment.domain import Questionnaire
from assessment.domain import ScoreResult
from assessment.domain import Section
from assessment.domain import Urgency
from assessment.domain import Why
from assessment.domain.client_conditions import answer_refs
from assessment.domain.client_conditions import client_condition
from assessment.domain.client_conditions import condition_cue
from assessment.domain.client_conditions import reads_same_page
from assessment.domain.scoring import ScoreView
from assessment.domain.scoring import choice_whys
from assessment.domain.scoring import possible_results
from assessment.domain.stored_answers import StoredAnswerCheck
from assessment.domain.stored_answers import parse_stored
from assessment.once import Once
from assessment.prerender.pieces import Markers
from assessment.prerender.pieces import Pieces
from assessment.prerender.pieces import compile_page
from assessment.prerender.questions import Layout
from assessment.prerender.questions import QuestionMarkup
from assessment.prerender.questions import compile_question
from assessment.prerender.questions import grid_rows

CSRF_SALT = "wtf-csrf-token"
"""The salt Flask-WTF signs its CSRF tokens with (``flask_wtf.csrf.generate_csrf``)."""

SHELL_HOLES = ("step", "steps", "back_url", "back_text", "action", "csrf_input", "questions")
_REUSABLE = "_gutcheck_reusable"
_SHELL_REQUESTS = (("http://localhost/", "/q/"), ("http://shell-check.invalid/", "/"))

FormFor = Callable[[Section], Any]
"""A section's WTForms form class (web/forms.py's form_for): its fields give each input's values."""

ShellKey = tuple[str, bool, bool]
"""A section page's variant: section id, returning to the review page, with data-known."""

NavKey = tuple[str, str, bool, str]
"""A section page's links: section id, the visible section before it ('' for none, and when returning
to the review page), returning to the review page, the review row to return to ('' for none)."""

BACK_TEXT = "Back"
BACK_TO_REVIEW_TEXT = "Back to your answers"


@dataclass(frozen=True, slots=True)
class ClientCondition:
    """A same-page visible_if as JSON for the browser script, and the answers it reads."""

    json: str
    reads: frozenset[str]


@dataclass(frozen=True, slots=True)
class SectionNav:
    """A section page's step, Back link and form action: as section.html reads them (`values`), and
    escaped as UTF-8 for its shell's holes (`html`)."""

    values: Mapping[str, Any]
    html: Mapping[str, bytes]


@dataclass(frozen=True, slots=True)
class PageLinks:
    """The links on every page (base.html)."""

    css: str
    js: str
    icon: str
    start: str
    guidance: str
    about: str  # '' without an about page


class Prerender:
    """What is made once per process to answer requests fast; `enabled` is the PRERENDER switch."""

    def __init__(
        self,
        questionnaire: Questionnaire,
        enabled: bool,
        conditions: Mapping[str, ClientCondition],
        questions: Mapping[str, QuestionMarkup],
    ) -> None:
        self.questionnaire = questionnaire
        self.enabled = enabled
        self.conditions = conditions  # same-page conditions, always used
        self.questions = questions  # each question's markup, always used
        self._urls: dict[tuple[Any, ...], Any] = {}
        self._shells: Once[dict[ShellKey, Pieces[bytes]]] = Once()
        self._results: Once[ResultsParts] = Once()
        self._checks: Once[StoredAnswerCheck] = Once()
        self._navs: Once[dict[NavKey, SectionNav]] = Once()

    def url(self, endpoint: str, **values: Any) -> str:
        """Return url_for(endpoint, **values), built once per process when no request changes it."""
        if not (self.enabled and _reusable()):
            return url_for(endpoint, **values)
        key = (endpoint, *values.items())
        found: str | None = self._urls.get(key)
        if found is None:
            found = self._urls[key] = url_for(endpoint, **values)
        return found

    def section_url(self, section_id: str, *, review: bool = False, row: str = "") -> str:
        """Return the URL of a section page (returning to the review page, at a row, if asked)."""
        values: dict[str, Any] = {"section_id": section_id}
        if review:
            values["return"] = "review"  # a Python keyword, so it cannot be passed by name
            if row:
                values["row"] = row
        return self.url("questionnaire.section", **values)

    def section_nav(self, key: NavKey) -> SectionNav:
        """Return a section page's step, Back link and form action; made for every variant at once,
        at the first page, when no request changes them (as `url`)."""
        if self.enabled and _reusable():
            found = self._navs.get(lambda: _build_navs(self)).get(key)
            if found is not None:
                return found
        return _section_nav(self, key)

    def page_links(self, about_slug: str | None) -> PageLinks:
        """Return the links on every page (one call per page), built once per process when they can be."""
        if not (self.enabled and _reusable()):
            return _page_links(about_slug)
        found: PageLinks | None = self._urls.get(("page_links", about_slug))
        if found is None:
            found = self._urls[("page_links", about_slug)] = _page_links(about_slug)
        return found

    def section_page(self, key: ShellKey, nav: SectionNav, page: Mapping[str, Any]) -> bytes | None:
        """Return the section page joined from its shell (UTF-8), or None when it must be rendered."""
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        shell = self.shell(app, key)
        if shell is None:
            return None
        holes = {k: (v if isinstance(v, Markup) else escape(v)).encode() for k, v in page.items()}
        return shell.fill({**nav.html, **holes})

    def shell(self, app: Flask, key: ShellKey) -> Pieces[bytes] | None:
        """Return the pre-rendered page for this request, if it can be used."""
        shell = self._shells.get(lambda: _build_shells(app, self) if self.enabled else {}).get(key)
        # get_flashed_messages() keeps what it finds for this request, so the template still shows it.
        if shell is None or not _reusable() or get_flashed_messages():
            return None
        return shell

    @property
    def shells(self) -> dict[ShellKey, Pieces[bytes]]:
        """The section page shells made so far (none when switched off or before the first page)."""
        return self._shells.peek() or {}

    def results_parts(self) -> ResultsParts | None:
        """Return the pre-rendered results parts when this request can use them (built at the first)."""
        if not (self.enabled and _reusable()):
            return None
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return self._results.get(lambda: _build_results_parts(app, self.questionnaire))

    def results_page(self, page: Mapping[str, Any]) -> bytes | None:
        """Return the results page joined from pre-rendered pieces, or None when it must be rendered."""
        parts = self.results_parts()
        # get_flashed_messages() keeps what it finds for this request, so the template still shows it.
        return None if parts is None or get_flashed_messages() else parts.page(page)

    def warm(self, app: Flask) -> None:
        """Make now what is otherwise made at the first request that needs it.

        Called before gunicorn forks (assessment/worker.py): every worker, a recycled one too, then
        starts with the page shells, results pages and answer checks, instead of one of its first
        requests waiting while they are made. Only questionnaire text is made; no request is read.
        """
        if not self.enabled:
            return
        with app.test_request_context("/"):
            self._shells.get(lambda: _build_shells(app, self))
            self._results.get(lambda: _build_results_parts(app, self.questionnaire))
            self._checks.get(lambda: StoredAnswerCheck(self.questionnaire))
            self._navs.get(lambda: _build_navs(self))

    @property
    def results_built(self) -> bool:
        """Say whether the results parts were made."""
        return self._results.peek() is not None

    def stored_answers(self, questionnaire: Questionnaire, data: Mapping[str, object]) -> Answers:
        """Re-check stored answers as if they had just been posted: what `parse_answers` gives."""
        if not self.enabled:
            return parse_stored(questionnaire, data)
        return self._checks.get(lambda: StoredAnswerCheck(questionnaire))(data)


def _nav_keys(questionnaire: Questionnaire) -> Iterator[NavKey]:
    """Every section page's links: after no section or any earlier one, or back to each review row."""
    sections = questionnaire.sections
    for index, current in enumerate(sections):
        for previous in ("", *(s.id for s in sections[:index])):
            yield (current.id, previous, False, "")
        for row in ("", *(q.id for q in current.questions)):
            yield (current.id, "", True, row)


def _build_navs(pages: Prerender) -> dict[NavKey, SectionNav]:
    """Make every section page's links (a few hundred): only the questionnaire decides them."""
    return {key: _section_nav(pages, key) for key in _nav_keys(pages.questionnaire)}


def _section_nav(pages: Prerender, key: NavKey) -> SectionNav:
    """Work out a section page's step, Back link and form action."""
    section_id, previous, review, row = key
    ids = [s.id for s in pages.questionnaire.sections]
    if review:
        back_url, back_text = pages.url("questionnaire.review"), BACK_TO_REVIEW_TEXT
    elif previous:
        back_url, back_text = pages.section_url(previous), BACK_TEXT
    else:
        back_url, back_text = pages.url("questionnaire.start"), BACK_TEXT
    # "Step k of n": the section's place among all of them, so n never changes during a walk (a
    # page that does not apply is skipped, and its number with it).
    values = {
        "step": ids.index(section_id) + 1,
        "steps": len(ids),
        "back_url": back_url,
        "back_text": back_text,
        "action": pages.section_url(section_id, review=review, row=row),
    }
    return SectionNav(values, {name: escape(value).encode() for name, value in values.items()})


def _page_links(about_slug: str | None) -> PageLinks:
    return PageLinks(
        css=url_for("static", filename="css/app.css"),
        js=url_for("static", filename="js/app.js"),
        icon=url_for("static", filename="favicon.svg"),
        start=url_for("questionnaire.start"),
        guidance=url_for("guidance.index"),
        about=url_for("guidance.page", slug=about_slug) if about_slug else "",
    )


def _reusable() -> bool:
    """Say whether a URL or page built for this request is the same for every request (worked out
    once per request: a page asks for each link it builds)."""
    if not has_request_context():
        return False
    found: bool | None = g.get(_REUSABLE)
    if found is None:
        app = current_app
        varies = request.script_root or app.config["SERVER_NAME"] or any(app.url_default_functions.values())
        found = not varies
        setattr(g, _REUSABLE, found)
    return found


def csrf_input() -> Markup:
    """Return the hidden CSRF input, as FlaskForm would write it ('' when CSRF is off)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    if not config.get("WTF_CSRF_ENABLED", True):
        return Markup("")
    name = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    token = escape(_csrf_token(name, config.get("WTF_CSRF_SECRET_KEY", app.secret_key)))
    return Markup(f'{_csrf_input_start(name)}{token}">')


@functools.lru_cache(maxsize=4)
def _csrf_input_start(name: str) -> str:
    """The hidden input up to its value, for the field name configured (escaped once per name)."""
    return f'<input id="{escape(name)}" name="{escape(name)}" type="hidden" value="'


def _csrf_token(name: str, secret_key: Any) -> str:
    """Flask-WTF's signed token for this session, as ``generate_csrf`` makes it, with a serializer
    made once per key instead of once per page.

    Flask-WTF itself makes a session's first token, a token already made in this request, and any
    token its serializer refuses; the signing is itsdangerous's either way, and Flask-WTF checks it.
    """
    # The objects behind the proxies, each looked up once.
    request_globals = g._get_current_object()
    stored = session._get_current_object()  # type: ignore[attr-defined]
    if name in request_globals or name not in stored or secret_key is None:
        return str(generate_csrf())
    try:
        token = str(_csrf_serializer(secret_key).dumps(stored[name]))
    except TypeError:  # not a JSON value: Flask-WTF replaces it with a new one
        return str(generate_csrf())
    setattr(request_globals, name, token)
    return token


class KeyOnceSigner(TimestampSigner):
    """itsdangerous's timestamp signer with its signing key derived once, not for every token."""

    @functools.cached_property
    def _key(self) -> bytes:
        return super().derive_key()

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """The key for the newest secret (made once), or for the one given (checking an old token)."""
        return self._key if secret_key is None else super().derive_key(secret_key)


class CsrfSerializer(URLSafeTimedSerializer):
    """Flask-WTF's token serializer without the zlib attempt it makes on every token.

    itsdangerous tries to compress each payload and keeps the result only when it is shorter. A
    token Flask-WTF makes (the SHA-1 hex digest of random bytes, 42 bytes as JSON) compresses to
    about 47: never shorter, so the token comes out the same. The attempt was still the dearest
    part of a question page in a gunicorn worker (about 19 us of 29, for zlib's 256 KB of fresh
    state per call), and it let go of the GIL mid-page. Flask-WTF reads either form.
    """

    default_signer = KeyOnceSigner

    def dump_payload(self, obj: Any) -> bytes:
        """The payload as JSON in URL-safe base64, never compressed."""
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        """The signer for this serializer's salt, made once (itsdangerous makes one per token)."""
        if salt is not None and want_bytes(salt) != self.salt:
            return super().make_signer(salt)
        return self._signer

    @functools.cached_property
    def _signer(self) -> Signer:
        return super().make_signer(self.salt)


@functools.lru_cache(maxsize=4)
def _csrf_serializer(secret_key: str | bytes) -> URLSafeTimedSerializer:
    """Flask-WTF's token serializer (its salt, ``CSRF_SALT``) for this key."""
    return CsrfSerializer(secret_key, salt=CSRF_SALT)


def _build_shells(app: Flask, prerender: Prerender) -> dict[ShellKey, Pieces[bytes]]:
    """Render every section page variant with markers (see above); return those that can be used."""
    shells: dict[ShellKey, Pieces[bytes]] = {}

    def render(context: dict[str, Any]) -> str:
        return render_template("questionnaire/section.html", **context)

    conditions = prerender.conditions
    for current in prerender.questionnaire.sections:
        here = {q.id for q in current.questions}
        knows = any(conditions[q.id].reads - here for q in current.questions if q.id in conditions)
        for review in (False, True):
            for known in (False, True) if knows else (False,):
                context = {"section": current, "summary": [], "review": review}
                holes = (*SHELL_HOLES, "known") if known else SHELL_HOLES
                if not known:
                    context["known"] = ""
                built = []
                for base_url, path in _SHELL_REQUESTS:
                    # A fresh app context too: nothing reaches the g of the request being served.
                    with app.app_context(), app.test_request_context(path, base_url=base_url):
                        built.append(compile_page(render, context, holes))
                if built[0] == built[1]:
                    shells[(current.id, review, known)] = built[0].encoded()  # as results
    return shells


PageKey = tuple[Urgency, bool, int, bool, bool, bool]
"""A results page's variant: level, banner, cards held back (0, 1, more), other cards, alarm list,
answers restored from an earlier day."""


def _page_key(page: Mapping[str, Any]) -> PageKey:
    """Return the variant of a results page, from the context results.html is rendered with."""
    held, alarms = page["held_back"], page["alarms"]
    return (
        page["level"],
        bool(page["banner"]),
        held if held in (0, 1) else 2,
        bool(page["cards"]),
        bool(alarms and alarms.features),
        page["dates"].restored,
    )


@dataclass(frozen=True, slots=True)
class ResultsParts:
    """The pre-rendered results pages, cards, "why" lines, alarm items, charts and table rows."""

    pages: dict[PageKey, Pieces[bytes]]  # all of it UTF-8 (Pieces.encoded says why)
    cards: dict[tuple[str, Urgency, str, bool], Pieces[bytes]]  # with its "why" list's items as a hole
    why_items: dict[str, Pieces[bytes]]
    alarm_item: Pieces[bytes]
    scores: dict[tuple[str, int], tuple[Pieces[bytes], Pieces[bytes]]]  # chart and table row, by band
    # Every value a score can show (by score id and str(value)): its chart and row, filled in.
    score_html: dict[tuple[str, str], tuple[bytes, bytes]] = field(default_factory=dict)
    # Every "why" line a chosen option can give (by label and value), filled in.
    why_html: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def page(self, page: Mapping[str, Any]) -> bytes | None:
        """Return the page for results.html's context, or None when no variant was pre-rendered."""
        pieces = self.pages.get(_page_key(page))
        if pieces is None:
            return None
        dates, alarms = page["dates"], page["alarms"]
        features = alarms.features if alarms else ()
        found = self.score_html.get
        scores = [found((r.score.id, str(r.value))) or self.score(r) for r in page["scores"]]
        return pieces.fill(
            {
                "dates": _html(dates.text),
                "answered_on": _html(dates.answered_on) if dates.restored else b"",
                "alarms": b"".join(
                    self.alarm_item.fill({"label": _html(f.label), "answer": _html(f.answer)})
                    for f in features
                ),
                "banner": b"".join(self.card(fired) for fired in page["banner"]),
                "held_back": str(page["held_back"]).encode(),
                "cards": b"".join(self.card(fired) for fired in page["cards"]),
                "charts": b"".join([chart for chart, _ in scores]),
                "rows": b"".join([row for _, row in scores]),
            }
        )

    def score(self, result: ScoreResult) -> tuple[bytes, bytes]:
        """Return a score's chart and table row, filled in with its value."""
        chart, row = self.scores[(result.score.id, result.band_index)]
        values = {"display": _html(result.display), "marker": _html(result.bar_marker)}
        return chart.fill(values), row.fill(values)

    def card(self, fired: FiredRule) -> bytes:
        """Return a fired rule's card, with its "why" lines filled in."""
        why = fired.why
        pieces = self.cards[(fired.id, fired.urgency, fired.message, bool(why))]
        if not why:
            return pieces.fill({})
        found = self.why_html.get
        return pieces.fill({"items": b"".join([found((w.label, w.value)) or self.why_item(w) for w in why])})

    def why_item(self, item: Why) -> bytes:
        """Return one "why" line: an answer or score and the value it had."""
        return self.why_items[item.label].fill({"value": _html(item.value)})


def _html(text: str) -> bytes:
    """Escape text for HTML, as UTF-8 (the results page is joined from bytes)."""
    return escape(text).encode()


def _build_results_parts(app: Flask, questionnaire: Questionnaire) -> ResultsParts:
    """Render every page variant, card, "why" line, alarm item and chart, with markers."""
    module: Any = app.jinja_env.get_template("results/_parts.html").module
    mark = Markers()
    with app.app_context(), app.test_request_context("/results"):
        cards = _cards(questionnaire, module, mark)
        labels = {q.label for q in questionnaire.questions.values()} | {s.label for s in questionnaire.scores}
        why_items = {
            label: mark.cut(module.why_item(label, mark("value")), ["value"]).encoded() for label in labels
        }
        feature = SimpleNamespace(label=mark("label"), answer=mark("answer"))
        alarm_item = mark.cut(module.alarm_item(feature), ["label", "answer"]).encoded()
        scores = _scores(questionnaire, module, mark)
        pages = {
            _page_key(page): mark.cut(render_template("results/results.html", **page)).encoded()
            for page in _pages(questionnaire, mark)
        }
    parts = ResultsParts(pages, cards, why_items, alarm_item, scores)
    # A score's value has a few hundred possible forms at most: each chart and row is made now.
    for score in questionnaire.scores:
        parts.score_html.update({(score.id, str(r.value)): parts.score(r) for r in possible_results(score)})
    parts.why_html.update({(why.label, why.value): parts.why_item(why) for why in choice_whys(questionnaire)})
    return parts


def _pages(questionnaire: Questionnaire, mark: Markers) -> list[dict[str, Any]]:
    """The context of every results page variant, each list one item whose HTML is a marker."""
    pages = []
    for level, held, cards, alarmed, restored in itertools.product(Urgency, (0, 1, 2), *[(False, True)] * 3):
        acts_soon = level in ACT_SOON
        if (held and not acts_soon) or (alarmed and acts_soon):
            continue  # never shown: cards are held back only behind a banner, alarms listed without one
        dates = SimpleNamespace(text=mark("dates"), restored=restored, answered_on=mark("answered_on"))
        page = {
            "level": level,
            "acts_soon": acts_soon,
            "alarms": SimpleNamespace(features=[None]) if alarmed else None,
            "banner": [None] if acts_soon else [],
            "held_back": mark("held_back") if held == 2 else held,
            "cards": [None] if cards else [],
            "scores": [None] if questionnaire.scores else [],
            "pages": questionnaire.guidance,
            "title_of": lambda fired: questionnaire.rule_title(fired.rule),
            "dates": dates,
            "meta": questionnaire.meta,
        }
        holes = ("alarms", "banner", "cards", "charts", "rows")
        pages.append(page | {f"{hole}_html": [mark(hole)] for hole in holes})
    return pages


def _cards(
    questionnaire: Questionnaire, module: Any, mark: Markers
) -> dict[tuple[str, Urgency, str, bool], Pieces[bytes]]:
    """One card per rule and variant, with and without a "why" block."""
    cards: dict[tuple[str, Urgency, str, bool], Pieces[bytes]] = {}
    for rule in questionnaire.rules:
        for urgency, message in set(rule.forms):
            fired = FiredRule(rule, urgency, message)
            title = questionnaire.rule_title(rule)
            for with_why in (False, True):
                why = module.why_list((), items_html=mark("items")) if with_why else Markup("")
                html = module.rule_card(fired, title, questionnaire.guidance, heading_level=3, why=why)
                cards[(rule.id, urgency, message, with_why)] = mark.cut(html, ["items"] * with_why).encoded()
    return cards


def _scores(
    questionnaire: Questionnaire, module: Any, mark: Markers
) -> dict[tuple[str, int], tuple[Pieces[bytes], Pieces[bytes]]]:
    """One chart and one table row per score and band (or none) the value fell in."""
    found: dict[tuple[str, int], tuple[Pieces[bytes], Pieces[bytes]]] = {}
    for score in questionnaire.scores:
        holes = ["display", "marker"] if score.show_value else []
        for index in range(-1, len(score.bands)):
            view = ScoreView(score, index, mark("display"), mark("marker"))
            chart = mark.cut(module.score_chart(view), holes).encoded()
            found[(score.id, index)] = (chart, mark.cut(module.score_row(view), holes[:1]).encoded())
    return found


def build(app: Flask, questionnaire: Questionnaire, form_for: FormFor) -> Prerender:
    """Translate every same-page condition for the browser and render every question's HTML, once.

    `form_for` gives a section's WTForms form class (the web layer's); building each here also
    surfaces a reserved question id before any request.
    """
    conditions: dict[str, ClientCondition] = {}
    cues: dict[str, str] = {}
    for section in questionnaire.sections:
        form_for(section)
        for question in section.questions:
            if question.visible_if is None or not reads_same_page(question, section):
                continue
            condition = client_condition(question.visible_if, questionnaire.questions)
            if condition is not None:
                conditions[question.id] = ClientCondition(
                    json.dumps(condition, separators=(",", ":")), frozenset(answer_refs(condition))
                )
                cues[question.id] = condition_cue(condition, questionnaire.questions)
    macro = app.jinja_env.get_template("macros/fields.html").module.render_question  # type: ignore[attr-defined]
    markup: dict[str, QuestionMarkup] = {}
    with app.app_context():
        for section in questionnaire.sections:
            # Bound only to read each field's choices, id and attributes: no request, no CSRF.
            form = form_for(section)(formdata=None, meta={"csrf": False})
            rows = grid_rows(section.questions)
            for question in section.questions:
                shown_if = conditions[question.id].json if question.id in conditions else ""
                layout = Layout(cue=cues.get(question.id, ""), row=question.id in rows)
                markup[question.id] = compile_question(
                    question, form.field(question.id), shown_if, macro, layout
                )
    return Prerender(questionnaire, bool(app.config.get("PRERENDER", True)), conditions, markup)
