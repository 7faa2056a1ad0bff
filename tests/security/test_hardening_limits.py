"""Attacks on the server's resources by a holder of a valid token: bodies too large
to hold (a 30 MB hotline ``facts`` was accepted and stored six times), stream
clients that never read (with 200 of them one 2 MB message took 2.4 GB), and
requests faster than anyone needs. A real server on loopback, SQLite and
PostgreSQL, its limits set through ``DECONFLICTION_*`` settings."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import StreamReader, put_in_effect

pytestmark = pytest.mark.slow

PROBLEM_JSON = "application/problem+json"
WS_TOO_SLOW = 4408  # docs/security.md, Limits
TRACKS_LIMIT_BYTES = 100_000
SEND_TIMEOUT_S = 2.0


@pytest.fixture
def limited(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[Server, dict[str, str]]]:
    tokens = {
        "coalition": add_party(database_url, "coalition", "officer"),
        "russia": add_party(database_url, "russia", "officer", "ru"),
    }
    srv = start_server(
        database_url,
        tmp_path / "server.log",
        env={
            "DECONFLICTION_MAX_TRACKS_BODY_BYTES": str(TRACKS_LIMIT_BYTES),
            "DECONFLICTION_RATE_LIMIT_PER_S": "1",
            "DECONFLICTION_RATE_LIMIT_BURST": "300",
            "DECONFLICTION_WS_SEND_TIMEOUT_S": str(SEND_TIMEOUT_S),
            "DECONFLICTION_WS_CLOSE_GRACE_S": "1",
            "DECONFLICTION_WS_SEND_BUFFER_BYTES": "16384",
        },
    )
    try:
        yield srv, tokens
    finally:
        srv.stop()


def _outbox(server: Server, token: str) -> list[object]:
    with server.client(token) as c:
        r = c.get("/v1/hotline/messages", params={"box": "out"})
        assert r.status_code == 200, r.text
        return list(r.json())


def test_oversize_bodies_are_refused_before_they_are_read(
    limited: tuple[Server, dict[str, str]],
) -> None:
    server, tokens = limited
    headers = {"Authorization": f"Bearer {tokens['coalition']}"}
    huge = b'{"to": "russia", "kind": "free_text", "text": "x", "facts": {"f": "'
    huge += b"A" * 30_000_000 + b'"}}'
    try:
        r = httpx.post(
            server.url + "/v1/hotline/messages",
            content=huge,
            headers={**headers, "content-type": "application/json"},
            timeout=60,
        )
    except httpx.WriteError:  # the server may answer and close while it is sent
        pass
    else:
        assert r.status_code == 413
        assert r.headers["content-type"] == PROBLEM_JSON
        assert r.json()["status"] == 413

    # Without a Content-Length (chunked), counted as it comes.
    def chunks() -> Iterator[bytes]:
        yield b'{"to": "russia", "kind": "free_text", "text": "'
        for _ in range(40):
            yield b"B" * 100_000
        yield b'"}'

    r = httpx.post(
        server.url + "/v1/hotline/messages",
        content=chunks(),
        headers={**headers, "content-type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM_JSON

    # Track batches have their own limit.
    rows = ",".join(
        f'{{"id":"A{k}","time":{time.time()},"lat":35,"lon":38,"alt_ft":1,'
        f'"gs_kt":1,"trk_deg":1,"vs_fpm":0}}'
        for k in range(TRACKS_LIMIT_BYTES // 80)
    )
    body = f'{{"batch_id":"big","positions":[{rows}]}}'.encode()
    assert len(body) > TRACKS_LIMIT_BYTES
    r = httpx.post(
        server.url + "/v1/tracks",
        content=body,
        headers={**headers, "content-type": "application/json"},
    )
    assert r.status_code == 413

    # Facts within the body limit but larger than any message needs: 422.
    r = httpx.post(
        server.url + "/v1/hotline/messages",
        json={"to": "russia", "kind": "free_text", "facts": {"f": "C" * 100_000}},
        headers=headers,
    )
    assert r.status_code == 422
    assert any(p["field"] == "facts" for p in r.json()["problems"])
    assert _outbox(server, tokens["coalition"]) == []
    with server.client(tokens["coalition"]) as c:
        assert c.get("/v1/tracks").json() == []


def test_token_over_its_rate_gets_429_with_retry_after(
    database_url: str, tmp_path: Path
) -> None:
    tokens = {
        "coalition": add_party(database_url, "coalition", "officer"),
        "russia": add_party(database_url, "russia", "officer", "ru"),
    }
    server = start_server(
        database_url,
        tmp_path / "server.log",
        env={
            "DECONFLICTION_RATE_LIMIT_PER_S": "0.5",
            "DECONFLICTION_RATE_LIMIT_BURST": "5",
        },
    )
    try:
        with server.client(tokens["coalition"]) as c:
            statuses = [c.get("/v1/parties/me") for _ in range(8)]
        assert [r.status_code for r in statuses[:5]] == [200] * 5
        refused = [r for r in statuses if r.status_code == 429]
        assert refused
        assert refused[0].headers["content-type"] == PROBLEM_JSON
        retry_after_s = int(refused[0].headers["retry-after"])
        assert 1 <= retry_after_s <= 2
        # Another token has its own bucket.
        with server.client(tokens["russia"]) as c:
            assert c.get("/v1/parties/me").status_code == 200
        time.sleep(retry_after_s)
        with server.client(tokens["coalition"]) as c:
            assert c.get("/v1/parties/me").status_code == 200
    finally:
        server.stop()


def _never_reading_stream(url: str, token: str) -> socket.socket:
    """A stream client that completes the handshake and then never reads (a
    receive buffer of 4 KiB: the server's buffer fills quickly)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /v1/stream HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def _until_closed(sock: socket.socket, timeout_s: float) -> bytes:
    """Everything the server sent until it closed the connection; fails if it is
    still open after ``timeout_s``."""
    sock.settimeout(timeout_s)
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the server kept the slow client for {timeout_s} s more")
    return got


def test_never_reading_stream_client_is_dropped_while_others_keep_receiving(
    limited: tuple[Server, dict[str, str]],
) -> None:
    server, tokens = limited
    put_in_effect(server.url, tokens)
    slow = _never_reading_stream(server.url, tokens["russia"])
    reader = StreamReader(server.url, tokens["russia"])
    n_messages = 120
    try:
        with server.client(tokens["coalition"]) as c:
            for k in range(n_messages):
                r = c.post(
                    "/v1/hotline/messages",
                    json={
                        "to": "russia",
                        "kind": "free_text",
                        "text": f"{k:04d}" * 950,
                    },
                )
                assert r.status_code == 201, r.text
        got = reader.collect(
            lambda got: sum(e["type"] == "hotline.sent" for e in got) >= n_messages,
            timeout_s=60,
        )
        assert sum(e["type"] == "hotline.sent" for e in got) == n_messages
        _until_closed(slow, timeout_s=30)
    finally:
        slow.close()
    assert f"close code {WS_TOO_SLOW}" in server.log()
