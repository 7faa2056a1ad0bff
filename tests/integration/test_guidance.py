"""Manoeuvre guidance on live alerts (#17.5), through a real server on SQLite and
PostgreSQL, under each sharing level.

VIPER<k> (coalition) meets RF<k> (russia) head-on at FL250: one alert. RFX<k>
(russia) flies the same way as RF<k> 1,200 ft above it: no alert with VIPER<k>
(the minima are 1,000 ft), and under ``conflicts`` and ``plans`` the coalition may
not learn it is there. Its bands must then be computed without it: a climb at
3,000 fpm is free against RF<k> alone and NEAR with RFX<k> (the domain computes
both, and the server must give the one the sharing level allows).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from deconfliction.adapters.daa_files import bands_objects, load_config
from deconfliction.domain import geodesy
from deconfliction.domain.daa.picture import StepStates
from deconfliction.domain.daa.theatre import ownship_bands
from deconfliction.store.engine import make_engine
from deconfliction.store.tables import alerts
from tests.conftest import Server, add_party
from tests.integration.helpers import StreamReader, flight, protocol_text

pytestmark = pytest.mark.slow

LEVELS = ("zones", "conflicts", "plans", "full")
GS_KT = 420.0
CLIMB_FPM = 3000.0


def _propose(server: Server, tokens: dict[str, str], version: int, level: str) -> None:
    text = protocol_text(version, level) + '\n[guidance]\nconfig = "do-365b"\n'
    r = httpx.post(
        f"{server.url}/v1/protocols",
        content=text.encode(),
        headers={
            "Authorization": f"Bearer {tokens['coalition']}",
            "content-type": "application/toml",
        },
    )
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{server.url}/v1/protocols/euphrates-2017/versions/{version}/accept",
        headers={"Authorization": f"Bearer {tokens['russia']}"},
    )
    assert r.status_code == 200, r.text


def _wait_for(fn: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _dead_reckoned(row: dict[str, Any], t_s: float) -> tuple[float, float, float]:
    """The server's live state of a straight flight at ``t_s``."""
    age_s = t_s - row["time"]
    lat, lon = geodesy.destination(
        row["lat"], row["lon"], row["trk_deg"], row["gs_kt"] * age_s / 3600.0
    )
    return float(lat), float(lon), float(row["alt_ft"])


def _expected(
    rows: list[dict[str, Any]], t_s: float, traffic: list[int]
) -> dict[str, Any]:
    """Bands of rows[0] against rows[traffic], computed by the domain directly."""
    states = [_dead_reckoned(r, t_s) for r in rows]
    n = len(rows)
    step = StepStates(
        lat_deg=np.array([s[0] for s in states]),
        lon_deg=np.array([s[1] for s in states]),
        x_m=np.zeros(n),
        y_m=np.zeros(n),
        alt_ft=np.array([s[2] for s in states]),
        trk_deg=np.array([r["trk_deg"] for r in rows]),
        gs_kt=np.array([r["gs_kt"] for r in rows]),
        vs_fpm=np.zeros(n),
        alerter=np.zeros(n, dtype=np.int64),
    )
    config = load_config("do-365b")
    result = ownship_bands(
        config,
        step,
        np.array([0]),
        np.zeros(len(traffic), dtype=np.int64),
        np.array(traffic, dtype=np.int64),
    )
    names = tuple(str(k) for k in range(n))
    return next(iter(bands_objects(config, t_s, names, result)))


def _region_of(intervals: list[list[Any]], value: float) -> str:
    for lo, hi, region in intervals:
        if lo <= value <= hi:
            return str(region)
    raise AssertionError(f"{value} not covered by {intervals}")


def _side(alert: dict[str, Any], party: str) -> dict[str, Any]:
    return next(s for s in alert["aircraft"] if s["party"] == party)


