"""Attack: blind the detector with one position at a pole.

One position at latitude 89.95, posted by any token holder (even a party the
protocol does not name), made every detection tick fail with ``PolarRegionError``:
a new head-on conflict then got no alert. Such rows are refused at ingestion, and
the live loop sets aside any aircraft it cannot compute instead of failing the tick
(a real server on loopback, SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import insert

from deconfliction.store import engine as store_engine
from deconfliction.store.tables import positions
from tests.conftest import Server, add_party
from tests.integration.helpers import StreamReader, encounter, put_in_effect

pytestmark = pytest.mark.slow

POLAR_LAT_DEG = 89.95


@pytest.fixture
def tokens(server: Server) -> dict[str, str]:
    return {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
        "outsider": add_party(server.database_url, "outsider", "officer"),
    }


def _row(ident: str, lat: float, t_s: float) -> dict[str, object]:
    return {
        "id": ident,
        "time": t_s,
        "lat": lat,
        "lon": 10.0,
        "alt_ft": 30000.0,
        "gs_kt": 450.0,
        "trk_deg": 0.0,
        "vs_fpm": 0.0,
    }


def test_polar_position_is_refused_at_ingestion(
    server: Server, tokens: dict[str, str]
) -> None:
    now = time.time()
    with server.client(tokens["outsider"]) as c:
        r = c.post(
            "/v1/tracks",
            json={
                "batch_id": "polar",
                "positions": [
                    _row("NORTH1", POLAR_LAT_DEG, now),
                    _row("SOUTH1", -POLAR_LAT_DEG, now),
                    _row("OK1", 60.0, now),
                ],
            },
        )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["accepted"] == 1
    assert [(x["row"], x["field"]) for x in body["rejected"]] == [
        (1, "lat"),
        (2, "lat"),
    ]
    assert "pole" in body["rejected"][0]["message"]


def test_polar_aircraft_never_blinds_detection(
    server: Server, tokens: dict[str, str]
) -> None:
    """A polar position already in the store (written before the ingestion check,
    or by another writer) is set aside; the encounter next to it is alerted. It is
    one of Russia's aircraft: an outsider's never enter detection at all
    (test_outsider_aircraft.py)."""
    put_in_effect(server.url, tokens)
    now = time.time()
    engine = store_engine.make_engine(server.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(positions).values(
                    party_id="russia",
                    aircraft_id="NORTH1",
                    t_s=now,
                    lat_deg=POLAR_LAT_DEG,
                    lon_deg=10.0,
                    alt_ft=30000.0,
                    gs_kt=450.0,
                    trk_deg=0.0,
                    vs_fpm=0.0,
                    batch_id="legacy",
                    received_t_s=now,
                )
            )
    finally:
        engine.dispose()
    viper, rf = encounter(time.time())
    for party, rows in (("coalition", viper), ("russia", rf)):
        with server.client(tokens[party]) as c:
            r = c.post("/v1/tracks", json={"batch_id": "b1", "positions": rows})
            assert r.status_code == 201, r.text
    russia = StreamReader(server.url, tokens["russia"])
    got = russia.collect(
        lambda got: {"alert.raised", "aircraft.set_aside"} <= {e["type"] for e in got}
    )
    assert any(e["type"] == "alert.raised" for e in got)
    set_aside = [e for e in got if e["type"] == "aircraft.set_aside"]
    assert [e["data"]["aircraft"] for e in set_aside] == ["NORTH1"]
    # Said once, to its own party only.
    assert not any(
        e["type"] == "aircraft.set_aside"
        for e in StreamReader(server.url, tokens["coalition"]).drain(1.0)
    )
    assert [e["type"] for e in russia.drain(1.0)].count("aircraft.set_aside") == 0
