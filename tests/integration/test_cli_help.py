"""Every command's help, as ``--help`` prints it: nothing written in a help text is
lost on the way (Rich markup once swallowed ``[peers]``, ``[blind]`` and ``[default:
our host]``), and every command has help."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from deconfliction.cli import app as app_module
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


def test_each_command_is_registered_by_the_module_the_table_names() -> None:
    # ``deconfliction NAME`` imports only COMMAND_MODULES[NAME] (#17.6, start-up):
    # every top-level command must be there, with the module that registers it.
    whole = typer.main.get_command(APP)
    names = set(getattr(whole, "commands", {}))
    assert names == set(app_module.COMMAND_MODULES), sorted(
        names ^ set(app_module.COMMAND_MODULES)
    )
    for module in app_module.MODULES:
        only = typer.main.get_command(build_app(module))
        mine = {n for n, m in app_module.COMMAND_MODULES.items() if m == module}
        assert set(getattr(only, "commands", {})) == mine, module


@pytest.mark.parametrize("name", ["daa", "blind", "tak-package", "serve"])
def test_one_command_parses_and_helps_as_in_the_whole_line(name: str) -> None:
    one = build_app(app_module.COMMAND_MODULES[name])
    for args in ([name, "--help"], [name, "--no-such-option"]):
        got = CliRunner().invoke(one, args, env=WIDE)
        want = CliRunner().invoke(APP, args, env=WIDE)
        assert (got.exit_code, got.output) == (want.exit_code, want.output), args


def test_a_command_imports_no_other_command_module() -> None:
    code = (
        "import sys\n"
        "from deconfliction.cli.app import main\n"
        "try:\n"
        "    main(['daa', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(m for m in sys.modules"
        " if m.startswith('deconfliction.cli.'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")[-2]
    loaded = {m.rsplit(".", 1)[1] for m in out.split()}
    others = set(app_module.MODULES) - {"daa"}
    assert "daa" in loaded and not loaded & others, sorted(loaded)
