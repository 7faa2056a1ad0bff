"""The server commands: ``serve``, ``db upgrade`` and ``party add``."""

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
party_app = typer.Typer(help="Manage parties and their tokens.", no_args_is_help=True)


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
) -> None:
    """Start the HTTP API and live detection (migrates the database first)."""
    import uvicorn

    from deconfliction.api.app import create_app
    from deconfliction.config import Settings

    settings = Settings(
        database_url=database,
        detection_interval_s=detection_interval_s,
        run_detection=not no_detection,
        keys_dir=keys_dir,
    )
    stderr.print(f"Deconfliction on http://{host}:{port}  store: {_safe(database)}")
    _stop_cleanly_on_sigterm()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
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


@party_app.command("add")
@guarded
def party_add(
    party_id: Annotated[
        str, typer.Argument(metavar="NAME", help="Party id, e.g. coalition.")
    ],
    role: Annotated[str, typer.Option(help="officer, observer or admin.")] = "officer",
    name: Annotated[str | None, typer.Option(help="Full name (default: NAME).")] = None,
    language: Annotated[str, typer.Option(help="en, ru or ar.")] = "en",
    label: Annotated[str, typer.Option(help="Who the token is for.")] = "",
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    keys_dir: KeysDirOpt = "deconfliction-keys",
) -> None:
    """Register a party (if new) and print a new bearer token for it, once, and the
    fingerprint of its signing key, to compare with the other parties out of band."""
    import re
    import time

    from deconfliction.errors import InputError, Problem
    from deconfliction.service import auth, keys
    from deconfliction.store import engine as store_engine

    problems = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", party_id):
        problems.append(
            Problem(
                "command line", None, "NAME", "lower-case letters, digits, - and _ only"
            )
        )
    if role not in {r.value for r in auth.Role}:
        problems.append(
            Problem("command line", None, "--role", f"unknown role {role!r}")
        )
    if language not in {"en", "ru", "ar"}:
        problems.append(
            Problem("command line", None, "--language", f"unknown {language!r}")
        )
    if problems:
        raise InputError(problems)
    engine = store_engine.make_engine(database)
    try:
        store_engine.upgrade(engine)
        now = time.time()
        with engine.begin() as conn:
            created = auth.ensure_party(conn, party_id, name or party_id, language, now)
            token = auth.issue_token(conn, party_id, auth.Role(role), now, label)
            fingerprint = keys.ensure_signing_key(conn, keys_dir, party_id, now)
    finally:
        engine.dispose()
    stderr.print(
        f"{'registered party' if created else 'party'} {party_id!r}; new {role} token "
        "(shown once, keep it safe):"
    )
    typer.echo(token)
    stderr.print(f"fingerprint: {fingerprint}")


def register(app: typer.Typer) -> None:
    """Add the server commands to ``app``."""
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(party_app, name="party")
