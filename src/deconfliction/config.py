"""Settings of the server, from the command line or the environment.

Environment variables start with ``DECONFLICTION_`` (``DECONFLICTION_DATABASE_URL``).
The default store is a SQLite file in the working directory.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from deconfliction.config_defaults import DEFAULT_DATABASE_URL

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]


class Settings(BaseSettings):
    """Server settings.

    Attributes:
        database_url: SQLAlchemy URL; ``sqlite:///FILE`` or
            ``postgresql+psycopg://USER@HOST:PORT/DB``.
        future_tolerance_s: positions timed further than this ahead of the server's
            clock are rejected (clock skew between a feed and the server).
        run_detection: run the live detection loop in this process.
        detection_interval_s: override of the protocol's interval (None: protocol).
        migrate_on_start: apply database migrations when the server starts.
        keys_dir: where the parties' and the server's hotline signing keys are kept
            (one PEM file each, mode 0600); back it up with the database.
        positions_retention_days: positions are pruned this long after they were
            received (0: never).
        events_retention_days: stream events likewise (the hotline's are kept).
        batches_retention_days: idempotency records of batches likewise; a batch
            sent again after its record is pruned is stored again.
        archive_dir: pruned positions are archived there as Parquet, by UTC day
            (None: pruned without an archive).
        prune_interval_s: how often the server prunes.
        operator_token: the bearer token of the operator, the only one ``/metrics``
            answers (None: metrics are off).
        log_format: ``text`` (uvicorn's) or ``json`` (one object per line).
        max_body_bytes: largest request body (413 above it), except track batches.
        max_tracks_body_bytes: largest body of ``POST /v1/tracks``.
        rate_limit_per_s: requests per second each token (each address, without a
            token) may make on average (0: no limit); 429 with Retry-After above it.
        rate_limit_burst: requests a token may make at once before the rate counts.
        header_timeout_s: a request's headers must be complete within this time of
            its first byte (slowloris), else the connection is closed.
        send_timeout_s: a response that cannot go on for this long (a client that
            does not read it) aborts its connection.
        keep_alive_s: an idle keep-alive connection is closed after this time.
        max_connections: connections and requests in progress at once (503 above).
        ws_send_timeout_s: a stream client that takes nothing it was sent for this
            long is dropped (close code 4408).
        ws_close_grace_s: then its connection is cut after this time at most.
        ws_send_buffer_bytes: what is buffered for one stream client, in the server
            and in the kernel each.
        ws_ping_interval_s: the server pings each stream client this often...
        ws_ping_timeout_s: ...and closes it when no answer came in this time.
        ws_max_message_bytes: largest message a stream client may send.
        node_dir: the directory of this party's node (``deconfliction node init``):
            the server is then that party's node in a federation (None: the one
            server of every party).
        link_interval_s: how often a node checks its links and sends what is
            queued for its peers (None: the protocol's detection interval).
    """

    model_config = SettingsConfigDict(env_prefix="DECONFLICTION_", extra="forbid")

    database_url: str = DEFAULT_DATABASE_URL
    future_tolerance_s: float = Field(default=5.0, ge=0)
    run_detection: bool = True
    detection_interval_s: float | None = Field(default=None, gt=0)
    migrate_on_start: bool = True
    keys_dir: str = "deconfliction-keys"
    positions_retention_days: float = Field(default=30.0, ge=0)
    events_retention_days: float = Field(default=365.0, ge=0)
    batches_retention_days: float = Field(default=30.0, ge=0)
    archive_dir: str | None = "deconfliction-archive"
    prune_interval_s: float = Field(default=60.0, gt=0)
    operator_token: SecretStr | None = Field(default=None, min_length=16)
    log_format: Literal["text", "json"] = "text"
    max_body_bytes: int = Field(default=2_097_152, ge=1024)
    max_tracks_body_bytes: int = Field(default=20_000_000, ge=1024)
    rate_limit_per_s: float = Field(default=50.0, ge=0)
    rate_limit_burst: int = Field(default=500, ge=1)
    header_timeout_s: float = Field(default=10.0, gt=0)
    send_timeout_s: float = Field(default=30.0, gt=0)
    keep_alive_s: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=2000, ge=1)
    ws_send_timeout_s: float = Field(default=10.0, gt=0)
    ws_close_grace_s: float = Field(default=5.0, ge=0)
    ws_send_buffer_bytes: int = Field(default=262_144, ge=4096)
    ws_ping_interval_s: float = Field(default=20.0, gt=0)
    ws_ping_timeout_s: float = Field(default=20.0, gt=0)
    ws_max_message_bytes: int = Field(default=65_536, ge=1024)
    node_dir: str | None = None
    link_interval_s: float | None = Field(default=None, gt=0)
