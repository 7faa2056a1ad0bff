"""A raw socket that asks and never reads (#21.10): it kept its connection, its
request handler and megabytes of kernel send buffer forever (2.8 MB for 200
pipelined requests of ``/openapi.json``). A response that cannot go on for
``send_timeout_s`` aborts the connection; the other clients are served meanwhile.
A real server on loopback, SQLite and PostgreSQL. (Stream clients that never read
are dropped with close code 4408: tests/security/test_hardening_limits.py.)"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, start_server

pytestmark = pytest.mark.slow

SEND_TIMEOUT_S = 2.0
REQUESTS = 200


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    srv = start_server(
        database_url,
        tmp_path / "server.log",
        env={
            "DECONFLICTION_SEND_TIMEOUT_S": str(SEND_TIMEOUT_S),
            "DECONFLICTION_RATE_LIMIT_BURST": str(10 * REQUESTS),
        },
    )
    try:
        yield srv
    finally:
        srv.stop()


def test_a_client_that_never_reads_its_responses_is_cut_off(server: Server) -> None:
    one_response = len(httpx.get(f"{server.url}/openapi.json").content)
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    try:
        request = f"GET /openapi.json HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        sock.sendall(request * REQUESTS)  # pipelined; none of it is read
        time.sleep(SEND_TIMEOUT_S)
        # The others are served while it hangs on.
        assert httpx.get(f"{server.url}/livez", timeout=10).status_code == 200
        time.sleep(2 * SEND_TIMEOUT_S)
        # Reading now gets at most what was buffered before the cut, then the end.
        sock.settimeout(30)
        got = 0
        try:
            while chunk := sock.recv(65536):
                got += len(chunk)
        except ConnectionResetError:
            pass
        except TimeoutError:
            pytest.fail("the connection is still open")
    finally:
        sock.close()
    assert got < REQUESTS * one_response / 2
    assert "took nothing for 2 s: connection aborted" in server.log()
