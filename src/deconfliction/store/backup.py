"""Copies of the database while the server runs, and their way back.

* SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database
  in one step from one read snapshot: everything committed before the copy began,
  nothing half-written, while writers go on (WAL mode).
* PostgreSQL: ``pg_dump --format=custom`` (one snapshot, the same guarantee) and
  ``pg_restore``, which must be on ``PATH`` in a version not older than the server.
  The password, if the URL has one, goes through ``PGPASSWORD``, never the command
  line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from deconfliction.errors import InputError, Problem
from deconfliction.store.engine import SQLITE_BUSY_TIMEOUT_MS


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy the live SQLite database ``source`` to a new file ``target``."""
    src = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=-1)  # one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # a single file, no -wal
        finally:
            dst.close()
    finally:
        src.close()


def install_sqlite(copy: Path, target: Path) -> None:
    """Put the database file ``copy`` at ``target`` (replacing it and its log:
    a stale ``-wal`` next to another database would corrupt it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(target.name + ".restoring")
    shutil.copyfile(copy, staged)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staged, target)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL (no driver, no password) and the environment with
    ``PGPASSWORD`` when the URL has a password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(tool: str, args: list[str], env: dict[str, str]) -> None:
    """Run a PostgreSQL client tool.

    Raises:
        InputError: the tool is not on PATH, or it failed (its message).
    """
    exe = shutil.which(tool)
    if exe is None:
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--database",
                    f"{tool} is not on PATH; install the PostgreSQL client of the "
                    "server's version, or see docs/operations.md for backups by hand",
                )
            ]
        )
    done = subprocess.run([exe, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        raise InputError(
            [Problem(tool, None, "", line) for line in lines[:10]]
            or [Problem(tool, None, "", f"exit status {done.returncode}")]
        )


def pg_dump(url: str, target: Path) -> None:
    """Dump the database of ``url`` to ``target`` (custom format).

    Raises:
        InputError: pg_dump is missing or failed.
    """
    dsn, env = _libpq(url)
    _run(
        "pg_dump",
        ["--format=custom", "--no-owner", "--no-privileges", f"--file={target}", dsn],
        env,
    )


def pg_restore(url: str, dump: Path, replace: bool) -> None:
    """Restore ``dump`` into the database of ``url`` in one transaction
    (``replace``: drop what is there first).

    Raises:
        InputError: pg_restore is missing or failed (nothing is changed then).
    """
    dsn, env = _libpq(url)
    args = [
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={dsn}",
    ]
    if replace:
        args += ["--clean", "--if-exists"]
    _run("pg_restore", [*args, str(dump)], env)


def has_tables(engine: Engine) -> bool:
    """Whether the database already holds tables."""
    return bool(inspect(engine).get_table_names())
