"""Every command's help, as ``--help`` prints it: nothing written in a help text is
lost on the way (Rich markup once swallowed ``[peers]``, ``[blind]`` and ``[default:
our host]``), and every command has help."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from deconfliction.cli.app import build_app

BRACKETED = re.compile(r"\[[^\[\]]+\]")
WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400"}  # no wrapping inside a bracket


def _commands(
    command: Any, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _written(command: Any) -> list[str]:
    """The help texts as written in the source, markup escapes (``\\[``) read."""
    texts = [command.help or ""]
    texts += [getattr(p, "help", None) or "" for p in command.params]
    return [text.replace("\\[", "[") for text in texts]


def _flat(text: str) -> str:
    """Text without the panels' borders and line breaks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


APP = build_app()
COMMANDS = sorted(
    (" ".join(path), command)
    for path, command in _commands(typer.main.get_command(APP))
)


@pytest.mark.parametrize(
    "command", [c for _, c in COMMANDS], ids=[name or "(top)" for name, _ in COMMANDS]
)
def test_no_bracketed_word_is_lost(command: Any) -> None:
    path = next(name for name, c in COMMANDS if c is command).split()
    result = CliRunner().invoke(APP, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    shown = _flat(result.output)
    for text in _written(command):
        for bracketed in BRACKETED.findall(" ".join(text.split())):
            assert bracketed in shown, f"{' '.join(path)}: {bracketed} is not shown"
        assert not text or _flat(text.split("\n\n")[0])[:30] in shown


def test_blind_run_says_where_the_peers_are() -> None:
    result = CliRunner().invoke(APP, ["blind", "run", "--help"], env=WIDE)
    shown = _flat(result.output)
    assert "a party id of [peers], or 'helper'" in shown
    assert "the [blind] and [peers] tables of the protocol file" in shown
    assert "connections on [default: our host]" in shown


def test_every_command_has_help() -> None:
    for name, command in COMMANDS:
        assert command.help or command.short_help, f"{name}: no help"
