"""A restart is invisible to the parties with two agreements in effect (issue 21,
item 1; issue 14, item 3): each agreement's lane continues its own alert and
incidents through a SIGKILL, with their ids of before, no all-clear and nothing
opened twice. On SQLite and PostgreSQL, with real server processes on loopback.

euphrates-2017 binds the coalition and Russia; euphrates-rs, the same line (same
line id) and zones, binds Russia and Syria (Syria on the east bank). VIPER11
(coalition) flies north west of the river with RF93 (russia) 2 NM to its east and
SY7 (syria) 2 NM to its west: under euphrates-2017 VIPER11's line violation and its
loss of separation with RF93, under euphrates-rs SY7's line violation of the same
line and its loss of separation with RF93 (4 NM apart); VIPER11 and SY7, whom no
agreement binds, are never compared.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from deconfliction.domain import geodesy
from deconfliction.service import events
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import alerts, incidents
from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import protocol_text
from tests.reliability._servers import (
    ALT_FT,
    GS_KT,
    SIDE_NM,
    START,
    ticked_after,
    wait_until,
)

pytestmark = pytest.mark.slow

INTERVAL_S = 0.5
TICKS_AFTER_RESTART = 6  # three times the alert's hysteresis (two intervals)
PARTIES = {"coalition": "en", "russia": "ru", "syria": "ar"}
SECOND = "euphrates-rs"


def _second_agreement() -> str:
    """euphrates-2017's line and zones between Russia and Syria."""
    text = protocol_text(1, "conflicts").replace(
        'id = "euphrates-2017"', f'id = "{SECOND}"'
    )
    head, _, rest = text.partition("[[parties]]")
    tail = rest[rest.index("[separation]") :]
    named = "".join(
        f'[[parties]]\nid = "{p}"\nname = "{p}"\nlanguage = "{PARTIES[p]}"\n\n'
        for p in ("russia", "syria")
    )
    tail = tail.replace('coalition = "east"', 'syria = "east"')
    tail = tail.replace('owner = "coalition"', 'owner = "syria"')
    return head + named + tail


def _agree(server: Server, tokens: dict[str, str]) -> None:
    for proposer, accepter, protocol_id, text in (
        ("coalition", "russia", "euphrates-2017", protocol_text(1, "conflicts")),
        ("russia", "syria", SECOND, _second_agreement()),
    ):
        with server.client(tokens[proposer]) as client:
            r = client.post(
                "/v1/protocols",
                content=text.encode(),
                headers={"content-type": "application/toml"},
            )
            assert r.status_code == 201, r.text
        with server.client(tokens[accepter]) as client:
            r = client.post(f"/v1/protocols/{protocol_id}/versions/1/accept")
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "in_effect", r.text


def _post(server: Server, tokens: dict[str, str], t0_s: float, t_s: float) -> None:
    """The three aircraft at ``t_s`` on their tracks from ``t0_s``."""
    lat, lon = geodesy.destination(*START, 0.0, GS_KT * (t_s - t0_s) / 3600.0)
    here = (float(lat), float(lon))
    for party, ident, bearing_deg in (
        ("coalition", "VIPER11", None),
        ("russia", "RF93", 90.0),
        ("syria", "SY7", 270.0),
    ):
        at = here
        if bearing_deg is not None:
            a_lat, a_lon = geodesy.destination(*here, bearing_deg, SIDE_NM)
            at = (float(a_lat), float(a_lon))
        row = {
            "id": ident,
            "time": t_s,
            "lat": at[0],
            "lon": at[1],
            "alt_ft": ALT_FT,
            "gs_kt": GS_KT,
            "trk_deg": 0.0,
            "vs_fpm": 0.0,
        }
        with server.client(tokens[party]) as client:
            r = client.post(
                "/v1/tracks",
                json={"batch_id": f"{party}-{t_s:.3f}", "positions": [row]},
            )
            assert r.status_code in (200, 201), r.text


