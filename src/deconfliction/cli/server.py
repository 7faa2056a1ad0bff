"""The server commands: ``serve``, ``db upgrade`` and ``party`` (in ``party.py``)."""

from __future__ import annotations

import enum
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from deconfliction.cli._common import guarded, stderr
from deconfliction.config_defaults import DEFAULT_DATABASE_URL

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

_ServeDatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar="DECONFLICTION_DATABASE_URL",
        help="SQLAlchemy URL: sqlite:///FILE (default deconfliction.db, or "
        "NODE_DIR/node.db with --node) or postgresql+psycopg://USER@HOST/DB",
    ),
]
MIN_OPERATOR_TOKEN_CHARS: int = 16  # a guessable token would open every count
GRACEFUL_SHUTDOWN_S: int = 5  # then open streams are cut; clients resume by id


class LogFormat(enum.StrEnum):
    """How the server writes its log."""

    TEXT = "text"
    JSON = "json"


db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


NodeOpt = Annotated[
    str | None,
    typer.Option(
        "--node",
        envvar="DECONFLICTION_NODE_DIR",
        help="Run as this party's node (a directory from deconfliction node init): "
        "HTTPS with its certificate, its keys, its store (NODE_DIR/node.db unless "
        "--database).",
    ),
]


@guarded
def serve(
    database: _ServeDatabaseOpt = None,
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
    tls_cert: Annotated[
        str | None,
        typer.Option(
            envvar="DECONFLICTION_TLS_CERT",
            help="PEM certificate (chain) to serve HTTPS and WSS; needs --tls-key.",
        ),
    ] = None,
    tls_key: Annotated[
        str | None,
        typer.Option(
            envvar="DECONFLICTION_TLS_KEY",
            help="PEM private key of --tls-cert.",
        ),
    ] = None,
    operator_token_file: Annotated[
        Path | None,
        typer.Option(
            help="A file holding the operator's token, the only one /metrics "
            "answers (or DECONFLICTION_OPERATOR_TOKEN); without it, metrics are off.",
        ),
    ] = None,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="DECONFLICTION_LOG_FORMAT",
            help="text, or json (one object per line).",
        ),
    ] = LogFormat.TEXT,
    node: NodeOpt = None,
) -> None:
    """Start the HTTP API and live detection (migrates the database first); with
    --node, as that party's node in a federation (docs/federation.md)."""

    from deconfliction.api.app import create_app
    from deconfliction.config import Settings

    _check_tls(tls_cert, tls_key)
    if node is not None:
        loaded = _load_node(node, tls_cert)
        database = database or loaded.database_url
        keys_dir = str(loaded.keys_dir)
    database = database or DEFAULT_DATABASE_URL
    settings = _settings(
        Settings,
        database_url=database,
        detection_interval_s=detection_interval_s,
        run_detection=not no_detection,
        keys_dir=keys_dir,
        positions_retention_days=positions_retention_days,
        events_retention_days=events_retention_days,
        batches_retention_days=batches_retention_days,
        archive_dir=None if no_archive else archive_dir,
        log_format=log_format.value,
        node_dir=node,
        **_operator_token(operator_token_file),
    )
    _listen(
        create_app(settings),
        settings,
        database,
        host,
        port,
        log_format,
        tls_cert,
        tls_key,
    )


def _load_node(node: str, tls_cert: str | None) -> Any:
    """The node of NODE_DIR, which serves its own certificate.

    Raises:
        InputError: ``--tls-cert`` given with ``--node``.
    """
    from deconfliction.federation.node_dir import load_node

    if tls_cert is not None:
        from deconfliction.errors import InputError, Problem

        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--tls-cert",
                    "a node serves its own certificate (NODE_DIR/tls): "
                    "leave --tls-cert/--tls-key out",
                )
            ]
        )
    return load_node(node)


