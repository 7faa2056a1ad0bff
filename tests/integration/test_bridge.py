"""``feed`` (a live receiver into the server) and ``tak`` (the server's stream out
to a TAK endpoint), against a real server process and loopback sockets."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from deconfliction.cli import bridge
from tests.adapters.interop_samples import flight as sample_flight
from tests.adapters.interop_samples import sbs_lines
from tests.conftest import Server, add_party
from tests.integration.helpers import encounter, put_in_effect

pytestmark = pytest.mark.slow


def _app() -> typer.Typer:
    app = typer.Typer()
    bridge.register(app)
    return app


class _Receiver:
    """A dump1090-like SBS server on loopback: plays its lines to one client."""

    def __init__(self, lines: list[str]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.lines = lines
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            for line in self.lines:
                conn.sendall((line + "\r\n").encode())
            time.sleep(3.0)

    def close(self) -> None:
        self.sock.close()


class _TakListener:
    """A TAK server's plain CoT port on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.data = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(20)
            try:
                while chunk := conn.recv(65536):
                    self.data += chunk
            except OSError:
                pass


def test_feed_posts_a_receivers_positions(server: Server) -> None:
    token = add_party(server.database_url, "coalition", "officer")
    now = time.time()
    samples = sample_flight(
        "4CA123", "VIPER11", 35.9, 40.5, 90.0, 420.0, 25000.0, now - 5, 8
    )
    receiver = _Receiver(sbs_lines(samples))
    try:
        result = CliRunner().invoke(
            _app(),
            [
                "feed",
                f"sbs://127.0.0.1:{receiver.port}",
                "--to",
                server.url,
                "--token",
                token,
                "--max-seconds",
                "3",
                "--flush-s",
                "0.5",
            ],
        )
    finally:
        receiver.thread.join(10)
        receiver.close()
    assert result.exit_code == 0, result.output
    assert "accepted" in result.stderr
    with server.client(token) as client:
        history = client.get("/v1/tracks/coalition/4CA123")
        assert history.status_code == 200, history.text
        assert len(history.json()) >= 5


def test_tak_gets_zones_lines_and_the_alert(server: Server, tmp_path: Path) -> None:
    tokens = {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
    }
    put_in_effect(server.url, tokens)
    listener = _TakListener()
    outcome: dict[str, object] = {}

    def run() -> None:
        outcome["result"] = CliRunner().invoke(
            _app(),
            [
                "tak",
                "--server",
                server.url,
                "--token",
                tokens["coalition"],
                "--to",
                f"tcp://127.0.0.1:{listener.port}",
                "--max-seconds",
                "8",
            ],
        )

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(1.5)
    viper, rf = encounter(time.time())
    with server.client(tokens["coalition"]) as c, server.client(tokens["russia"]) as r:
        assert c.post(
            "/v1/tracks", json={"batch_id": "v", "positions": viper}
        ).is_success
        assert r.post("/v1/tracks", json={"batch_id": "r", "positions": rf}).is_success
    thread.join(30)
    listener.thread.join(25)
    listener.sock.close()
    result = outcome["result"]
    assert getattr(result, "exit_code", None) == 0, getattr(result, "output", result)
    text = listener.data.decode("utf-8")
    assert 'uid="DCF-zone-al-tanf"' in text and 'uid="DCF-line-euphrates"' in text
    assert "DCF-alert-" in text and "b-m-p-s-p-i" in text
    assert "VIPER11" in text, "the party's own aircraft is named"
    assert "RF93" not in text, "under conflicts the other aircraft stays unnamed"
    assert 'type="a-h' not in text, "nothing hostile by default"


def test_tak_in_protobuf(server: Server) -> None:
    """--protobuf: the stream form over TCP, which reads back to the same events."""
    from takproto import parse_proto

    tokens = {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
    }
    put_in_effect(server.url, tokens)
    listener = _TakListener()
    result = CliRunner().invoke(
        _app(),
        [
            "tak",
            "--server",
            server.url,
            "--token",
            tokens["coalition"],
            "--to",
            f"tcp://127.0.0.1:{listener.port}",
            "--max-seconds",
            "2",
            "--protobuf",
        ],
    )
    listener.thread.join(25)
    listener.sock.close()
    assert result.exit_code == 0, result.output
    data = listener.data
    assert data[:1] == b"\xbf" and b"<event" not in data
    uids = []
    while data:  # 0xBF, a varint length, the message
        length, shift, at = 0, 0, 1
        while True:
            byte = data[at]
            length |= (byte & 0x7F) << shift
            at += 1
            shift += 7
            if not byte & 0x80:
                break
        message = parse_proto(bytearray(data[: at + length]))
        uids.append(message.cotEvent.uid)
        data = data[at + length :]
    assert "DCF-zone-al-tanf" in uids and "DCF-line-euphrates" in uids
