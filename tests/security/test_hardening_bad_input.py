"""Attack: make the server fail (500) with input it should refuse (4xx), and so lose
the valid data sent beside it or poison what others read later.

Each case was a 500 or worse: a time that is not one (``since=garbage``), ids above
2^63, ``?after=1e23`` on the stream, JSON nested 200,000 deep, a 5,000-digit number,
a lone surrogate, NUL (on PostgreSQL the whole batch failed, valid rows included),
NaN and other impossible times (stored, then served as null), nested TOML, the same
new operation id filed by two parties at once. A real server on loopback, SQLite and
PostgreSQL; and the command line for the TOML."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import Server, add_party
from tests.integration.helpers import put_in_effect
from tests.security.world import operation_body

pytestmark = pytest.mark.slow

WS_BAD_REQUEST = 4400
DEEP = "[" * 200_000 + "]" * 200_000
HUGE_INT = "9" * 5000


@pytest.fixture
def tokens(server: Server) -> dict[str, str]:
    tokens = {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
    }
    put_in_effect(server.url, tokens)
    return tokens


def _client(server: Server, token: str) -> httpx.Client:
    return server.client(token)


def _assert_4xx(r: httpx.Response) -> None:
    assert 400 <= r.status_code < 500, (r.request.method, r.request.url, r.text)
    assert r.headers["content-type"] == "application/problem+json", r.text


def test_garbage_times_and_huge_ids_get_4xx(
    server: Server, tokens: dict[str, str]
) -> None:
    with _client(server, tokens["coalition"]) as c:
        for path in (
            "/v1/hotline/messages",
            "/v1/incidents",
            "/v1/incidents/stats",
            "/v1/tracks/coalition/A1",
        ):
            for since in ("garbage", "NaN", "-1e308", "0001-01-01T00:00:00Z", HUGE_INT):
                _assert_4xx(c.get(path, params={"since": since}))
        for big in (2**63, 2**64, 10**30):
            for method, path in (
                ("GET", f"/v1/hotline/messages/{big}"),
                ("POST", f"/v1/hotline/messages/{big}/ack"),
                ("POST", f"/v1/hotline/suspensions/{big}/resume"),
                ("GET", f"/v1/incidents/{big}"),
                ("POST", f"/v1/incidents/{big}/remarks"),
                ("POST", f"/v1/incidents/{big}/status"),
                ("POST", f"/v1/incidents/{big}/complaint"),
                ("GET", f"/v1/protocols/euphrates-2017/versions/{big}"),
                ("POST", f"/v1/protocols/euphrates-2017/versions/{big}/accept"),
                ("DELETE", f"/v1/parties/coalition/tokens/{big}"),
            ):
                _assert_4xx(c.request(method, path, json={}))
        _assert_4xx(
            c.post(
                "/v1/hotline/messages",
                json={
                    "to": "russia",
                    "kind": "free_text",
                    "text": "x",
                    "reply_to": 2**64,
                },
            )
        )
        _assert_4xx(c.get("/v1/protocols/euphrates-2017/versions/2147483648"))


def test_stream_after_that_is_not_an_event_id_gets_4400(
    server: Server, tokens: dict[str, str]
) -> None:
    base = server.url.replace("http://", "ws://") + "/v1/stream?after="
    headers = {"Authorization": f"Bearer {tokens['coalition']}"}
    for after in ("1e23", str(10**23), "-1", "x", str(2**63)):
        with (
            connect(base + after, additional_headers=headers) as ws,
            pytest.raises(ConnectionClosed) as closed,
        ):
            ws.recv(timeout=20)
        assert closed.value.rcvd is not None, after
        assert closed.value.rcvd.code == WS_BAD_REQUEST, after


def test_deep_huge_and_non_finite_bodies_get_4xx(
    server: Server, tokens: dict[str, str]
) -> None:
    json_routes = (
        "/v1/hotline/messages",
        "/v1/tracks",
        "/v1/operations",
        "/v1/hotline/suspensions",
        "/v1/parties/coalition/tokens",
        "/v1/incidents/1/remarks",
    )
    with _client(server, tokens["coalition"]) as c:
        for path in json_routes:
            for body in (DEEP, f'{{"n": {HUGE_INT}}}', '{"positions": [' + DEEP + "]}"):
                r = c.post(
                    path, content=body, headers={"content-type": "application/json"}
                )
                _assert_4xx(r)
        for facts in ('{"n": NaN}', '{"n": Infinity}', '{"n": 1e5000}'):
            head = '{"to": "russia", "kind": "free_text", "text": "x", "facts": '
            r = c.post(
                "/v1/hotline/messages",
                content=head + facts + "}",
                headers={"content-type": "application/json"},
            )
            _assert_4xx(r)
        r = c.post(
            "/v1/protocols",
            content=("[a]\nk = " + "[" * 5000 + "]" * 5000 + "\n").encode(),
            headers={"content-type": "application/toml"},
        )
        _assert_4xx(r)
        assert c.get("/v1/hotline/messages", params={"box": "out"}).json() == []


def _row(ident: str, t: Any, lat: Any = 35.0) -> dict[str, Any]:
    return {
        "id": ident,
        "time": t,
        "lat": lat,
        "lon": 38.0,
        "alt_ft": 20000.0,
        "gs_kt": 300.0,
        "trk_deg": 90.0,
        "vs_fpm": 0.0,
    }


def test_nul_surrogates_and_impossible_times_lose_no_valid_row(
    server: Server, tokens: dict[str, str]
) -> None:
    now = time.time()
    rows = [
        _row("GOOD1", now),
        _row("NUL\u0000", now),
        _row("LONE\ud800", now),
        _row("T1", "-Infinity"),
        _row("T2", -1e308),
        _row("T3", "0001-01-01T00:00:00Z"),
        _row("T4", "NaN"),
        _row("T5", HUGE_INT),
        _row("L1", now, lat=HUGE_INT),
    ]
    body = json.dumps({"batch_id": "b1", "positions": rows}).encode()
    body = body.replace(b'"-Infinity"', b"-Infinity").replace(b'"NaN"', b"NaN")
    body = body.replace(f'"{HUGE_INT}"'.encode(), HUGE_INT[:4000].encode())
    with _client(server, tokens["coalition"]) as c:
        r = c.post(
            "/v1/tracks", content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["accepted"] == 1
        assert sorted({x["row"] for x in out["rejected"]}) == list(range(2, 10))
        history = c.get("/v1/tracks/coalition/GOOD1").json()
        assert [p["t_s"] for p in history] == [pytest.approx(now)]
        assert all(p["id"] == "GOOD1" for p in c.get("/v1/tracks").json())
        # Text that is not text, elsewhere: refused before anything is stored.
        for text in ("lone \ud800 surrogate", "nul \u0000 here"):
            r = c.post(
                "/v1/hotline/messages",
                content=json.dumps({"to": "russia", "kind": "free_text", "text": text}),
                headers={"content-type": "application/json"},
            )
            _assert_4xx(r)
        _assert_4xx(c.get("/v1/tracks/coalition/GOOD1%00"))
        _assert_4xx(c.get("/v1/alerts/x%00y"))
        assert c.get("/v1/hotline/messages", params={"box": "out"}).json() == []


def test_same_new_operation_id_filed_by_two_parties_at_once(
    server: Server, tokens: dict[str, str]
) -> None:
    for attempt in range(4):
        op_id = f"race-{attempt}"
        statuses: list[int] = []
        barrier = threading.Barrier(2)

        def file(
            party: str,
            lat: float,
            op_id: str = op_id,
            barrier: threading.Barrier = barrier,
            statuses: list[int] = statuses,
        ) -> None:
            with _client(server, tokens[party]) as c:
                body = operation_body(op_id, lat, 41.0)
                body["aircraft"] = []
                barrier.wait()
                statuses.append(c.post("/v1/operations", json=body).status_code)

        threads = [
            threading.Thread(target=file, args=("coalition", 36.3)),
            threading.Thread(target=file, args=("russia", 34.0)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(statuses) == 2
        assert all(s < 500 for s in statuses), statuses
        assert 201 in statuses, statuses


def test_nested_toml_is_a_clear_error_from_the_command_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("[protocol]\nk = " + "[" * 5000 + "]" * 5000 + "\n")
    states = tmp_path / "states.csv"
    states.write_text(
        "id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\nA,35,38,20000,300,90,0\n"
    )
    exe = Path(sys.executable).parent / "deconfliction"
    done = subprocess.run(
        [str(exe), "detect", str(states), "--protocol", str(deep)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "nested too deep" in done.stderr
    assert "Traceback" not in done.stderr
