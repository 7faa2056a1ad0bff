"""``python -m deconfliction.blind run|plan ...``: the ``deconfliction blind`` commands.

The same commands as ``deconfliction blind``, for deployments (and tests) that run
a participant without the whole command-line application.
"""

from __future__ import annotations

from deconfliction.cli.blind import blind_app


def main() -> None:
    """Run the ``blind`` command group."""
    blind_app(prog_name="python -m deconfliction.blind")


if __name__ == "__main__":
    main()
