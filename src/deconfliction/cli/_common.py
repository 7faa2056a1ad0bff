"""What every command shares: turning expected errors into a message and exit 2."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from deconfliction.errors import DeconflictionError, InputError, Problem

if TYPE_CHECKING:
    from rich.progress import Progress

EXIT_BAD_INPUT: int = 2  # as argparse and Typer use for usage errors

P = ParamSpec("P")
R = TypeVar("R")

stderr = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def stage_bars(console: Console) -> Progress:
    """The demos' progress display: one bar per stage, its label, percentage and
    elapsed time; use it as a context manager."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<26}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@contextmanager
def reported_errors(database: object = None) -> Iterator[None]:
    """Report a :class:`DeconflictionError` (or an unreadable file) and exit 2.

    Never a traceback: every problem is printed on its own line with where it is.

    Args:
        database: the command's ``--database`` URL, named when it cannot be used.
    """
    try:
        yield
    except DeconflictionError as exc:
        _error(str(exc))
    except _database_errors() as exc:
        which = f" {_shown(database)}" if isinstance(database, str) else ""
        _error(f"cannot use the database{which}: {_first_line(exc)}")
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        _error(f"{exc.filename}: {exc.strerror}")


@contextmanager
def as_option(flag: str, field: str | None = None) -> Iterator[None]:
    """Name the command-line option ``flag`` in the input errors raised inside.

    Adapters name their own field (they do not know the command line); the command
    that took the value from ``flag`` says where it came from. Without ``field``
    every problem is the option's (``command line: FLAG: ...``); with it, only the
    problems of that field are, keeping their source (the name or file given), and
    the others (in a file the option named) stay as they are.
    """
    try:
        yield
    except InputError as exc:
        raise InputError(
            [
                Problem("command line", None, flag, p.message)
                if field is None
                else Problem(p.source, p.line, flag, p.message)
                if p.field == field
                else p
                for p in exc.problems
            ]
        ) from None


def _error(message: str) -> NoReturn:
    """Print ``error: message`` and exit 2. The message is printed as it is: a
    file's content quoted in it (``[peers]``) is never taken for Rich markup."""
    stderr.print(f"[bold red]error:[/] {escape(message)}", markup=True)
    raise typer.Exit(EXIT_BAD_INPUT) from None


def _database_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import ArgumentError, DatabaseError

    # DatabaseError: also "file is not a database" (a SQLite URL naming another file).
    return (DatabaseError, ArgumentError)


def _shown(url: str) -> str:
    """The URL without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`reported_errors` for command functions."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with reported_errors(kwargs.get("database")):
            return fn(*args, **kwargs)

    return wrapper