def test_guidance_under_each_sharing_level(server: Server) -> None:
    tokens = {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
    }
    streams = {p: StreamReader(server.url, t) for p, t in tokens.items()}
    engine = make_engine(server.database_url)
    coalition = server.client(tokens["coalition"])
    russia = server.client(tokens["russia"])
    try:
        for k, level in enumerate(LEVELS, start=1):
            _propose(server, tokens, k, level)
            streams["russia"].collect(
                lambda got, v=k: any(
                    e["type"] == "protocol.effective" and e["data"]["version"] == v
                    for e in got
                )
            )
            # Each level's encounter about 75 NM from the last one's: out of reach.
            lon = 36.5 + 1.5 * k
            viper, rf, rfx = f"VIPER{k}", f"RF{k}", f"RFX{k}"
            now = time.time()
            v_rows = flight(viper, 35.30, lon, 0.0, GS_KT, 25000.0, now - 25, 6)
            r_rows = flight(rf, 35.60, lon, 180.0, GS_KT, 25000.0, now - 25, 6)
            x_rows = flight(rfx, 35.60, lon, 180.0, GS_KT, 26200.0, now - 25, 6)
            batch = {"batch_id": f"c{k}", "positions": v_rows}
            assert coalition.post("/v1/tracks", json=batch).is_success
            batch = {"batch_id": f"r{k}", "positions": r_rows + x_rows}
            assert russia.post("/v1/tracks", json=batch).is_success

            def stored(v: str = viper) -> Any:
                with engine.connect() as conn:
                    return conn.execute(
                        select(alerts.c.id, alerts.c.detail_json).where(
                            alerts.c.aircraft_a == v
                        )
                    ).all()

            row = _wait_for(stored)[0]
            if level == "zones":
                # Nobody is shown the alert, so nobody's guidance is computed.
                assert "guidance" not in row.detail_json
                assert russia.get("/v1/alerts").json() == []
                continue

            def listed(client: httpx.Client, alert_id: str = row.id) -> Any:
                return [
                    a for a in client.get("/v1/alerts").json() if a["id"] == alert_id
                ]

            c_alert = _wait_for(lambda: listed(coalition))[0]
            r_alert = _wait_for(lambda: listed(russia))[0]
            mine = _side(c_alert, "coalition")["guidance"]
            assert mine["config"] == "do-365b"
            # The other party's guidance is never shown, at any level.
            assert "guidance" not in _side(c_alert, "russia")
            assert "guidance" not in _side(r_alert, "coalition")
            assert "guidance" in _side(r_alert, "russia")
            assert json.dumps(mine) not in russia.get(f"/v1/alerts/{row.id}").text

            # Against what the coalition may see: RF only below full, RFX too at full.
            traffic = [1, 2] if level == "full" else [1]
            expected = _expected(
                [v_rows[-1], r_rows[-1], x_rows[-1]], mine["t_s"], traffic
            )
            want_vs = "NEAR" if level == "full" else "NONE"
            assert _region_of(expected["vertical_speed_fpm"], CLIMB_FPM) == want_vs
            assert _region_of(mine["vertical_speed_fpm"], CLIMB_FPM) == want_vs, level
            # Head-on: a turn, to the right on a tie, as the domain gives it.
            got_dir = mine["resolution"]["direction_deg"]
            want_dir = expected["resolution"]["direction_deg"]
            assert got_dir["preferred"] == want_dir["preferred"] == "right"
            assert abs(got_dir["right"] - want_dir["right"]) <= 1.0
            assert abs(got_dir["left"] - want_dir["left"]) <= 1.0
            assert [r for _, _, r in mine["direction_deg"]] == [
                r for _, _, r in expected["direction_deg"]
            ]

            # The stream: each party its own guidance, never the other's.
            for party, other in (("coalition", "russia"), ("russia", "coalition")):
                got = streams[party].collect(
                    lambda ev, i=row.id: any(
                        e["type"].startswith("alert.") and e["data"]["id"] == i
                        for e in ev
                    )
                )
                for e in got:
                    if e["type"] in ("alert.raised", "alert.updated"):
                        assert "guidance" in _side(e["data"], party), (level, e)
                        assert "guidance" not in _side(e["data"], other), (level, e)
    finally:
        for c in (coalition, russia):
            c.close()
        engine.dispose()
