"""The server commands: ``serve``, ``db upgrade`` and ``party`` (in ``party.py``)."""

from __future__ import annotations

from typing import Annotated

import typer

from deconfliction.cli._common import guarded, stderr
from deconfliction.config import DEFAULT_DATABASE_URL

DatabaseOpt = Annotated[
    str,
    typer.Option(
        "--database",
        envvar="DECONFLICTION_DATABASE_URL",
        help="SQLAlchemy URL: sqlite:///FILE (default) or postgresql+psycopg://USER@HOST/DB",
    ),
]

KeysDirOpt = Annotated[
    str,
    typer.Option(
        envvar="DECONFLICTION_KEYS_DIR",
        help="Where the hotline signing keys are kept (back it up too).",
    ),
]

GRACEFUL_SHUTDOWN_S: int = 5  # then open streams are cut; clients resume by id

db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


@guarded
def serve(
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    detection_interval_s: Annotated[
        float | None,
        typer.Option(help="Override the protocol's detection interval."),
    ] = None,
    no_detection: Annotated[
        bool,
        typer.Option("--no-detection", help="Serve the API without live detection."),
    ] = False,
    keys_dir: Annotated[
        str,
        typer.Option(
            envvar="DECONFLICTION_KEYS_DIR",
            help="Where the hotline signing keys are kept (back it up too).",
        ),
    ] = "deconfliction-keys",
    positions_retention_days: Annotated[
        float,
        typer.Option(min=0, help="Prune positions this long after receipt (0: never)."),
    ] = 30.0,
    events_retention_days: Annotated[
        float,
        typer.Option(
            min=0,
            help="Prune stream events this long after (0: never; hotline kept).",
        ),
    ] = 365.0,
    batches_retention_days: Annotated[
        float,
        typer.Option(
            min=0, help="Prune batch ids (idempotency) this long after (0: never)."
        ),
    ] = 30.0,
    archive_dir: Annotated[
        str,
        typer.Option(
            envvar="DECONFLICTION_ARCHIVE_DIR",
            help="Archive pruned positions here (Parquet by UTC day).",
        ),
    ] = "deconfliction-archive",
    no_archive: Annotated[
        bool,
        typer.Option("--no-archive", help="Prune positions without archiving them."),
    ] = False,
) -> None:
    """Start the HTTP API and live detection (migrates the database first)."""
    import uvicorn

    from deconfliction.api.app import create_app
    from deconfliction.api.logs import uvicorn_log_config
    from deconfliction.config import Settings

    settings = Settings(
        database_url=database,
        detection_interval_s=detection_interval_s,
        run_detection=not no_detection,
        keys_dir=keys_dir,
        positions_retention_days=positions_retention_days,
        events_retention_days=events_retention_days,
        batches_retention_days=batches_retention_days,
        archive_dir=None if no_archive else archive_dir,
    )
    stderr.print(f"Deconfliction on http://{host}:{port}  store: {_safe(database)}")
    _stop_cleanly_on_sigterm()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        log_config=uvicorn_log_config(),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


def _stop_cleanly_on_sigterm() -> None:
    """A SIGTERM is how supervisors ask for a stop: once uvicorn has shut down
    gracefully (requests answered, detection stopped after its tick, the store
    checkpointed), it raises the signal again for the handler it found; this one
    exits with status 0 instead of dying of the signal."""
    import signal
    import sys

    def _exit_0(_signum: int, _frame: object) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, _exit_0)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
@guarded
def db_upgrade(database: DatabaseOpt = DEFAULT_DATABASE_URL) -> None:
    """Apply the schema migrations."""
    from deconfliction.store import engine as store_engine

    engine = store_engine.make_engine(database)
    try:
        store_engine.upgrade(engine)
        stderr.print(f"database at revision {store_engine.current_revision(engine)}")
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    """Add the server commands to ``app``."""
    from deconfliction.cli.party import party_app

    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(party_app, name="party")
