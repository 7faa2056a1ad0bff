"""Shared fixtures: database backends (a fresh SQLite file and a fresh PostgreSQL
database per test) and a real server process on loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

PG_ADMIN_URL = os.environ.get(
    "DECONFLICTION_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SERVER_START_TIMEOUT_S = 60.0


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def pg_status() -> str | None:
    return _pg_available()


def _require_pg(pg_status: str | None) -> None:
    if pg_status is None:
        return
    message = (
        f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({pg_status}); "
        "start it or set DECONFLICTION_TEST_PG"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI requires PostgreSQL: " + message)
    pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_status: str | None
) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'deconfliction.db'}"
        return
    _require_pg(pg_status)
    with pg_database() as url:
        yield url


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards (PostgreSQL must answer)."""
    import psycopg

    name = f"dcf_test_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A ``deconfliction serve`` process on loopback."""

    url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: Any = None
    stopping: bool = False

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def begin_stop(self) -> None:
        """Ask the process to stop (SIGTERM) without waiting: several servers
        shut down at once, then :meth:`stop` waits for each."""
        if self.process.poll() is None and not self.stopping:
            self.process.terminate()
            self.stopping = True

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            elif not self.stopping:
                self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


def start_server(
    database_url: str,
    log_path: Path,
    detection_interval_s: float = 0.5,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    verify: Any = True,
    port: int | None = None,
) -> Server:
    """Start a server process and wait until it answers /healthz.

    ``extra_args`` go to ``serve`` (with ``--tls-cert`` or ``--node`` the URL is
    https and ``verify`` checks its certificate); ``env`` is added to the
    environment (``DECONFLICTION_*`` settings); ``port`` (default: a free one) to
    restart a server where it was."""
    server = spawn_server(
        database_url, log_path, detection_interval_s, extra_args, env, port
    )
    return wait_until_serving(server, verify)


def spawn_server(
    database_url: str,
    log_path: Path,
    detection_interval_s: float = 0.5,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Server:
    """Start a server process without waiting for it (see :func:`start_server`;
    :func:`wait_until_serving` waits): several servers start at once."""
    port = port or free_port()
    exe = Path(sys.executable).parent / "deconfliction"
    log = log_path.open("ab")
    process = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--database",
            database_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--detection-interval-s",
            str(detection_interval_s),
            "--keys-dir",
            str(log_path.parent / "keys"),
            *extra_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env} if env else None,
    )
    scheme = "https" if {"--tls-cert", "--node"} & set(extra_args) else "http"
    return Server(f"{scheme}://127.0.0.1:{port}", database_url, process, log_path, log)


def wait_until_serving(server: Server, verify: Any = True) -> Server:
    """Wait until the server answers /healthz (200 or 503); stop it and raise
    if it exits or does not answer within SERVER_START_TIMEOUT_S."""
    process = server.process
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{server.log()}"
            )
        try:
            status = httpx.get(
                f"{server.url}/healthz", timeout=2, verify=verify
            ).status_code
            if status in (200, 503):
                return server
        except httpx.HTTPError:
            pass
        except BaseException:
            # Anything else (a warning made an error, an interrupt): the server
            # must not outlive the test that could not take it.
            server.stop(kill=True)
            raise
        time.sleep(0.1)
    server.stop(kill=True)
    raise RuntimeError(
        f"server did not start in {SERVER_START_TIMEOUT_S} s:\n{server.log()}"
    )


def add_party(database_url: str, party: str, role: str, language: str = "en") -> str:
    """Register a party and return a new token, as ``deconfliction party add`` does."""
    from deconfliction.service import auth
    from deconfliction.store import engine as store_engine

    engine = store_engine.make_engine(database_url)
    try:
        store_engine.upgrade(engine)
        with engine.begin() as conn:
            auth.ensure_party(conn, party, party.title(), language, time.time())
            return auth.issue_token(conn, party, auth.Role(role), time.time())
    finally:
        engine.dispose()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A running server on a fresh database (no parties yet)."""
    srv = start_server(database_url, tmp_path / "server.log")
    try:
        yield srv
    finally:
        srv.stop()
