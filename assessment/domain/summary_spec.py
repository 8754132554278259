"""The `summary:` declaration in questions.yaml: what page 1 of the clinician summary shows, in order.

The report reads only this declaration, so renaming a section or question never silently drops a
block: every id named here is checked at load with its line.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assessment.domain.mapping_reader import Reader
from assessment.domain.model import Question
from assessment.domain.model import QuestionType
from assessment.domain.yamlsource import LineList
from assessment.domain.yamlsource import LineMap

SUMMARY_KEYS = ("header", "hidden", "story", "blocks")
HEADER_KEYS = ("name", "age", "sex")
SLOT_KEYS = ("question", "score", "scales", "text", "words", "skip", "at_least", "most", "none")
SLOT_SOURCES = ("question", "score", "scales")
BLOCK_KEYS = ("title", "show", "questions", "scores", "medicines")
BLOCK_KINDS = ("show", "questions", "scores", "medicines")
SHOWN = ("alarms", "safety_net")
MEDICINE_KEYS = ("question", "taken", "name", "product", "dose", "weeks", "effect")
MEDICINE_DETAILS = ("product", "dose", "weeks", "effect")
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTI, QuestionType.YES_NO})


@dataclass(frozen=True, slots=True)
class StorySlot:
    """One piece of the story sentence, from a question's answer, a score's band or several scales."""

    question: str = ""
    score: str = ""
    # Scale questions and the word each is called in the sentence ("gas" -> "wind").
    scales: tuple[tuple[str, str], ...] = ()
    text: str = "{answer}"
    words: tuple[tuple[str, str], ...] = ()
    skip: tuple[str, ...] = ()
    at_least: int = 1
    most: int = 3
    none: str = ""


@dataclass(frozen=True, slots=True)
class MedicineRow:
    """A row (or, for a multi question, one row per option ticked) of the medicines table."""

    question: str
    taken: tuple[str, ...] = ()
    name: str = ""
    product: str = ""
    dose: str = ""
    weeks: str = ""
    effect: str = ""


@dataclass(frozen=True, slots=True)
class SummaryBlock:
    """A titled block of page 1: a built-in box (`show`), answers, scores or the medicines table."""

    title: str
    show: str = ""
    questions: tuple[str, ...] = ()
    scores: tuple[str, ...] = ()
    medicines: tuple[MedicineRow, ...] = ()


@dataclass(frozen=True, slots=True)
class SummarySpec:
    """Page 1 as declared: header questions, the story's parts, and the blocks in reading order."""

    name: str = ""
    age: str = ""
    sex: str = ""
    story: tuple[tuple[StorySlot, ...], ...] = ()
    blocks: tuple[SummaryBlock, ...] = ()
    hidden: frozenset[str] = frozenset()


# Without a `summary:` part, page 1 still shows the safety boxes and every score.
DEFAULT_BLOCKS = (
    SummaryBlock("Alarm features", show="alarms"),
    SummaryBlock("Safety net given to the person", show="safety_net"),
)


