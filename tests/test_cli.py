"""`flask --app wsgi check` and start-up: every mistake printed as file:line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import DATA
from tests.conftest import MINI
from tests.conftest import MINI_GUIDANCE
from tests.conftest import ROOT

FLASK = str(Path(sys.executable).parent / "flask")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command in the repo with the small questionnaire as the app's own."""
    full_env = {
        **os.environ,
        "GUTCHECK_QUESTIONS_PATH": str(MINI),
        "GUTCHECK_GUIDANCE_DIR": str(MINI_GUIDANCE),
        "GUTCHECK_SECRET_KEY": "k" * 32,
        **env,
    }
    return subprocess.run(args, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60)


def test_check_prints_ok_with_counts() -> None:
    """A valid file prints one OK line with the counts and the time taken."""
    result = run(FLASK, "--app", "wsgi", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 2 sections, 9 questions, 2 scores, 3 rules (")


def test_check_reports_every_mistake_and_exits_1() -> None:
    """Three mistakes give three file:line lines, exit code 1 and no traceback."""
    result = run(FLASK, "--app", "wsgi", "check", str(DATA / "invalid" / "three_mistakes.yaml"))
    assert result.returncode == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("three_mistakes.yaml:")]
    assert [ln.split(":")[1] for ln in lines] == ["13", "32", "36"]
    assert "Traceback" not in result.stderr + result.stdout


def test_check_reports_a_yaml_syntax_error_with_its_line() -> None:
    """A syntax error names its line."""
    result = run(FLASK, "--app", "wsgi", "check", str(DATA / "invalid" / "yaml_syntax.yaml"))
    assert result.returncode == 1
    assert "yaml_syntax.yaml:8: YAML syntax error" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_path_works_when_the_configured_file_is_broken() -> None:
    """`flask check PATH` checks PATH, even when the app's own file would stop it from starting."""
    broken = DATA / "invalid" / "option_literal_typo.yaml"
    result = run(FLASK, "--app", "wsgi", "check", str(MINI), GUTCHECK_QUESTIONS_PATH=str(broken))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 2 sections, 9 questions, 2 scores, 3 rules (")


def test_check_without_path_reports_the_configured_file() -> None:
    """Without PATH the configured file (from GUTCHECK_QUESTIONS_PATH) is checked and its mistakes listed."""
    broken = DATA / "invalid" / "option_literal_typo.yaml"
    result = run(FLASK, "--app", "wsgi", "check", GUTCHECK_QUESTIONS_PATH=str(broken))
    assert result.returncode == 1
    assert "option_literal_typo.yaml:35: rule 'R01'" in result.stderr
    assert result.stderr.rstrip().endswith("problem(s) found.")
    assert "Traceback" not in result.stderr


def test_the_app_refuses_to_start_with_a_broken_questionnaire() -> None:
    """Start-up runs the same check and prints the same lines."""
    broken = DATA / "invalid" / "option_literal_typo.yaml"
    result = run(sys.executable, "-c", "import wsgi", GUTCHECK_QUESTIONS_PATH=str(broken))
    assert result.returncode == 1
    assert "option_literal_typo.yaml:35: rule 'R01'" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    """In production a missing SECRET_KEY is one clear line, not a traceback."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "GUTCHECK_SECRET_KEY")}
    env.update(
        GUTCHECK_ENV="production", GUTCHECK_QUESTIONS_PATH=str(MINI), GUTCHECK_GUIDANCE_DIR=str(MINI_GUIDANCE)
    )
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SECRET_KEY is not set: "
        "set GUTCHECK_SECRET_KEY (or SECRET_KEY) to a long random value."
    ]


def test_check_refuses_a_rule_with_an_unknown_level() -> None:
    """A level outside the five (a typo, or an old name) is refused with file, line and the five names."""
    result = run(FLASK, "--app", "wsgi", "check", str(DATA / "invalid" / "rule_unknown_level.yaml"))
    assert result.returncode == 1
    assert (
        "rule_unknown_level.yaml:36: rule 'R01': unknown urgency 'within_days'; "
        "use one of emergency, urgent, soon, routine, info"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_check_refuses_an_alarm_declared_on_an_unknown_option() -> None:
    """An alarm naming an option the question does not have would never fire: refused, with its line."""
    result = run(FLASK, "--app", "wsgi", "check", str(DATA / "invalid" / "alarm_unknown_option.yaml"))
    assert result.returncode == 1
    assert (
        "alarm_unknown_option.yaml:20: question 'sex': alarm names 'mael', "
        "which is not one of its options (female, male)"
    ) in result.stderr
    assert "Traceback" not in result.stderr