def _listen(
    app: Any,
    settings: Any,
    database: str,
    host: str,
    port: int,
    log_format: LogFormat,
    tls_cert: str | None,
    tls_key: str | None,
) -> None:
    """Say where the server listens, then serve ``app`` with uvicorn until stopped."""
    import uvicorn

    from deconfliction.api.logs import uvicorn_log_config
    from deconfliction.api.server_protocols import protocol_classes

    http_protocol, ws_protocol = protocol_classes(
        settings.header_timeout_s,
        settings.send_timeout_s,
        settings.ws_send_timeout_s,
        settings.ws_close_grace_s,
        settings.ws_send_buffer_bytes,
    )
    federation = app.state.ctx.federation
    scheme = "https" if tls_cert or federation else "http"
    if log_format is LogFormat.TEXT:  # in JSON, uvicorn's own line says where
        who = (
            f"node of {federation.node.party!r} ({federation.node.fingerprint})  "
            if federation
            else ""
        )
        stderr.print(
            f"Deconfliction {who}on {scheme}://{host}:{port}  store: {_safe(database)}"
        )
    _stop_cleanly_on_sigterm()
    node_tls: dict[str, Any] = (
        {}
        if federation is None
        else {
            "ssl_context_factory": lambda _config, _default: (
                federation.peers.server_context
            )
        }
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=uvicorn_log_config(log_format.value),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        http=http_protocol,
        ws=ws_protocol,
        timeout_keep_alive=math.ceil(settings.keep_alive_s),
        limit_concurrency=settings.max_connections,
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_interval=settings.ws_ping_interval_s,
        ws_ping_timeout=settings.ws_ping_timeout_s,
        **node_tls,
    )


def _operator_token(path: Path | None) -> dict[str, Any]:
    """The operator token of ``path`` as a setting (nothing without a file: then
    the environment decides).

    Raises:
        InputError: the file holds no token, or one shorter than 16 characters.
    """
    if path is None:
        return {}
    from deconfliction.adapters.input_files import read_text
    from deconfliction.errors import InputError, Problem

    token = read_text(path).strip()
    if len(token) < MIN_OPERATOR_TOKEN_CHARS:
        raise InputError(
            [
                Problem(
                    str(path),
                    None,
                    "--operator-token-file",
                    f"the token must be at least {MIN_OPERATOR_TOKEN_CHARS} "
                    "characters (secrets.token_urlsafe(32) gives 43)",
                )
            ]
        )
    return {"operator_token": token}


def _settings(settings_class: Any, **options: Any) -> Any:
    """The server's settings: the options given, the rest from ``DECONFLICTION_*``.

    Raises:
        InputError: for a setting that is not valid, naming it.
    """
    from pydantic import ValidationError

    from deconfliction.errors import InputError, Problem

    try:
        return settings_class(**options)
    except ValidationError as exc:
        raise InputError(
            [
                Problem(
                    "settings",
                    None,
                    ".".join(str(p) for p in err["loc"]),
                    err["msg"],
                )
                for err in exc.errors()
            ]
        ) from None


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


def _check_tls(cert: str | None, key: str | None) -> None:
    """Both TLS files or neither, each a readable file.

    Raises:
        InputError: otherwise.
    """
    from pathlib import Path

    from deconfliction.errors import InputError, Problem

    problems = []
    if (cert is None) != (key is None):
        problems.append(
            Problem(
                "command line", None, "--tls-cert/--tls-key", "give both or neither"
            )
        )
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if path is not None and not Path(path).is_file():
            problems.append(
                Problem("command line", None, option, f"no such file: {path}")
            )
    if not problems and cert is not None and key is not None:
        import ssl

        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
        except (ssl.SSLError, OSError) as exc:
            problems.append(
                Problem(
                    "command line",
                    None,
                    "--tls-cert/--tls-key",
                    f"not a PEM certificate and its key: {exc}",
                )
            )
    if problems:
        raise InputError(problems)


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
