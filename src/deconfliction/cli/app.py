"""The ``deconfliction`` command: parses options and calls the core or the services.

Each command lives in its own module and is registered here; heavy imports happen
inside the commands, so ``deconfliction --help`` stays fast.
"""

from __future__ import annotations

import typer


def build_app() -> typer.Typer:
    """The whole command line, every command registered (a new one each call)."""
    from deconfliction.cli import (
        analyze,
        backup,
        blind,
        bridge,
        daa,
        demo,
        detect,
        hotline,
        interop,
        node,
        plan,
        protocol,
        report,
        server,
        whatif,
    )

    app = typer.Typer(
        name="deconfliction",
        help="Air-safety deconfliction between parties who share an airspace.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    detect.register(app)
    demo.register(app)
    server.register(app)
    node.register(app)
    backup.register(app)
    hotline.register(app)
    plan.register(app)
    protocol.register(app)
    blind.register(app)
    interop.register(app)
    bridge.register(app)
    report.register(app)
    whatif.register(app)
    analyze.register(app)
    daa.register(app)
    return app


def main() -> None:
    """Entry point of the ``deconfliction`` console script."""
    build_app()()
