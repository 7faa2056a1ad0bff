"""The API reference (docs/api/, mkdocs with mkdocstrings) builds offline, strictly,
with a documented entry for every name ``deconfliction`` exports."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import deconfliction

ROOT = Path(__file__).resolve().parents[1]
EXPORTED = dict(deconfliction._EXPORTS)


def test_the_page_lists_every_exported_name_once() -> None:
    page = (ROOT / "docs" / "api" / "index.md").read_text(encoding="utf-8")
    listed = re.findall(r"^::: ([\w.]+)\.(\w+)$", page, flags=re.MULTILINE)
    assert sorted(name for _, name in listed) == sorted(EXPORTED)
    assert {name: module for module, name in listed} == EXPORTED


def test_the_reference_builds_offline_with_every_name(tmp_path: Path) -> None:
    # --strict: a warning (a broken reference, a missing object) fails the build.
    # No network: mkdocs' own theme, no inventories to fetch.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(tmp_path / "site"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    for name, module in EXPORTED.items():
        heading = re.search(rf'id="{re.escape(module)}\.{name}"', html)
        assert heading is not None, f"{module}.{name} missing from the reference"
    # The docstrings themselves are there, not only the headings.
    assert "Every pair predicted to lose separation within the lookahead." in html
