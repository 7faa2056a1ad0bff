"""Settings of the server, from the command line or the environment.

Environment variables start with ``DECONFLICTION_`` (``DECONFLICTION_DATABASE_URL``).
The default store is a SQLite file in the working directory.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///deconfliction.db"


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
