"""Faults for the operations tests: a store that can be cut off and mended.

* PostgreSQL: the server under test reaches the shared PostgreSQL through a TCP
  proxy on loopback (:class:`TcpProxy`); cutting the proxy is the store going down
  for that server alone (stopping the shared PostgreSQL would break other tests).
* SQLite: the database lives on a small tmpfs of its own (:class:`SmallDisk`);
  filling it is the disk going full. Mounting needs root: elsewhere the test is
  skipped with a message, but never under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import free_port

SMALL_DISK_MB = 64  # room for the database and SQLITE_MIN_FREE_BYTES (32 MiB)
CHUNK_BYTES = 1 << 20


class TcpProxy:
    """Forwards loopback connections on ``port`` to ``target``, until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        """Listen (again) on ``port``."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2
                    )
                    s.close()
            self._sockets.clear()

    def _serve(self) -> None:
        sel = selectors.DefaultSelector()
        assert self._listener is not None
        sel.register(self._listener, selectors.EVENT_READ, None)
        while not self._stop.is_set():
            for key, _ in sel.select(timeout=0.05):
                if key.data is None:
                    self._accept(sel)
                    continue
                source, sink = key.fileobj, key.data
                assert isinstance(source, socket.socket)
                try:
                    chunk = source.recv(65536)
                except OSError:
                    chunk = b""
                if chunk:
                    with contextlib.suppress(OSError):
                        sink.sendall(chunk)
                    continue
                for s in (source, sink):
                    with contextlib.suppress(KeyError, ValueError):
                        sel.unregister(s)
                    with contextlib.suppress(OSError):
                        s.close()
                    with self._lock:
                        self._sockets.discard(s)
        sel.close()

    def _accept(self, sel: selectors.BaseSelector) -> None:
        assert self._listener is not None
        client, _ = self._listener.accept()
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._sockets.update((client, upstream))
        sel.register(client, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, client)


class SmallDisk:
    """A tmpfs of ``SMALL_DISK_MB`` mounted at ``path``, that can be filled up."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this machine cannot mount one, or None."""
        if os.geteuid() != 0:
            return "mounting a tmpfs needs root"
        return None

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "mount",
                "-t",
                "tmpfs",
                "-o",
                f"size={SMALL_DISK_MB}m",
                "tmpfs",
                self.path,
            ],
            check=True,
            capture_output=True,
        )

    def unmount(self) -> None:
        done = subprocess.run(["umount", self.path], capture_output=True)
        if done.returncode != 0:  # still open by a process that is going away
            subprocess.run(["umount", "-l", self.path], check=True)

    def fill(self) -> None:
        """Write until no byte is left."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            size = CHUNK_BYTES
            while size:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    size //= 2
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()


class StoreFault(Protocol):
    """A store a server can use, broken and mended on demand."""

    url: str
    kind: str

    def cut(self) -> None: ...

    def mend(self) -> None: ...


@dataclass
class _PgFault:
    url: str
    proxy: TcpProxy
    kind: str = "unreachable"

    def cut(self) -> None:
        self.proxy.cut()

    def mend(self) -> None:
        self.proxy.start()


@dataclass
class _SqliteFault:
    url: str
    disk: SmallDisk
    kind: str = "full"

    def cut(self) -> None:
        self.disk.fill()

    def mend(self) -> None:
        self.disk.free()


@contextlib.contextmanager
def faulty_store(database_url: str, tmp_path: Path) -> Iterator[StoreFault]:
    """``database_url`` behind a proxy (PostgreSQL) or on a small disk (SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        proxy.start()
        try:
            yield _PgFault(
                url.set(host="127.0.0.1", port=proxy.port).render_as_string(
                    hide_password=False
                ),
                proxy,
            )
        finally:
            proxy.cut()
        return
    why = SmallDisk.unavailable()
    if why is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the disk-full test: {why}")
        pytest.skip(f"SQLite disk full not tested: {why}")
    disk = SmallDisk(tmp_path / "small-disk")
    disk.mount()
    try:
        yield _SqliteFault(f"sqlite:///{disk.path / 'deconfliction.db'}", disk)
    finally:
        disk.unmount()
