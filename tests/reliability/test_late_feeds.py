"""Late feeds are never silently ignored (#21.3): positions more than the protocol's
``stale_after_s`` old were answered 201, stored, and never entered the live picture
(a head-on pass stamped 90 s in the past raised no alert), and nothing told the
sender. The answer counts them as history; ``feed.stale`` (and ``feed.resumed``)
go on the stream to whom may know; ``/healthz`` shows a token the feeds it may see,
with their lag and clock skew. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from deconfliction.service import events, ingest
from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import put_in_effect
from tests.reliability._store import COALITION, FAR, HAMA, INTERVAL_S, Store, at

STALE_AFTER_S = 60.0  # euphrates-2017


def _row(ident: str, t_s: float) -> dict[str, Any]:
    return {
        "id": ident,
        "time": t_s,
        "lat": HAMA[0],
        "lon": HAMA[1],
        "alt_ft": 20000.0,
        "gs_kt": 300.0,
        "trk_deg": 0.0,
        "vs_fpm": 0.0,
    }


def test_the_answer_says_which_positions_came_too_late_for_the_live_picture(
    server: Server, database_url: str
) -> None:
    tokens = {
        "coalition": add_party(database_url, "coalition", "officer"),
        "russia": add_party(database_url, "russia", "officer", "ru"),
    }
    put_in_effect(server.url, tokens)
    now = time.time()
    rows = [_row("V1", now - 90.0), _row("V2", now - 90.0), _row("V3", now)]
    with server.client(tokens["coalition"]) as c:
        r = c.post("/v1/tracks", json={"batch_id": "late", "positions": rows})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["accepted"] == 3
    assert (body["live_positions"], body["history_positions"]) == (1, 2)
    assert body["stale_after_s"] == STALE_AFTER_S
    assert body["notice"].startswith("2 of 3 positions were more than 60 s old")
    assert "do not enter the live picture" in body["notice"]


def test_exactly_stale_after_s_old_is_still_live(store: Store) -> None:
    now = store.clock.t_s
    rows = [
        _row("AT", now - STALE_AFTER_S),
        _row("PAST", now - STALE_AFTER_S - 0.001),
    ]
    with store.engine.begin() as conn:
        result = ingest.ingest_batch(
            conn, COALITION, "b", rows, now, 5.0, STALE_AFTER_S
        )
    assert (result.accepted, result.history_positions) == (2, 1)
    with store.engine.begin() as conn:
        fresh = ingest.ingest_batch(
            conn, COALITION, "c", [_row("NOW", now)], now, 5.0, STALE_AFTER_S
        )
    assert (fresh.history_positions, fresh.notice) == (0, None)


def _feed_events(store: Store, party: str) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        return [
            (e.type, e.data["party"])
            for e in events.fetch(conn, party, 0, limit=100_000)
            if e.type.startswith("feed.")
        ]


def test_a_stale_feed_is_said_once_to_whom_may_know_and_its_return_too(
    store: Store,
) -> None:
    live = store.run()
    live.tick()
    t = store.clock.t_s
    store.post(at("coalition", "C1", t, HAMA), at("russia", "R1", t, FAR))
    store.clock.advance(INTERVAL_S)
    live.tick()
    # Russia's feed falls silent; the coalition's goes on.
    for _ in range(int(STALE_AFTER_S / INTERVAL_S) - 1):
        store.post(at("coalition", "C1", store.clock.t_s, HAMA))
        store.clock.advance(INTERVAL_S)
        live.tick()
    assert store.clock.t_s - t == STALE_AFTER_S  # exactly stale_after_s: not stale
    assert _feed_events(store, "russia") == []
    store.clock.advance(0.001)
    live.tick()
    assert _feed_events(store, "russia") == [("feed.stale", "russia")]
    # Sharing "plans": the coalition may not see Russia's tracks, nor when it flies.
    assert _feed_events(store, "coalition") == []
    # A restart says nothing again; a position of now says the feed is back.
    store.clock.advance(INTERVAL_S)
    restarted = store.run()
    restarted.tick()
    assert _feed_events(store, "russia") == [("feed.stale", "russia")]
    store.post(at("russia", "R1", store.clock.t_s, FAR))
    store.clock.advance(INTERVAL_S)
    restarted.tick()
    assert _feed_events(store, "russia") == [
        ("feed.stale", "russia"),
        ("feed.resumed", "russia"),
    ]


def test_healthz_shows_a_token_the_feeds_it_may_see(
    database_url: str, tmp_path: Path
) -> None:
    operator = "operator-token-0123456789"
    tokens = {
        "coalition": add_party(database_url, "coalition", "officer"),
        "russia": add_party(database_url, "russia", "officer", "ru"),
    }
    server = start_server(
        database_url,
        tmp_path / "server.log",
        env={"DECONFLICTION_OPERATOR_TOKEN": operator},
    )
    try:
        put_in_effect(server.url, tokens)
        now = time.time()
        for party, t_s in (("coalition", now - 90.0), ("russia", now)):
            with server.client(tokens[party]) as c:
                r = c.post(
                    "/v1/tracks",
                    json={"batch_id": "b", "positions": [_row(f"{party}1", t_s)]},
                )
                assert r.status_code == 201, r.text
        seen = {}
        for who, token in (("anyone", None), *tokens.items(), ("operator", operator)):
            with server.client(token) as c:
                r = c.get("/healthz")
            assert r.status_code == 200, r.text
            seen[who] = r.json().get("feeds")
        with server.client("not-a-token") as c:
            assert "feeds" not in c.get("/healthz").json()
    finally:
        server.stop()
    assert seen["anyone"] is None
    assert list(seen["coalition"]) == ["coalition"]  # its own feed only
    assert list(seen["russia"]) == ["russia"]
    assert sorted(seen["operator"]) == ["coalition", "russia"]
    late = seen["operator"]["coalition"]
    assert late["stale"] is True and late["stale_after_s"] == STALE_AFTER_S
    assert late["lag_s"] >= 90.0
    assert 90.0 <= late["clock_skew_s"] < 90.0 + 30.0  # 90 s old on arrival
    assert seen["russia"]["russia"]["stale"] is False
    assert seen["russia"]["russia"]["clock_skew_s"] < 30.0
