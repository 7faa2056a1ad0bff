"""What every command shares: turning expected errors into a message and exit 2."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from deconfliction.errors import DeconflictionError

EXIT_BAD_INPUT: int = 2  # as argparse and Typer use for usage errors

P = ParamSpec("P")
R = TypeVar("R")

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Report a :class:`DeconflictionError` (or an unreadable file) and exit 2.

    Never a traceback: every problem is printed on its own line with where it is.
    """
    try:
        yield
    except DeconflictionError as exc:
        stderr.print(f"[bold red]error:[/] {exc}", markup=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except _database_errors() as exc:
        stderr.print(
            f"[bold red]error:[/] cannot use the database: {_first_line(exc)}",
            markup=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        stderr.print(f"[bold red]error:[/] {exc.filename}: {exc.strerror}", markup=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _database_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import ArgumentError, OperationalError

    return (OperationalError, ArgumentError)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`reported_errors` for command functions."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with reported_errors():
            return fn(*args, **kwargs)

    return wrapper
