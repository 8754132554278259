"""The domain core stays pure (docs/design.md, "Architecture"): nothing under assessment/domain
imports flask, wtforms, flask_wtf, jinja2 or weasyprint, checked in the source (ast) and at runtime
(a fresh interpreter). The app uses no private Flask module, bounds dependencies whose internals it
uses, tests do not import the benchmarks, and no function under assessment/ is over 40 lines."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "assessment" / "domain"
BANNED = frozenset({"flask", "wtforms", "flask_wtf", "jinja2", "weasyprint"})


def banned_imports(source: str, filename: str) -> list[str]:
    """Return 'file:line: module' for every import of a banned package in the source."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = [first.value]
        found.extend(f"{filename}:{node.lineno}: {name}" for name in names if name.split(".")[0] in BANNED)
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    """Say whether a call is __import__(...) or importlib.import_module(...)."""
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def test_the_checker_finds_each_kind_of_import() -> None:
    source = (
        "import flask\n"
        "import jinja2.sandbox as j\n"
        "from wtforms import Form\n"
        "from flask_wtf.csrf import CSRFProtect\n"
        "import importlib\n"
        "importlib.import_module('weasyprint')\n"
        "from . import flask\n"  # a sibling module of that name is not the package
        "import flasky\n"
    )
    assert [hit.split(": ")[1] for hit in banned_imports(source, "x.py")] == [
        "flask",
        "jinja2.sandbox",
        "wtforms",
        "flask_wtf.csrf",
        "weasyprint",
    ]


def test_domain_source_imports_no_web_or_pdf_package() -> None:
    modules = sorted(DOMAIN.rglob("*.py"))
    assert len(modules) >= 5, f"expected the domain modules under {DOMAIN}"
    found: list[str] = []
    for path in modules:
        found.extend(banned_imports(path.read_text("utf-8"), str(path.relative_to(ROOT))))
    assert not found, "assessment.domain must stay pure:\n" + "\n".join(found)


# The adapters that describe the domain to the outside (the JSON API's contract, FHIR) are plain
# Python too: the web layer serves them, and nothing in them needs a request.
ADAPTERS_WITHOUT_WEB = ("contract", "fhir")
WEB = frozenset({"flask", "werkzeug", "wtforms", "flask_wtf", "jinja2", "markupsafe"})


def test_the_api_contract_and_fhir_adapters_import_no_web_package() -> None:
    found: list[str] = []
    for package in ADAPTERS_WITHOUT_WEB:
        for path in sorted((ROOT / "assessment" / package).rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"), str(path))
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                found.extend(f"{where}: {n}" for n in names if n.split(".")[0] in WEB)
    assert not found, "these adapters must not need Flask:\n" + "\n".join(found)


# Import assessment.domain and every module in it without running assessment/__init__.py (the
# app factory imports Flask on purpose); then list what the interpreter has loaded.
_PROBE = """
import importlib, json, pkgutil, sys, types
package = types.ModuleType("assessment")
package.__path__ = [sys.argv[1]]
sys.modules["assessment"] = package
import assessment.domain as domain
for info in pkgutil.walk_packages(domain.__path__, "assessment.domain."):
    importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_the_domain_loads_no_web_or_pdf_package() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(ROOT / "assessment")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert "assessment.domain.scoring" in loaded, "the probe did not import the domain"
    leaked = sorted(name for name in loaded if name.split(".")[0] in BANNED)
    assert not leaked, f"importing assessment.domain loaded: {leaked}"


# Flask's private modules: what they hold changes between minor releases without notice.
FLASK_PRIVATE = ("flask.globals", "flask.ctx")
# Modules below a package's documented surface that we use on purpose, and the distribution whose
# version must then be bounded above in pyproject.toml.
INTERNALS = {
    "rule_engine.ast": "rule-engine",
    "weasyprint.urls": "weasyprint",
    "weasyprint.text": "weasyprint",
    "weasyprint.html": "weasyprint",
    "weasyprint.css": "weasyprint",
    "weasyprint.layout": "weasyprint",
    "weasyprint.formatting_structure": "weasyprint",
    "weasyprint.draw": "weasyprint",
}


def _imports(root: Path) -> list[tuple[str, str]]:
    """Return (file:line, module) for every absolute import under root."""
    found: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                found.extend((where, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.extend((where, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def test_the_speed_machinery_never_imports_the_web_layer() -> None:
    # The web layer asks assessment/prerender for pages and links; the other way round would tie
    # the views and the speed work together again (issue 16).
    hits = [f"{where}: {module}" for where, module in _imports(ROOT / "assessment" / "prerender")]
    hits = [hit for hit in hits if hit.split(": ")[1].startswith("assessment.web")]
    assert not hits, "assessment/prerender must not import the web layer:\n" + "\n".join(hits)


def test_the_app_uses_no_private_flask_module() -> None:
    hits = [
        f"{where}: {name}" for where, name in _imports(ROOT / "assessment") if name.startswith(FLASK_PRIVATE)
    ]
    assert not hits, "use Flask's public API instead:\n" + "\n".join(hits)


def test_every_dependency_whose_internals_we_use_has_an_upper_bound() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    bounds = {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower(): spec for spec in declared}
    used = {
        dist: where
        for where, name in _imports(ROOT / "assessment")
        for prefix, dist in INTERNALS.items()
        if name == prefix or name.startswith(prefix + ".")
    }
    assert used, "expected the rule-engine AST walk in the domain"
    unbounded = [
        f"{where}: {dist} ({bounds.get(dist)})"
        for dist, where in used.items()
        if "<" not in bounds.get(dist, "")
    ]
    assert not unbounded, "declare an upper bound in pyproject.toml for:\n" + "\n".join(unbounded)


def test_tests_do_not_import_the_benchmarks() -> None:
    hits = [f"{where}: {name}" for where, name in _imports(ROOT / "tests") if name.split(".")[0] == "bench"]
    assert not hits, "shared helpers belong in tests/ (bench may import them):\n" + "\n".join(hits)


MAX_FUNCTION_LINES = 40


def long_functions(source: str, filename: str, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Return 'file:line: name (N lines)' for every function or method longer than limit lines."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # From the def line (decorators aside) to the last line of the body, docstring included.
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                found.append(f"{filename}:{node.lineno}: {node.name} ({length} lines)")
    return found


def test_the_length_checker_finds_a_long_nested_function() -> None:
    body = "".join(f"        x{i} = {i}\n" for i in range(40))
    source = f"def short():\n    pass\n\nclass C:\n    def long(self):\n{body}"
    assert long_functions(source, "x.py") == ["x.py:5: long (41 lines)"]


def test_no_function_under_assessment_is_over_40_lines() -> None:
    # Past 40 lines a function does several things; split it into named helpers (issue 16).
    found: list[str] = []
    for path in sorted((ROOT / "assessment").rglob("*.py")):
        found.extend(long_functions(path.read_text("utf-8"), str(path.relative_to(ROOT))))
    assert not found, "split these into named helpers:\n" + "\n".join(found)


def test_every_package_is_in_the_distribution() -> None:
    """A package left out of pyproject's list works in the editable install and is missing from a wheel."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "assessment").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