def _stored(database_url: str) -> dict[str, Any]:
    """Alerts, incidents, and every party's event types and raised alert ids."""
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as conn:
            alert_rows = list(conn.execute(select(alerts)).all())
            incident_rows = list(conn.execute(select(incidents)).all())
            streams = {p: events.fetch(conn, p, 0, limit=100_000) for p in PARTIES}
    finally:
        engine.dispose()
    return {
        "alerts": sorted(
            (frozenset((a.party_a, a.party_b)), a.id, a.cleared_t_s) for a in alert_rows
        ),
        "incidents": sorted(
            (i.kind, i.party_id, i.boundary_id, i.id, i.end_t_s) for i in incident_rows
        ),
        "events": {p: Counter(e.type for e in s) for p, s in streams.items()},
        "raised": {
            p: sorted(e.data["id"] for e in s if e.type == "alert.raised")
            for p, s in streams.items()
        },
    }


def _both_lanes_alerted(database_url: str) -> bool:
    now = _stored(database_url)
    kinds = Counter(kind for kind, *_ in now["incidents"])
    return len(now["alerts"]) == 2 and kinds == {
        "loss_of_separation": 2,
        "line_violation": 2,
    }


def test_each_lane_goes_on_through_a_sigkill(database_url: str, tmp_path: Path) -> None:
    tokens = {
        p: add_party(database_url, p, "officer", lang) for p, lang in PARTIES.items()
    }
    first = start_server(database_url, tmp_path / "first.log", INTERVAL_S)
    try:
        _agree(first, tokens)
        t0_s = time.time()
        _post(first, tokens, t0_s, t0_s)
        wait_until(lambda: _both_lanes_alerted(database_url), "both lanes", first)
        before = _stored(database_url)
        first.stop(kill=True)
    finally:
        first.stop(kill=True)
    assert first.process.returncode == -signal.SIGKILL
    # The picture this test is about: one alert and two incidents per agreement.
    assert [pair for pair, _, _ in before["alerts"]] == sorted(
        [frozenset({"coalition", "russia"}), frozenset({"russia", "syria"})]
    )
    lines = [(k, p, b) for k, p, b, _, _ in before["incidents"] if b is not None]
    assert lines == [
        ("line_violation", "coalition", "euphrates"),
        ("line_violation", "syria", "euphrates"),
    ]

    second = start_server(database_url, tmp_path / "second.log", INTERVAL_S)
    try:
        t_s = time.time()
        _post(second, tokens, t0_s, t_s)  # the encounters go on
        wait_until(
            lambda: ticked_after(database_url, t_s + TICKS_AFTER_RESTART * INTERVAL_S),
            "ticks after the restart",
            second,
        )
        shown = {}
        for party in PARTIES:
            with second.client(tokens[party]) as client:
                listed = client.get("/v1/alerts?active=true")
                assert listed.status_code == 200, listed.text
                shown[party] = sorted(a["id"] for a in listed.json())
    finally:
        second.stop()

    after = _stored(database_url)
    # The same two alerts, still active, each raised once and never cleared.
    assert after["alerts"] == before["alerts"]
    assert all(cleared is None for _, _, cleared in after["alerts"])
    ids = {pair: i for pair, i, _ in before["alerts"]}
    with_russia = ids[frozenset({"coalition", "russia"})]
    with_syria = ids[frozenset({"russia", "syria"})]
    assert shown == {
        "coalition": [with_russia],
        "russia": sorted([with_russia, with_syria]),
        "syria": [with_syria],
    }
    assert after["raised"] == shown
    # The same four incidents, with their ids of before, all still ongoing.
    assert after["incidents"] == before["incidents"]
    assert all(end is None for *_, end in after["incidents"])
    for party, counted in after["events"].items():
        assert counted["alert.cleared"] == 0, party
        assert counted["incident.closed"] == 0, party
        assert counted["incident.opened"] == before["events"][party]["incident.opened"]
    assert after["events"]["russia"]["incident.opened"] > 0  # a broken test else
