"""The ``deconfliction`` command: parses options and calls the core or the services.

Each command lives in its own module and is registered here; heavy imports happen
inside the commands, so ``deconfliction --help`` stays fast. ``deconfliction NAME
...`` imports only the module of NAME (:data:`COMMAND_MODULES`): the others' imports
cost about half a second of every command's start-up.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Final

import typer

HELP: Final = "Air-safety deconfliction between parties who share an airspace."

MODULES: Final = (
    "detect",
    "demo",
    "server",
    "node",
    "backup",
    "hotline",
    "plan",
    "protocol",
    "blind",
    "interop",
    "bridge",
    "report",
    "whatif",
    "analyze",
    "daa",
)
"""The modules under ``deconfliction.cli`` that register commands, in the order
``--help`` lists them."""

COMMAND_MODULES: Final = {
    "detect": "detect",
    "demo": "demo",
    "serve": "server",
    "db": "server",
    "party": "server",
    "node": "node",
    "backup": "backup",
    "restore": "backup",
    "hotline": "hotline",
    "plan": "plan",
    "protocol": "protocol",
    "blind": "blind",
    "tracks": "interop",
    "replay": "interop",
    "feed": "bridge",
    "asterix": "bridge",
    "tak": "bridge",
    "tak-package": "bridge",
    "report": "report",
    "whatif": "whatif",
    "analyze": "analyze",
    "daa": "daa",
}
"""Each top-level command and the module that registers it (tests/integration/
test_cli_help.py checks this against what the modules register)."""


def build_app(only: str | None = None) -> typer.Typer:
    """The whole command line, every command registered (a new one each call); with
    ``only``, just the commands of that module of :data:`MODULES`, as a group still
    (``deconfliction daa ...`` parses and helps exactly as in the whole one)."""
    app = typer.Typer(
        name="deconfliction",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    if only is not None:

        @app.callback()
        def _group() -> None:
            # A group with one command stays a group: the command is named.
            pass

    for name in MODULES if only is None else (only,):
        importlib.import_module(f"deconfliction.cli.{name}").register(app)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``deconfliction`` console script."""
    args = sys.argv[1:] if argv is None else list(argv)
    only = COMMAND_MODULES.get(args[0]) if args else None
    build_app(only)(args=args)
