"""``deconfliction backup`` and ``deconfliction restore``: the database and the
hotline's signing keys in one archive, taken while the server runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deconfliction.cli._common import guarded, stderr
from deconfliction.cli.server import DatabaseOpt
from deconfliction.config_defaults import DEFAULT_DATABASE_URL

KeysDirOpt = Annotated[
    Path,
    typer.Option(
        envvar="DECONFLICTION_KEYS_DIR",
        help="The hotline signing keys' directory (as given to serve).",
    ),
]


@guarded
def backup(
    out: Annotated[
        Path, typer.Option(help="The archive to write (.tar.gz; must not exist).")
    ],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    keys_dir: KeysDirOpt = Path("deconfliction-keys"),
) -> None:
    """Back up the database and the signing keys into one archive.

    Taken while the server runs: everything committed before it began. The archive
    has mode 0600 (it holds private keys). SQLite: the online backup API;
    PostgreSQL: pg_dump, which must be on PATH.
    """
    import time

    from deconfliction.service.backup import make_backup

    summary = make_backup(database, keys_dir, out, time.time())
    if summary.key_files == 0:
        stderr.print(f"warning: no key files in {keys_dir}", markup=False)
    stderr.print(
        f"backup {out}: {summary.backend} at revision {summary.revision}, "
        f"{summary.batches} batches, {summary.positions} positions, "
        f"{summary.key_files} key files",
        markup=False,
    )


@guarded
def restore(
    archive: Annotated[
        Path, typer.Argument(metavar="FILE", help="An archive made by backup.")
    ],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    keys_dir: KeysDirOpt = Path("deconfliction-keys"),
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Overwrite a database and key files that are there (stop the "
            "server first).",
        ),
    ] = False,
) -> None:
    """Restore a backup into an empty database and the keys directory.

    The database is a new SQLite file, or an empty PostgreSQL database (createdb).
    Every member is checked against the archive's manifest first; serve then brings
    the schema up to date.
    """
    from datetime import UTC, datetime

    from deconfliction.service.backup import restore_backup

    summary = restore_backup(archive, database, keys_dir, replace)
    taken = datetime.fromtimestamp(summary.created_t_s, UTC).isoformat()
    stderr.print(
        f"restored the backup of {taken}: {summary.backend} at revision "
        f"{summary.revision}, {summary.batches} batches, {summary.positions} "
        f"positions, {summary.key_files} key files into {keys_dir}",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the backup commands to ``app``."""
    app.command("backup")(backup)
    app.command("restore")(restore)
