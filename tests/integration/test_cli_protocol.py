"""``deconfliction protocol propose|accept|show|history`` against a real server on
SQLite and PostgreSQL, as two duty officers use them (before: only curl)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from deconfliction.cli.app import build_app
from tests.conftest import Server, add_party
from tests.integration.helpers import protocol_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return build_app()


def _run(app: typer.Typer, *args: str, **env: str) -> Result:
    return CliRunner().invoke(app, ["protocol", *args], env={"COLUMNS": "80", **env})


def test_propose_accept_show_history(
    app: typer.Typer, server: Server, tmp_path: Path
) -> None:
    coalition = add_party(server.database_url, "coalition", "officer")
    russia = add_party(server.database_url, "russia", "officer", "ru")
    at = ("--server", server.url)
    v1 = tmp_path / "v1.toml"
    v1.write_text(protocol_text(1), encoding="utf-8")
    digest = hashlib.sha256(v1.read_bytes()).hexdigest()

    proposed = _run(app, "propose", str(v1), *at, "--token", coalition)
    assert proposed.exit_code == 0, proposed.output
    assert proposed.stdout.startswith("euphrates-2017 version 1: proposed\n")
    assert "accepted by: coalition" in proposed.stdout
    assert "awaiting:    russia" in proposed.stdout
    assert f"sha256:      {digest}" in proposed.stdout

    # Russia reads it, text and all, before accepting.
    shown = _run(app, "show", "1", *at, "--token", russia)
    assert shown.exit_code == 0, shown.output
    assert "proposed:    by coalition at " in shown.stdout
    text = _run(app, "show", "euphrates-2017/1", "--toml", *at, "--token", russia)
    assert text.stdout == v1.read_text(encoding="utf-8")
    nothing = _run(app, "show", *at, "--token", russia)
    assert nothing.exit_code == 2 and "404" in nothing.output

    # Not the text reviewed: not accepted.
    wrong = _run(app, "accept", "1", "--sha256", "0" * 12, *at, "--token", russia)
    assert wrong.exit_code == 2, wrong.output
    assert "not the text you reviewed: not accepted" in wrong.output
    assert (
        "awaiting:    russia" in _run(app, "show", "1", *at, "--token", russia).stdout
    )

    accepted = _run(app, "accept", "1", "--sha256", digest[:12], *at, "--token", russia)
    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout.startswith("euphrates-2017 version 1: in effect since ")
    current = _run(app, "show", *at, "--token", coalition)
    assert current.stdout.startswith("euphrates-2017 version 1: in effect since ")

    # Version 2 proposed (a shipped name works too, for the file).
    v2 = tmp_path / "v2.toml"
    v2.write_text(protocol_text(2, sharing="plans"), encoding="utf-8")
    assert _run(app, "propose", str(v2), *at, "--token", russia).exit_code == 0
    listed = _run(app, "history", *at, "--token", coalition)
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in listed.stdout
    assert "version 1" in listed.stdout and "version 2" in listed.stdout
    assert "in effect" in listed.stdout and "awaiting coalition" in listed.stdout


def test_refusals_are_errors_with_the_reason(
    app: typer.Typer, server: Server, tmp_path: Path
) -> None:
    coalition = add_party(server.database_url, "coalition", "officer")
    at = ("--server", server.url)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        protocol_text(1).replace("lookahead_s = 300", "lookahead_s = -5"),
        encoding="utf-8",
    )
    refused = _run(app, "propose", str(bad), *at, "--token", coalition)
    assert refused.exit_code == 2, refused.output
    assert f"{bad}:" in refused.output and "lookahead_s" in refused.output
    assert "Traceback" not in refused.output
    listed = _run(app, "history", *at, "--token", coalition)
    assert listed.exit_code == 0 and "no protocol names your party" in listed.output

    stranger = _run(app, "history", *at, "--token", "not-a-token")
    assert stranger.exit_code == 2 and "401" in stranger.output
    assert "check --token" in stranger.output
    none = _run(app, "accept", "3", *at, "--token", coalition)
    assert none.exit_code == 2 and "no version 3 your party may see" in none.output
    dead = _run(app, "history", "--server", "http://127.0.0.1:9", "--token", "t")
    assert dead.exit_code == 2 and "cannot reach the server" in dead.output


def test_withdraw_gives_notice_under_the_termination_clause(
    app: typer.Typer, server: Server, tmp_path: Path
) -> None:
    coalition = add_party(server.database_url, "coalition", "officer")
    russia = add_party(server.database_url, "russia", "admin", "ru")
    observer = add_party(server.database_url, "russia", "observer", "ru")
    at = ("--server", server.url)
    v1 = tmp_path / "v1.toml"
    v1.write_text(
        protocol_text(1) + "\n[termination]\nnotice_s = 2592000\n", encoding="utf-8"
    )
    assert _run(app, "propose", str(v1), *at, "--token", coalition).exit_code == 0
    accepted = _run(app, "accept", "1", *at, "--token", russia)
    assert "termination: a party may withdraw with 2,592,000 s (30 d) notice" in (
        accepted.stdout
    )
    refused = _run(app, "withdraw", "1", *at, "--token", observer)
    assert refused.exit_code == 2 and "403" in refused.output, refused.output
    noticed = _run(app, "withdraw", "euphrates-2017/1", *at, "--token", russia)
    assert noticed.exit_code == 0, noticed.output
    assert noticed.stdout.startswith("euphrates-2017 version 1: in effect since ")
    assert "notice:      by russia at " in noticed.stdout
    shown = _run(app, "show", *at, "--token", coalition)
    assert "notice:      by russia at " in shown.stdout, shown.output
    # Without a clause: refused with the reason.
    v2 = tmp_path / "v2.toml"
    v2.write_text(protocol_text(2), encoding="utf-8")
    assert _run(app, "propose", str(v2), *at, "--token", coalition).exit_code == 0
    assert _run(app, "accept", "2", *at, "--token", russia).exit_code == 0
    no_clause = _run(app, "withdraw", "2", *at, "--token", coalition)
    assert no_clause.exit_code == 2, no_clause.output
    assert "409" in no_clause.output and "no termination clause" in no_clause.output
