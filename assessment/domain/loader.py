"""Load questions.yaml into the frozen model, checking everything an author can get wrong."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from assessment.domain.declarations import check_time_frame
from assessment.domain.declarations import read_alarm
from assessment.domain.declarations import read_levels
from assessment.domain.declarations import read_retired
from assessment.domain.declarations import read_urgency
from assessment.domain.errors import Problem
from assessment.domain.errors import QuestionnaireError
from assessment.domain.expressions import Expression
from assessment.domain.expressions import ExpressionProblem
from assessment.domain.expressions import Schema
from assessment.domain.expressions import build_schema
from assessment.domain.expressions import compile_expression
from assessment.domain.guidance import load_guidance
from assessment.domain.mapping_reader import Reader
from assessment.domain.model import Band
from assessment.domain.model import GuidancePage
from assessment.domain.model import Meta
from assessment.domain.model import Option
from assessment.domain.model import Question
from assessment.domain.model import Questionnaire
from assessment.domain.model import QuestionType
from assessment.domain.model import Rule
from assessment.domain.model import Score
from assessment.domain.model import Section
from assessment.domain.model import Source
from assessment.domain.model import SourcePos
from assessment.domain.model import Variant
from assessment.domain.summary_spec import read_summary
from assessment.domain.yamlsource import LineList
from assessment.domain.yamlsource import LineMap
from assessment.domain.yamlsource import load_yaml

ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
RULE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")

TOP_KEYS = ("meta", "levels", "sections", "scores", "rules", "summary")
META_KEYS = ("id", "version", "title", "recall", "safety_net")
SECTION_KEYS = ("id", "title", "intro", "visible_if", "questions")
QUESTION_KEYS = (
    "id",
    "type",
    "label",
    "short_label",
    "hint",
    "required",
    "visible_if",
    "options",
    "exclusive",
    "min",
    "max",
    "decimals",
    "unit",
    "max_length",
    "multiline",
    "min_label",
    "max_label",
    "alarm",
    "retired_options",
    "error",
)
OPTION_KEYS = ("value", "label", "hint", "score")
SCORE_KEYS = (
    "id",
    "label",
    "description",
    "formula",
    "range",
    "decimals",
    "bands",
    "unvalidated",
    "show_value",
)
BAND_KEYS = ("min", "max", "label")
RULE_KEYS = ("id", "title", "when", "urgency", "stop", "guidance", "message", "variants")
VARIANT_KEYS = ("when", "urgency", "message")

# Which keys make sense for which question type; others are reported as mistakes.
TYPE_KEYS: dict[QuestionType, frozenset[str]] = {
    QuestionType.SCALE: frozenset({"min_label", "max_label", "alarm"}),
    QuestionType.INTEGER: frozenset({"min", "max", "unit", "alarm"}),
    QuestionType.NUMBER: frozenset({"min", "max", "unit", "decimals", "alarm"}),
    QuestionType.SINGLE: frozenset({"options", "alarm", "retired_options"}),
    QuestionType.MULTI: frozenset({"options", "exclusive", "alarm", "retired_options"}),
    QuestionType.YES_NO: frozenset({"alarm"}),
    QuestionType.TEXT: frozenset({"max_length", "multiline"}),
}
COMMON_KEYS = frozenset({"id", "type", "label", "short_label", "hint", "required", "visible_if", "error"})
# A short label names the question on the clinician summary, beside its answer.
SHORT_LABEL_MAX = 48
YES_NO_OPTIONS = (Option("yes", "Yes"), Option("no", "No"))
SCALE_MIN, SCALE_MAX = Decimal(0), Decimal(10)


def load_questionnaire(path: Path | str, guidance_dir: Path | str | None = None) -> Questionnaire:
    """Read and check a questionnaire file (and its guidance pages); raise QuestionnaireError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError([Problem(path.name, 1, f"cannot read the file: {exc}")]) from None
    guidance: dict[str, GuidancePage] | None = None
    problems: list[Problem] = []
    sources: dict[str, Source] = {}
    if guidance_dir is not None:
        guidance, sources, guidance_problems = load_guidance(Path(guidance_dir))
        problems.extend(guidance_problems)
    try:
        questionnaire = parse_questionnaire(text, path.name, guidance)
    except QuestionnaireError as exc:
        problems.extend(exc.problems)
        raise QuestionnaireError(problems) from None
    if problems:
        raise QuestionnaireError(problems)
    return dataclasses.replace(questionnaire, sources=sources)


