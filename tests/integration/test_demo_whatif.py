"""``deconfliction demo --whatif``: the day again under the three options of 2015."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from deconfliction.cli.demo import register

pytestmark = pytest.mark.slow


def test_demo_whatif_writes_the_comparison(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        pass

    result = CliRunner().invoke(
        app, ["demo", "--hours", "3", "--seed", "7", "--out", str(tmp_path), "--whatif"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "whatif-options-2015.png").stat().st_size > 10_000
    data = json.loads(
        (tmp_path / "whatif-options-2015.json").read_text(encoding="utf-8")
    )
    assert "zones" in json.dumps(data) and "partnership" in json.dumps(data)
    assert "violations: total" in result.stdout
