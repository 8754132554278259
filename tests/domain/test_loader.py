"""The loader reports every authoring mistake with its file, line and a helpful message."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assessment.domain import QuestionnaireError
from assessment.domain import QuestionType
from assessment.domain import load_questionnaire
from assessment.domain import parse_questionnaire

DATA = Path(__file__).parent.parent / "data"
INVALID = sorted((DATA / "invalid").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+): (.+)$", re.MULTILINE)


def expected_problems(path: Path) -> list[str]:
    """Read the '# expect: LINE: message' lines a broken fixture carries at its end."""
    return [f"{path.name}:{line}: {msg}" for line, msg in EXPECT.findall(path.read_text())]


def test_there_are_enough_broken_fixtures() -> None:
    """Every authoring check has its own broken file; the issue asks for at least 15."""
    assert len(INVALID) >= 15
    assert all(expected_problems(p) for p in INVALID)


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_broken_fixture_reports_exact_messages(path: Path) -> None:
    """Each broken file gives exactly its expected file:line: message lines, in line order."""
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path, DATA / "guidance")
    assert [str(p) for p in caught.value.problems] == expected_problems(path)


def test_all_mistakes_are_reported_together() -> None:
    """Three different mistakes in one file give three lines, not just the first."""
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(DATA / "invalid" / "three_mistakes.yaml", DATA / "guidance")
    assert len(caught.value.problems) == 3
    assert len({p.line for p in caught.value.problems}) == 3


def test_the_small_questionnaire_loads_into_a_frozen_model(mini) -> None:  # type: ignore[no-untyped-def]
    """A valid file becomes frozen dataclasses with every question type and line numbers."""
    assert [s.id for s in mini.sections] == ["about", "symptoms"]
    assert {q.type for q in mini.questions.values()} == set(QuestionType)
    age = mini.questions["age"]
    assert age.pos.line == 12 and age.required and age.maximum == 120
    assert mini.questions["pregnant"].visible_if is not None
    assert mini.questions["alarms"].exclusive == ("none",)
    with pytest.raises(AttributeError):
        age.label = "changed"  # type: ignore[misc]


def test_duplicate_keys_are_refused_not_overwritten() -> None:
    """PyYAML would keep the last of two equal keys silently; we report the second one."""
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire("meta: {id: a, version: '1', title: T, title: U}\nsections: []\n", "q.yaml")
    assert "q.yaml:1: duplicate key 'title'" in str(caught.value)


def test_python_tags_are_refused_without_running_them(tmp_path: Path) -> None:
    """A !!python tag is a load error; nothing is executed."""
    marker = tmp_path / "ran"
    text = f'meta: !!python/object/apply:os.system ["touch {marker}"]\nsections: []\n'
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(text, "q.yaml")
    assert "unsupported YAML tag" in str(caught.value)
    assert not marker.exists()


def test_an_empty_file_is_reported() -> None:
    """An empty file says so instead of crashing."""
    with pytest.raises(QuestionnaireError, match="q.yaml:1: the file is empty"):
        parse_questionnaire("", "q.yaml")


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    """A path that does not exist gives one clear line."""
    with pytest.raises(QuestionnaireError, match="cannot read the file"):
        load_questionnaire(tmp_path / "nope.yaml", DATA / "guidance")


def test_guidance_page_mistakes_name_the_page(tmp_path: Path) -> None:
    """A page without front matter, with an unknown source or no help section is reported."""
    (tmp_path / "sources.yaml").write_text("NHS-1:\n  title: A source\n")
    (tmp_path / "no-front.md").write_text("Just text\n")
    (tmp_path / "bad.md").write_text(
        "---\ntitle: T\nsummary: S\nevidence: maybe\nsources: [XYZ]\n---\nBody without help.\n"
    )
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(DATA / "mini.yaml", tmp_path)
    lines = [str(p) for p in caught.value.problems]
    assert (
        "guidance/bad.md:4: unknown evidence grade 'maybe'; use one of strong, moderate, low, "
        "very low, insufficient, theoretical, mixed, not applicable" in lines
    )
    assert "guidance/bad.md:5: unknown source 'XYZ' (add it to sources.yaml)" in lines
    assert "guidance/bad.md:7: the page needs a '## When to get help' section" in lines
    assert "guidance/no-front.md:1: a guidance page starts with front matter between two '---' lines" in lines
    assert any("guidance page 'emergency' does not exist" in line for line in lines)


def _guidance_dir(tmp_path: Path, page: bytes) -> Path:
    """The mini questionnaire's guidance folder with one more page, written as raw bytes."""
    guidance = tmp_path / "guidance"
    shutil.copytree(DATA / "guidance", guidance)
    (guidance / "extra.md").write_bytes(page)
    return guidance


def test_guidance_front_matter_of_the_wrong_type_is_reported(tmp_path: Path) -> None:
    """A number for a title or summary, or a word for the order, is a mistake with its line."""
    page = b"---\ntitle: 123\nsummary: [a, b]\nevidence: low\nsources: [NHS-1]\norder: soon\n---\n"
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(DATA / "mini.yaml", _guidance_dir(tmp_path, page + b"## When to get help\nNow.\n"))
    lines = [str(p) for p in caught.value.problems]
    assert lines == [
        "guidance/extra.md:2: front matter: 'title' must be text, not a whole number (123)",
        "guidance/extra.md:3: front matter: 'summary' must be text, not a list",
        "guidance/extra.md:6: front matter: 'order' must be a whole number, not text ('soon')",
    ]


def test_a_guidance_page_that_is_not_utf8_names_the_file_and_line(tmp_path: Path) -> None:
    """A page saved as Latin-1 is one file:line message, not a crash."""
    page = "---\ntitle: Caf\u00e9\nsummary: S\nevidence: low\nsources: [NHS-1]\n---\n## When to get help\n"
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(DATA / "mini.yaml", _guidance_dir(tmp_path, page.encode("latin-1")))
    assert [str(p) for p in caught.value.problems] == [
        "guidance/extra.md:2: the file is not UTF-8 text (byte 0xe9); save it as UTF-8"
    ]


def test_an_unreadable_guidance_page_is_reported(tmp_path: Path) -> None:
    """A page that cannot be read (here a folder named like a page) is a message, not a crash."""
    guidance = _guidance_dir(tmp_path, b"")
    (guidance / "extra.md").unlink()
    (guidance / "extra.md").mkdir()
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(DATA / "mini.yaml", guidance)
    assert [str(p) for p in caught.value.problems] == ["guidance/extra.md:1: the page cannot be read"]