def parse_questionnaire(
    text: str, filename: str, guidance: Mapping[str, GuidancePage] | None = None
) -> Questionnaire:
    """Build the model from YAML text; guidance=None skips the check that pages exist."""
    tree, problems = load_yaml(text, filename)
    reader = Reader(filename)
    reader.problems.extend(problems)
    if tree is None:
        raise QuestionnaireError(reader.problems)
    builder = _Builder(reader, guidance)
    questionnaire = builder.build(tree)
    if reader.problems or questionnaire is None:
        raise QuestionnaireError(reader.problems)
    return questionnaire


class _Builder:
    """Turns the YAML tree into the model in two passes: structure first, expressions second."""

    def __init__(self, reader: Reader, guidance: Mapping[str, GuidancePage] | None) -> None:
        self.reader = reader
        self.guidance = guidance
        self.question_order: dict[str, int] = {}
        # visible_if is compiled in the second pass, once every question is known.
        self._raw_visible: dict[tuple[str, str | None], tuple[Any, int]] = {}

    def pos(self, line: int) -> SourcePos:
        return SourcePos(self.reader.filename, line)

    def build(self, tree: Any) -> Questionnaire | None:
        top = self.reader.mapping(tree, 1, "the file", allowed=TOP_KEYS, required=("meta", "sections"))
        if top is None:
            return None
        meta = self.meta(top)
        levels = read_levels(self.reader, top) if "levels" in top else {}
        if "levels" not in top and top.get("rules"):
            need = "rules need 'levels' (the five urgency levels and their time frames)"
            self.reader.report(top.line_of("rules"), need)
        sections = self.sections(top)
        questions = {q.id: q for s in sections for q in s.questions}
        raw_scores = self.reader.sequence(top, "scores", "the file", required=False)
        raw_rules = self.reader.sequence(top, "rules", "the file", required=False)
        score_ids = self.ids(raw_scores, "score", ID)
        rule_ids = self.ids(raw_rules, "rule", RULE_ID)
        schema = build_schema(questions, score_ids, rule_ids)
        sections = self.compile_visibility(sections, schema)
        questions = {q.id: q for s in sections for q in s.questions}
        scores = tuple(s for s in (self.score(item, line, schema) for item, line in _items(raw_scores)) if s)
        rules = tuple(r for r in (self.rule(item, line, schema) for item, line in _items(raw_rules)) if r)
        summary = read_summary(self.reader, top, questions, score_ids)
        if meta is None:
            return None
        return Questionnaire(
            meta=meta,
            sections=sections,
            scores=scores,
            rules=rules,
            levels=levels,
            guidance=dict(self.guidance or {}),
            questions=questions,
            summary=summary,
        )

    # -- identity -------------------------------------------------------------------------

    def meta(self, top: LineMap) -> Meta | None:
        m = self.reader.mapping(
            top.get("meta"),
            top.line_of("meta"),
            "meta",
            allowed=META_KEYS,
            required=("id", "version", "title"),
        )
        if m is None:
            return None
        return Meta(
            id=self.reader.ident(m, "id", "meta", re.compile(r"[a-z][a-z0-9_-]*")),
            version=self.reader.text(m, "version", "meta"),
            title=self.reader.text(m, "title", "meta"),
            recall=self.reader.text(m, "recall", "meta", default=""),
            safety_net=self.reader.text(m, "safety_net", "meta", default=""),
        )

    def ids(self, items: LineList, what: str, pattern: re.Pattern[str]) -> list[str]:
        """Collect the ids of scores or rules, reporting duplicates where they repeat."""
        seen: dict[str, int] = {}
        for item in items:
            if not isinstance(item, LineMap) or not isinstance(item.get("id"), str):
                continue
            ident = item["id"]
            if ident in seen:
                self.reader.report(
                    item.line_of("id"),
                    f"duplicate {what} id '{ident}' (first used on line {seen[ident]})",
                )
            elif pattern.fullmatch(ident):
                seen[ident] = item.line_of("id")
        return list(seen)

    # -- sections and questions -----------------------------------------------------------

    def entry(
        self,
        item: Any,
        line: int,
        kind: str,
        allowed: Collection[str],
        required: Collection[str],
        pattern: re.Pattern[str],
    ) -> tuple[LineMap, str] | None:
        """Read one section, score or rule mapping and its id; None (reported) if it is no mapping."""
        m = self.reader.mapping(item, line, _named(kind, item), allowed=allowed, required=required)
        if m is None:
            return None
        return m, self.reader.ident(m, "id", kind, pattern)

    def sections(self, top: LineMap) -> tuple[Section, ...]:
        """Read the sections and their questions; ids must be unique across the file."""
        raw = self.reader.sequence(top, "sections", "the file")
        section_ids: dict[str, int] = {}
        question_lines: dict[str, int] = {}
        out: list[Section] = []
        for item, line in _items(raw):
            found = self.entry(item, line, "section", SECTION_KEYS, ("id", "title", "questions"), ID)
            if found is None:
                continue
            m, sid = found
            what = f"section '{sid}'"
            if sid in section_ids:
                self.reader.report(
                    m.line_of("id"),
                    f"duplicate section id '{sid}' (first used on line {section_ids[sid]})",
                )
            section_ids.setdefault(sid, m.line_of("id"))
            questions = self.section_questions(m, sid, what, question_lines)
            section = Section(
                id=sid,
                title=self.reader.text(m, "title", what),
                intro=self.reader.text(m, "intro", what, default=""),
                pos=self.pos(m.line),
                questions=tuple(questions),
            )
            out.append(section)
            self._raw_visible[(sid, None)] = (m.get("visible_if"), m.line_of("visible_if"))
        return tuple(out)

    def section_questions(
        self, m: LineMap, sid: str, what: str, question_lines: dict[str, int]
    ) -> list[Question]:
        """Read a section's questions, reporting (and dropping) an id used before in the file."""
        questions = []
        for q_item, q_line in _items(self.reader.sequence(m, "questions", what)):
            question = self.question(q_item, q_line, sid)
            if question is None:
                continue
            if question.id in question_lines:
                self.reader.report(
                    question.pos.line,
                    f"duplicate question id '{question.id}' "
                    f"(first used on line {question_lines[question.id]})",
                )
                continue
            question_lines[question.id] = question.pos.line
            self.question_order[question.id] = len(self.question_order)
            questions.append(question)
        return questions

    def question(self, item: Any, line: int, section_id: str) -> Question | None:
        m = self.reader.mapping(
            item, line, _named("question", item), allowed=QUESTION_KEYS, required=("id", "type", "label")
        )
        if m is None:
            return None
        qid = self.reader.ident(m, "id", "question", ID)
        what = f"question '{qid}'"
        type_name = self.reader.text(m, "type", what)
        try:
            qtype = QuestionType(type_name)
        except ValueError:
            names = ", ".join(t.value for t in QuestionType)
            self.reader.report(m.line_of("type"), f"{what}: unknown type '{type_name}'; use one of {names}")
            return None
        allowed = COMMON_KEYS | TYPE_KEYS[qtype]
        for key in m:
            if key in QUESTION_KEYS and key not in allowed:
                self.reader.report(
                    m.line_of(key), f"{what}: '{key}' does not apply to a {qtype.value} question"
                )
        fields: dict[str, Any] = {
            "id": qid,
            "type": qtype,
            "label": self.reader.text(m, "label", what),
            "short_label": self.short_label(m, what),
            "hint": self.reader.text(m, "hint", what, default=""),
            "required": self.reader.boolean(m, "required", what),
            "error": self.error_text(m, what),
            "pos": self.pos(m.line_of("id")),
            "section_id": section_id,
        }
        fields.update(self.type_fields(m, qtype, what))
        if qtype is not QuestionType.TEXT:
            fields["alarm"] = read_alarm(self.reader, m, qtype, fields.get("options", ()), what)
        if qtype.has_options:
            fields["retired_options"] = read_retired(self.reader, m, fields.get("options", ()), what)
        self._raw_visible[(section_id, qid)] = (m.get("visible_if"), m.line_of("visible_if"))
        return Question(**fields)

    def error_text(self, m: LineMap, what: str) -> str:
        """Return the optional missing-answer message: only a required question can show it."""
        text = self.reader.text(m, "error", what, default="")
        if text and m.get("required") is not True:
            self.reader.report(
                m.line_of("error"),
                f"{what}: 'error' is shown only when a required answer is missing; "
                "add required: true or remove it",
            )
        elif "please" in text.lower():
            self.reader.report(
                m.line_of("error"),
                f"{what}: write the error without 'please': say what to do, like 'Select how long ...'",
            )
        return text

    def short_label(self, m: LineMap, what: str) -> str:
        """Return the optional short label, which must fit beside an answer on the summary."""
        short = self.reader.text(m, "short_label", what, default="")
        if len(short) > SHORT_LABEL_MAX:
            self.reader.report(
                m.line_of("short_label"),
                f"{what}: short_label has {len(short)} characters; keep it to {SHORT_LABEL_MAX} or fewer "
                "(it names the question beside its answer on the clinician summary)",
            )
        return short

    def type_fields(self, m: LineMap, qtype: QuestionType, what: str) -> dict[str, Any]:
        if qtype is QuestionType.SCALE:
            return {
                "minimum": SCALE_MIN,
                "maximum": SCALE_MAX,
                "min_label": self.reader.text(m, "min_label", what, default=""),
                "max_label": self.reader.text(m, "max_label", what, default=""),
            }
        if qtype in (QuestionType.INTEGER, QuestionType.NUMBER):
            return self.range_fields(m, qtype, what)
        if qtype is QuestionType.YES_NO:
            return {"options": YES_NO_OPTIONS}
        if qtype is QuestionType.TEXT:
            max_length = self.reader.integer(m, "max_length", what)
            if "max_length" not in m:
                self.reader.report(m.line, f"{what}: a text question needs max_length (for example 300)")
            elif not 1 <= max_length <= 2000:
                self.reader.report(m.line_of("max_length"), f"{what}: max_length must be from 1 to 2000")
            return {"max_length": max_length, "multiline": self.reader.boolean(m, "multiline", what)}
        options = self.options(m, what)
        exclusive: tuple[str, ...] = ()
        if "exclusive" in m:
            exclusive = self.exclusive(m, what, {o.value for o in options})
        return {"options": options, "exclusive": exclusive}

    def range_fields(self, m: LineMap, qtype: QuestionType, what: str) -> dict[str, Any]:
        lo = self.reader.number(m, "min", what)
        hi = self.reader.number(m, "max", what)
        for key, value in (("min", lo), ("max", hi)):
            if value is None and key not in m:
                self.reader.report(m.line, f"{what}: '{key}' is missing (numbers must be bounded)")
        if lo is not None and hi is not None and lo > hi:
            self.reader.report(m.line_of("min"), f"{what}: min ({lo}) is greater than max ({hi})")
        if lo is not None and lo < 0:
            self.reader.report(m.line_of("min"), f"{what}: min must not be negative")
        decimals = self.reader.integer(m, "decimals", what, default=1) if qtype is QuestionType.NUMBER else 0
        if not 0 <= decimals <= 3:
            self.reader.report(m.line_of("decimals"), f"{what}: decimals must be from 0 to 3")
        return {
            "minimum": lo,
            "maximum": hi,
            "decimals": decimals,
            "unit": self.reader.text(m, "unit", what, default=""),
        }

    def options(self, m: LineMap, what: str) -> tuple[Option, ...]:
        if "options" not in m:
            self.reader.report(m.line, f"{what}: 'options' is missing")
            return ()
        raw = self.reader.sequence(m, "options", what)
        if not raw and isinstance(m.get("options"), LineList):
            self.reader.report(m.line_of("options"), f"{what}: 'options' must not be empty")
        seen: dict[str, int] = {}
        out: list[Option] = []
        for item, line in _items(raw):
            o = self.reader.mapping(
                item, line, f"{what} option", allowed=OPTION_KEYS, required=("value", "label")
            )
            if o is None:
                continue
            value = self.reader.ident(o, "value", f"{what} option", ID)
            if value in seen:
                self.reader.report(
                    o.line_of("value"),
                    f"{what}: duplicate option value '{value}' (first used on line {seen[value]})",
                )
                continue
            seen[value] = o.line_of("value")
            out.append(
                Option(
                    value=value,
                    label=self.reader.text(o, "label", f"{what} option '{value}'"),
                    hint=self.reader.text(o, "hint", f"{what} option '{value}'", default=""),
                    score=self.reader.number(o, "score", f"{what} option '{value}'"),
                )
            )
        return tuple(out)

    def exclusive(self, m: LineMap, what: str, values: set[str]) -> tuple[str, ...]:
        raw = m["exclusive"]
        items = list(raw) if isinstance(raw, LineList) else [raw]
        out = []
        for item in items:
            if not isinstance(item, str) or item not in values:
                self.reader.report(
                    m.line_of("exclusive"),
                    f"{what}: exclusive option '{item}' is not one of its option values",
                )
            else:
                out.append(item)
        return tuple(out)

    def compile_visibility(self, sections: tuple[Section, ...], schema: Schema) -> tuple[Section, ...]:
        """Compile visible_if, which may read only answers to earlier questions."""
        out = []
        for section in sections:
            first = section.questions[0].id if section.questions else None
            section_rank = self.question_order.get(first, len(self.question_order)) if first else 0
            raw, line = self._raw_visible.get((section.id, None), (None, 0))
            section_expr = self.visible(raw, line, f"section '{section.id}'", section_rank, schema)
            questions = []
            for question in section.questions:
                raw_q, line_q = self._raw_visible.get((section.id, question.id), (None, 0))
                rank = self.question_order[question.id]
                expr = self.visible(raw_q, line_q, f"question '{question.id}'", rank, schema)
                questions.append(dataclasses.replace(question, visible_if=expr))
            out.append(dataclasses.replace(section, visible_if=section_expr, questions=tuple(questions)))
        return tuple(out)

    def visible(self, raw: Any, line: int, what: str, rank: int, schema: Schema) -> Expression | None:
        if raw is None:
            return None
        expr = self.expression(raw, line, what, "visible_if", schema)
        if expr is None:
            return None
        for ref in expr.reads:
            if ref.namespace != "answers":
                self.reader.report(
                    line, f"{what}: visible_if may only read answers, not {ref.namespace}.{ref.name}"
                )
            elif self.question_order.get(ref.name, rank) >= rank:
                self.reader.report(
                    line,
                    f"{what}: visible_if reads '{ref.name}', which does not come earlier in the "
                    "questionnaire (a question can only depend on questions before it)",
                )
        return expr

    def expression(self, raw: Any, line: int, what: str, key: str, schema: Schema) -> Expression | None:
        try:
            return compile_expression(raw, schema)
        except ExpressionProblem as exc:
            quoted = " ".join(str(raw).split())
            self.reader.report(line, f"{what}: {key} '{quoted}': {exc}")
            return None

    # -- scores ---------------------------------------------------------------------------

    def score(self, item: Any, line: int, schema: Schema) -> Score | None:
        """Read one score: its formula, range and bands; None if it cannot be worked out."""
        found = self.entry(item, line, "score", SCORE_KEYS, ("id", "label", "formula", "range", "bands"), ID)
        if found is None:
            return None
        m, sid = found
        what = f"score '{sid}'"
        formula = self.score_formula(m, what, sid, schema)
        decimals = self.reader.integer(m, "decimals", what)
        if not 0 <= decimals <= 3:
            self.reader.report(m.line_of("decimals"), f"{what}: decimals must be from 0 to 3")
            decimals = 0
        lo, hi = self.score_range(m, what)
        bands = self.bands(m, what, lo, hi, decimals)
        if formula is None or lo is None or hi is None:
            return None
        return Score(
            id=sid,
            label=self.reader.text(m, "label", what),
            description=self.reader.text(m, "description", what, default=""),
            formula=formula,
            minimum=lo,
            maximum=hi,
            bands=bands,
            pos=self.pos(m.line_of("id")),
            decimals=decimals,
            unvalidated=self.reader.boolean(m, "unvalidated", what),
            show_value=self.reader.boolean(m, "show_value", what, default=True),
        )

    def score_formula(self, m: LineMap, what: str, sid: str, schema: Schema) -> Expression | None:
        """The formula, reported if it reads what is worked out after it (rules, levels, later scores)."""
        formula = self.expression(m.get("formula"), m.line_of("formula"), what, "formula", schema)
        if formula is not None:
            earlier = schema.score_ids[: schema.score_ids.index(sid)] if sid in schema.score_ids else ()
            for ref in formula.reads:
                if ref.namespace in ("rules", "levels") or (
                    ref.namespace == "scores" and ref.name not in earlier
                ):
                    self.reader.report(
                        m.line_of("formula"),
                        f"{what}: formula reads {ref.namespace}.{ref.name}, which is not worked out "
                        "before it (a score can only read answers, points and earlier scores)",
                    )
        return formula

    def score_range(self, m: LineMap, what: str) -> tuple[Decimal | None, Decimal | None]:
        raw = m.get("range")
        ok = (
            isinstance(raw, LineList)
            and len(raw) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
        )
        if not ok:
            if "range" in m:
                self.reader.report(m.line_of("range"), f"{what}: range must be two numbers, like [0, 10]")
            return None, None
        lo, hi = (Decimal(str(v)) for v in list(raw or ()))
        if lo > hi:
            self.reader.report(m.line_of("range"), f"{what}: range starts at {lo}, after its end {hi}")
            return None, None
        return lo, hi

    def bands(
        self, m: LineMap, what: str, lo: Decimal | None, hi: Decimal | None, decimals: int
    ) -> tuple[Band, ...]:
        bands: list[Band] = []
        for item, line in _items(self.reader.sequence(m, "bands", what)):
            b = self.reader.mapping(item, line, f"{what} band", allowed=BAND_KEYS, required=BAND_KEYS)
            if b is None:
                continue
            label = self.reader.text(b, "label", f"{what} band")
            bmin = self.reader.number(b, "min", f"{what} band '{label}'")
            bmax = self.reader.number(b, "max", f"{what} band '{label}'")
            if bmin is None or bmax is None:
                continue
            if bmin > bmax:
                self.reader.report(
                    b.line_of("min"), f"{what}: band '{label}' has min {bmin} above max {bmax}"
                )
                continue
            bands.append(Band(bmin, bmax, label, self.pos(b.line)))
        if lo is not None and hi is not None and bands:
            self.check_coverage(bands, what, lo, hi, decimals)
        return tuple(bands)

    def check_coverage(self, bands: list[Band], what: str, lo: Decimal, hi: Decimal, decimals: int) -> None:
        """Bands must cover the range with no gap or overlap, at the score's rounding step."""
        step = Decimal(1).scaleb(-decimals)
        for band in bands:
            if band.minimum < lo or band.maximum > hi:
                self.reader.report(
                    band.pos.line,
                    f"{what}: band '{band.label}' ({band.minimum} to {band.maximum}) lies outside "
                    f"the score's range {lo} to {hi}",
                )
        ordered = sorted(bands, key=lambda b: b.minimum)
        if ordered[0].minimum > lo:
            self.reader.report(
                ordered[0].pos.line,
                f"{what}: no band covers {lo} to {ordered[0].minimum - step} (the range starts at {lo})",
            )
        if ordered[-1].maximum < hi:
            self.reader.report(
                ordered[-1].pos.line,
                f"{what}: no band covers {ordered[-1].maximum + step} to {hi} (the range ends at {hi})",
            )
        for before, after in zip(ordered, ordered[1:], strict=False):
            expected = before.maximum + step
            if after.minimum > expected:
                last = after.minimum - step
                missing = f"the value {expected}" if last == expected else f"values {expected} to {last}"
                self.reader.report(
                    after.pos.line,
                    f"{what}: gap between bands '{before.label}' and '{after.label}': "
                    f"{missing} ha{'s' if last == expected else 've'} no band",
                )
            elif after.minimum < expected:
                self.reader.report(
                    after.pos.line,
                    f"{what}: bands '{before.label}' and '{after.label}' overlap "
                    f"({after.minimum} to {min(before.maximum, after.maximum)} is in both)",
                )

    # -- rules ----------------------------------------------------------------------------

    def rule(self, item: Any, line: int, schema: Schema) -> Rule | None:
        """Read one rule and its variants; None if its condition or urgency cannot be used."""
        found = self.entry(
            item, line, "rule", RULE_KEYS, ("id", "when", "urgency", "guidance", "message"), RULE_ID
        )
        if found is None:
            return None
        m, rid = found
        what = f"rule '{rid}'"
        when = self.rule_expression(m, what, rid, schema)
        urgency = read_urgency(self.reader, m, "urgency", what)
        guidance = self.reader.text(m, "guidance", what)
        if self.guidance is not None and guidance and guidance not in self.guidance:
            self.reader.report(
                m.line_of("guidance"),
                f"{what}: guidance page '{guidance}' does not exist "
                f"(expected templates/guidance/{guidance}.md)",
            )
        variants = self.variants(m, what, rid, schema)
        message = self.reader.text(m, "message", what)
        check_time_frame(self.reader, m.line_of("message"), what, message)
        if when is None or urgency is None:
            return None
        return Rule(
            id=rid,
            title=self.reader.text(m, "title", what, default=""),
            when=when,
            urgency=urgency,
            guidance=guidance,
            message=message,
            pos=self.pos(m.line_of("id")),
            variants=tuple(variants),
            stop=self.reader.boolean(m, "stop", what),
        )

    def variants(self, m: LineMap, what: str, rid: str, schema: Schema) -> list[Variant]:
        """A rule's variants; one whose condition cannot be used is dropped (it is reported)."""
        variants = []
        for v_item, v_line in _items(self.reader.sequence(m, "variants", what, required=False)):
            v = self.reader.mapping(
                v_item, v_line, f"{what} variant", allowed=VARIANT_KEYS, required=("when",)
            )
            if v is None:
                continue
            v_when = self.rule_expression(v, f"{what} variant", rid, schema)
            v_urgency = read_urgency(self.reader, v, "urgency", f"{what} variant") if "urgency" in v else None
            if v_when is not None:
                v_message = self.reader.text(v, "message", f"{what} variant", default="")
                check_time_frame(self.reader, v.line_of("message"), f"{what} variant", v_message)
                variants.append(Variant(v_when, v_urgency, v_message))
        return variants

    def rule_expression(self, m: LineMap, what: str, rid: str, schema: Schema) -> Expression | None:
        expr = self.expression(m.get("when"), m.line_of("when"), what, "when", schema)
        if expr is None:
            return None
        earlier = schema.rule_ids[: schema.rule_ids.index(rid)] if rid in schema.rule_ids else ()
        for ref in expr.reads:
            if ref.namespace == "rules" and ref.name not in earlier:
                self.reader.report(
                    m.line_of("when"),
                    f"{what}: reads rules.{ref.name}, which is not checked before it "
                    "(a rule can only read rules above it)",
                )
        return expr


def _named(what: str, item: Any) -> str:
    """Name a section, question, score or rule by its id when it has one, for clearer messages."""
    ident = item.get("id") if isinstance(item, LineMap) else None
    return f"{what} '{ident}'" if isinstance(ident, str) else what


def _items(seq: LineList) -> list[tuple[Any, int]]:
    lines = seq.item_lines if len(seq.item_lines) == len(seq) else [seq.line] * len(seq)
    return list(zip(seq, lines, strict=True))
