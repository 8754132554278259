"""Content safety: words the tool must never say, sources on every page, every page reachable."""

from __future__ import annotations

import re
from pathlib import Path

from assessment.config import ROOT
from assessment.domain import load_questionnaire

GUIDANCE = ROOT / "templates" / "guidance"

# Each pattern names something the tool must never do (docs/design.md, "What the tool never says").
FORBIDDEN: dict[str, re.Pattern[str]] = {
    "names a diagnosis": re.compile(
        r"\byou (?:have|suffer from|are suffering from) (?:leaky gut|ibs|irritable bowel|ibd|crohn|colitis|"
        r"coeliac|celiac|sibo|candida|cancer|an? (?:\w+ )?(?:syndrome|disease|disorder|intolerance))",
        re.IGNORECASE,
    ),
    "promises a cure": re.compile(r"\bcur(?:e|es|ed|ing)\b(?! rate)", re.IGNORECASE),
    "promises healing": re.compile(r"\bheal(?:s|ing)? (?:your|the) (?:gut|bowel|lining)", re.IGNORECASE),
    "promises repair": re.compile(r"\brepair(?:s|ed|ing)?\b", re.IGNORECASE),
    "recommends a dose": re.compile(
        r"\b(?:take|start with|start on|try taking|you should take|we recommend)\s+(?:about |around |up to )?"
        r"\d+(?:\.\d+)?\s*(?:g|grams?|mg)\b",
        re.IGNORECASE,
    ),
    "false reassurance": re.compile(r"nothing to worry about|no need to worry|don't worry", re.IGNORECASE),
    "promotes products": re.compile(r"\b(?:buy|discount|coupon|our shop|affiliate)\b", re.IGNORECASE),
}
SYNDROME = re.compile(r"leaky gut syndrome", re.IGNORECASE)
QUALIFIER = re.compile(
    r"not (?:a |an )?(?:recognised|recognized|established|formal|medical|accepted)", re.IGNORECASE
)


def product_text_files() -> list[Path]:
    """Every file whose words reach a person: questions, guidance pages, page templates."""
    files = [ROOT / "questions.yaml", *sorted(GUIDANCE.glob("*.md"))]
    files += sorted(p for p in (ROOT / "templates").rglob("*.html"))
    return files


def test_no_forbidden_wording_anywhere() -> None:
    """No file says what the tool must never say; failures name the file and line."""
    failures = []
    for path in product_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for reason, pattern in FORBIDDEN.items():
                if match := pattern.search(line):
                    failures.append(f"{path.relative_to(ROOT)}:{number}: {reason}: '{match.group(0)}'")
    assert failures == []


def test_leaky_gut_syndrome_is_always_quoted_and_qualified() -> None:
    """'leaky gut syndrome' appears only in quotes, in a paragraph that says it is not a diagnosis."""
    failures = []
    for path in product_text_files():
        paragraphs = re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
        line = 1
        for paragraph in paragraphs:
            for match in SYNDROME.finditer(paragraph):
                before = paragraph[max(0, match.start() - 1) : match.start()]
                quoted = before in ("'", '"', "\u2018", "\u201c")
                if not (quoted and QUALIFIER.search(paragraph)):
                    at = line + paragraph[: match.start()].count("\n")
                    failures.append(f"{path.relative_to(ROOT)}:{at}: unqualified 'leaky gut syndrome'")
            line += paragraph.count("\n") + 2
    assert failures == []


def test_wording_check_catches_what_it_names(tmp_path: Path) -> None:
    """The patterns really match the phrasings they exist for (so the scan above can fail)."""
    bad = {
        "names a diagnosis": "Your answers show you have leaky gut.",
        "promises a cure": "Glutamine can cure bloating.",
        "promises healing": "It helps heal your gut.",
        "promises repair": "It repairs the lining.",
        "recommends a dose": "Start with 5 g a day.",
        "false reassurance": "There is nothing to worry about.",
        "promotes products": "Buy it in our shop.",
    }
    for reason, sentence in bad.items():
        assert FORBIDDEN[reason].search(sentence), reason
    assert not FORBIDDEN["names a diagnosis"].search("If you have liver disease, ask first.")


def test_every_page_cites_a_listed_source() -> None:
    """Each page lists at least one source, and each is in sources.yaml with a title."""
    questionnaire = load_questionnaire(ROOT / "questions.yaml", GUIDANCE)
    assert questionnaire.guidance
    for page in questionnaire.guidance.values():
        assert page.sources, page.slug
        for tag in page.sources:
            source = questionnaire.sources[tag]
            assert source.title, (page.slug, tag)


def test_every_rule_page_exists_and_every_page_is_used() -> None:
    """Each rule points at a real page; each page is used by a rule or linked from another page."""
    questionnaire = load_questionnaire(ROOT / "questions.yaml", GUIDANCE)
    used = {rule.guidance for rule in questionnaire.rules}
    assert used <= set(questionnaire.guidance)
    bodies = " ".join(page.body for page in questionnaire.guidance.values())
    linked = set(re.findall(r"/guidance/([a-z0-9-]+)", bodies))
    index_only = set(questionnaire.guidance) - used - linked
    # Pages no rule points to are reference pages: they must at least be linked from another page.
    assert index_only <= {"about-this-tool"}, index_only


def test_full_questionnaire_has_the_expected_size() -> None:
    """The bundled questionnaire carries the full content: 45+ questions, rules R01-R27."""
    questionnaire = load_questionnaire(ROOT / "questions.yaml", GUIDANCE)
    assert len(questionnaire.questions) >= 45
    ids = {rule.id for rule in questionnaire.rules}
    assert {f"R{n:02d}" for n in range(1, 28)} <= ids
    assert questionnaire.meta.recall
