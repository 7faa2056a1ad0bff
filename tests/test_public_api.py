"""The public face: ``deconfliction.__all__`` names exist, are documented, and the
README's "Using it from Python" example runs."""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import deconfliction

ROOT = Path(__file__).resolve().parents[1]
EXPORTED = [name for name in deconfliction.__all__ if name != "__version__"]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(deconfliction.__file__).parents[1])}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", EXPORTED)
def test_exported_name_exists_and_is_documented(name: str) -> None:
    value = getattr(deconfliction, name)
    doc = inspect.getdoc(value)
    assert doc and doc.strip(), f"deconfliction.{name} has no docstring"
    # Defined where the table says: the public name is the object itself.
    assert value.__module__ == deconfliction._EXPORTS[name]


def test_all_is_the_table_and_the_version() -> None:
    assert len(set(deconfliction.__all__)) == len(deconfliction.__all__)
    assert set(EXPORTED) == set(deconfliction._EXPORTS)
    assert re.fullmatch(r"\d+\.\d+\.\d+", deconfliction.__version__)


def test_type_checkers_see_the_same_names() -> None:
    """The ``TYPE_CHECKING`` imports (what mypy and editors see) and the lazy table
    list the same names from the same modules."""
    tree = ast.parse(Path(deconfliction.__file__).read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module
                for alias in stmt.names:
                    seen[alias.asname or alias.name] = stmt.module
    assert seen == deconfliction._EXPORTS


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = deconfliction.no_such_thing  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_numpy() -> None:
    """The command line imports the package first: it stays cheap."""
    result = _run("import sys, deconfliction; print('numpy' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_readme_example_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using it from Python", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    printed = re.search(r"prints `([^`]*)`", section)
    assert printed is not None
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == printed.group(1)
