"""Attack: reading tokens out of the server's log (issue 14, item 8).

The console put its token in the stream's URL (``/v1/stream?token=…``) and uvicorn
wrote the URL to its log: whoever reads the log (an operator, a log collector, a
backup) could act as the party. Now the stream takes the token in a header or in
its first message, and the log redacts a token a client still puts in a URL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import Server
from tests.security import world as w

pytestmark = pytest.mark.slow


def _stream_url(server: Server, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + "/v1/stream" + query


def _first_event(ws: ClientConnection) -> dict[str, object]:
    event: dict[str, object] = json.loads(ws.recv(timeout=20))
    return event


def test_the_stream_takes_no_token_in_the_url_and_the_log_keeps_none(
    server: Server, tmp_path: Path
) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world)
    a_token = world.tokens[w.A]["officer"]
    # The console's way: connect, then the token as the first message.
    with connect(_stream_url(server, "?after=0")) as ws:
        ws.send(json.dumps({"token": a_token}))
        assert str(_first_event(ws)["type"]).startswith("protocol.")
    # A program's way: the Authorization header.
    with connect(_stream_url(server), additional_headers=w.auth(a_token)) as ws:
        assert str(_first_event(ws)["type"]).startswith("protocol.")
    # An old client that still puts its token in the URL is not served by it...
    b_token = world.tokens[w.B]["observer"]
    with connect(_stream_url(server, f"?after=0&token={b_token}")) as ws:
        ws.send(json.dumps({"token": "not-a-token"}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    # ... and an admin's new token travels only in a response body.
    with world.client(w.A, "admin") as admin:
        minted = admin.post(f"/v1/parties/{w.A}/tokens", json={"role": "officer"})
        assert minted.status_code == 201
    server.stop()
    log = server.log()
    assert "/v1/stream" in log, "the log does not show the stream: a broken test"
    secrets = [t for roles in world.tokens.values() for t in roles.values()]
    secrets.append(minted.json()["token"])
    leaked = [s for s in secrets if s in log]
    assert not leaked, f"the server log holds {len(leaked)} token(s)"
    assert "token=[redacted]" in log


def test_a_stream_without_a_valid_token_is_closed_with_4401(server: Server) -> None:
    world = w.register(server)
    for first in (json.dumps({"token": "nope"}), "not json", json.dumps(["x"])):
        with connect(_stream_url(server)) as ws:
            ws.send(first)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    with (
        connect(_stream_url(server), additional_headers=w.auth("nope")) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert world.tokens  # the parties exist: the refusals are about the token
