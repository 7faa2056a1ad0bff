"""Late feeds are never silently ignored (#21.3): positions more than the protocol's
``stale_after_s`` old were answered 201, stored, and never entered the live picture
(a head-on pass stamped 90 s in the past raised no alert), and nothing told the
sender. The answer counts them as history; SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from deconfliction.service import ingest
from tests.conftest import Server, add_party
from tests.integration.helpers import put_in_effect
from tests.reliability._store import COALITION, HAMA, Store

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