class _SummaryReader:
    """Reads the `summary:` part, reporting every unknown id with its line."""

    def __init__(self, r: Reader, questions: Mapping[str, Question], score_ids: list[str]) -> None:
        self.r = r
        self.questions = questions
        self.score_ids = score_ids
        self.hidden: frozenset[str] = frozenset()

    def question(self, m: LineMap, key: str, what: str, *, page_one: bool = True) -> str:
        """Return a question id under key, reporting an unknown or hidden one."""
        qid = self.r.text(m, key, what)
        if not qid:
            return ""
        if qid not in self.questions:
            self.r.report(m.line_of(key), f"{what}: unknown question '{qid}'")
            return ""
        if page_one and qid in self.hidden:
            self.r.report(
                m.line_of(key), f"{what}: '{qid}' is listed under summary hidden, so page 1 cannot show it"
            )
            return ""
        return qid

    def ids(self, raw: Any, line: int, what: str) -> list[tuple[str, int]]:
        """Return a list of ids with their lines."""
        if not isinstance(raw, LineList):
            self.r.report(line, f"{what} must be a list of ids")
            return []
        lines = raw.item_lines if len(raw.item_lines) == len(raw) else [line] * len(raw)
        out = []
        for item, item_line in zip(raw, lines, strict=True):
            if not isinstance(item, str):
                self.r.report(item_line, f"{what}: each entry must be an id")
                continue
            out.append((item, item_line))
        return out

    def read(self, raw: Any, line: int) -> SummarySpec | None:
        m = self.r.mapping(raw, line, "summary", allowed=SUMMARY_KEYS, required=("blocks",))
        if m is None:
            return None
        hidden = []
        for qid, qline in (
            self.ids(m["hidden"], m.line_of("hidden"), "summary hidden") if "hidden" in m else []
        ):
            if qid not in self.questions:
                self.r.report(qline, f"summary hidden: unknown question '{qid}'")
            hidden.append(qid)
        self.hidden = frozenset(hidden)
        header: dict[str, str] = {}
        if "header" in m:
            hm = self.r.mapping(m["header"], m.line_of("header"), "summary header", allowed=HEADER_KEYS)
            if hm is not None:
                header = {k: self.question(hm, k, "summary header", page_one=False) for k in hm}
        story = self.story(m) if "story" in m else ()
        blocks = self.blocks(m)
        return SummarySpec(story=story, blocks=blocks, hidden=self.hidden, **header)

    # -- the story ------------------------------------------------------------------------

    def story(self, m: LineMap) -> tuple[tuple[StorySlot, ...], ...]:
        parts = self.r.sequence(m, "story", "summary")
        out = []
        for part, part_line in _items(parts):
            if not isinstance(part, LineList) or not part:
                self.r.report(part_line, "summary story: each part must be a list of slots")
                continue
            slots = [self.slot(raw, slot_line) for raw, slot_line in _items(part)]
            out.append(tuple(s for s in slots if s is not None))
        return tuple(p for p in out if p)

    def slot(self, raw: Any, line: int) -> StorySlot | None:
        what = "summary story slot"
        sm = self.r.mapping(raw, line, what, allowed=SLOT_KEYS)
        if sm is None:
            return None
        sources = [k for k in SLOT_SOURCES if k in sm]
        if len(sources) != 1:
            self.r.report(sm.line, f"{what}: name exactly one of 'question', 'score' or 'scales'")
            return None
        text = self.r.text(sm, "text", what, default="{answer}")
        self.placeholders(sm.line_of("text"), what, text)
        slot = StorySlot(
            text=text,
            at_least=self.r.integer(sm, "at_least", what, default=1),
            most=self.r.integer(sm, "most", what, default=3),
            none=self.r.text(sm, "none", what, default=""),
        )
        if "scales" in sm:
            return self.scales(sm, slot)
        values: list[str] = []
        if "question" in sm:
            qid = self.question(sm, "question", what)
            if not qid:
                return None
            question = self.questions[qid]
            values = [o.value for o in question.options]
            slot = dataclasses.replace(slot, question=qid)
            if question.type not in CHOICE_TYPES and ("words" in sm or "skip" in sm):
                self.r.report(sm.line, f"{what}: 'words' and 'skip' need a question with options")
        else:
            sid = self.r.text(sm, "score", what)
            if sid not in self.score_ids:
                self.r.report(sm.line_of("score"), f"{what}: unknown score '{sid}'")
                return None
            slot = dataclasses.replace(slot, score=sid)
        words = self.words(sm, what, values) if values or slot.score else ()
        skip = self.skip(sm, what, values) if values or slot.score else ()
        return dataclasses.replace(slot, words=words, skip=skip)

    def scales(self, sm: LineMap, slot: StorySlot) -> StorySlot | None:
        what = "summary story slot"
        raw = sm["scales"]
        if not isinstance(raw, LineMap) or not raw:
            self.r.report(sm.line_of("scales"), f"{what}: scales must map question ids to words")
            return None
        chosen = []
        for qid in raw:
            question = self.questions.get(qid)
            if question is None:
                self.r.report(raw.line_of(qid), f"{what}: unknown question '{qid}'")
            elif not question.type.is_numeric:
                self.r.report(raw.line_of(qid), f"{what}: '{qid}' is not a number question")
            elif qid in self.hidden:
                self.r.report(raw.line_of(qid), f"{what}: '{qid}' is listed under summary hidden")
            else:
                chosen.append((qid, self.r.text(raw, qid, what)))
        return dataclasses.replace(slot, scales=tuple(chosen)) if chosen else None

    def words(self, sm: LineMap, what: str, values: list[str]) -> tuple[tuple[str, str], ...]:
        if "words" not in sm:
            return ()
        raw = sm["words"]
        if not isinstance(raw, LineMap):
            self.r.report(sm.line_of("words"), f"{what}: words must map answers to words")
            return ()
        for value in raw:
            if values and value not in values:
                self.r.report(raw.line_of(value), f"{what}: words names '{value}', which is not an option")
        return tuple((value, self.r.text(raw, value, what, default="")) for value in raw)

    def skip(self, sm: LineMap, what: str, values: list[str]) -> tuple[str, ...]:
        if "skip" not in sm:
            return ()
        found = self.ids(sm["skip"], sm.line_of("skip"), f"{what} skip")
        for value, line in found:
            if values and value not in values:
                self.r.report(line, f"{what}: skip names '{value}', which is not an option")
        return tuple(v for v, _ in found)

    def placeholders(self, line: int, what: str, text: str) -> None:
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
        except ValueError as exc:
            self.r.report(line, f"{what}: {exc}")
            return
        if names - {"answer"}:
            self.r.report(line, f"{what}: text may use only {{answer}}")

    # -- the blocks -----------------------------------------------------------------------

    def blocks(self, m: LineMap) -> tuple[SummaryBlock, ...]:
        out = []
        for raw, line in _items(self.r.sequence(m, "blocks", "summary")):
            bm = self.r.mapping(raw, line, "summary block", allowed=BLOCK_KEYS, required=("title",))
            if bm is None:
                continue
            title = self.r.text(bm, "title", "summary block")
            what = f"summary block '{title}'"
            kinds = [k for k in BLOCK_KINDS if k in bm]
            if len(kinds) != 1:
                self.r.report(bm.line, f"{what}: give exactly one of {', '.join(BLOCK_KINDS)}")
                continue
            kind = kinds[0]
            if kind == "show":
                show = self.r.text(bm, "show", what)
                if show not in SHOWN:
                    self.r.report(bm.line_of("show"), f"{what}: show must be one of {', '.join(SHOWN)}")
                    continue
                out.append(SummaryBlock(title, show=show))
            elif kind == "questions":
                qids = self.block_questions(bm, what)
                out.append(SummaryBlock(title, questions=qids))
            elif kind == "scores":
                found = self.ids(bm["scores"], bm.line_of("scores"), f"{what} scores")
                for sid, sline in found:
                    if sid not in self.score_ids:
                        self.r.report(sline, f"{what}: unknown score '{sid}'")
                out.append(SummaryBlock(title, scores=tuple(s for s, _ in found if s in self.score_ids)))
            else:
                rows = self.medicines(bm, what)
                out.append(SummaryBlock(title, medicines=rows))
        return tuple(out)

    def block_questions(self, bm: LineMap, what: str) -> tuple[str, ...]:
        out = []
        for qid, line in self.ids(bm["questions"], bm.line_of("questions"), f"{what} questions"):
            if qid not in self.questions:
                self.r.report(line, f"{what}: unknown question '{qid}'")
            elif qid in self.hidden:
                self.r.report(
                    line, f"{what}: '{qid}' is listed under summary hidden, so page 1 cannot show it"
                )
            else:
                out.append(qid)
        return tuple(out)

    def medicines(self, bm: LineMap, what: str) -> tuple[MedicineRow, ...]:
        raw = bm["medicines"]
        if not isinstance(raw, LineList):
            self.r.report(bm.line_of("medicines"), f"{what}: medicines must be a list of rows")
            return ()
        rows = []
        for item, line in _items(raw):
            mm = self.r.mapping(item, line, f"{what} row", allowed=MEDICINE_KEYS, required=("question",))
            if mm is None:
                continue
            qid = self.question(mm, "question", f"{what} row")
            if not qid:
                continue
            question = self.questions[qid]
            taken: tuple[str, ...] = ()
            if question.type in CHOICE_TYPES:
                found = self.ids(mm.get("taken"), mm.line_of("taken"), f"{what} row '{qid}' taken")
                values = {o.value for o in question.options}
                for value, vline in found:
                    if value not in values:
                        self.r.report(
                            vline, f"{what} row '{qid}': taken names '{value}', which is not an option"
                        )
                taken = tuple(v for v, _ in found)
            details = {k: self.question(mm, k, f"{what} row '{qid}'") for k in MEDICINE_DETAILS if k in mm}
            name = self.r.text(mm, "name", f"{what} row", default="")
            rows.append(MedicineRow(qid, taken, name, **details))
        return tuple(rows)


def read_summary(
    r: Reader, top: LineMap, questions: Mapping[str, Question], score_ids: list[str]
) -> SummarySpec:
    """Read the `summary:` part (or give the default page 1 when there is none)."""
    if "summary" not in top:
        return SummarySpec(blocks=DEFAULT_BLOCKS)
    spec = _SummaryReader(r, questions, score_ids).read(top["summary"], top.line_of("summary"))
    return spec or SummarySpec(blocks=DEFAULT_BLOCKS)


def _items(seq: LineList) -> list[tuple[Any, int]]:
    lines = seq.item_lines if len(seq.item_lines) == len(seq) else [seq.line] * len(seq)
    return list(zip(seq, lines, strict=True))
