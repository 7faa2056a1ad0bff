"""Real server processes on loopback around one continuous encounter: VIPER11
(coalition) flies north on the Russian side of the Euphrates with RF93 (russia) 2 NM
to its east at the same level, for as long as the test feeds them. That is a line
violation by VIPER11, a loss of separation and an alert, all ongoing."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from sqlalchemy import select

from deconfliction.domain import geodesy
from deconfliction.service import events
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import alerts, detection_state, incidents
from tests.conftest import Server, add_party
from tests.integration.helpers import put_in_effect

WAIT_S = 60.0  # bound on every wait (a loaded 2-core machine starts a server in ~5 s)
START = (35.0, 36.5)  # near Hama, west of the river, clear of the zones
GS_KT = 300.0
ALT_FT = 25000.0
SIDE_NM = 2.0  # RF93's offset east of VIPER11: inside the 5 NM minimum


def tokens(database_url: str) -> dict[str, str]:
    """Officer tokens of the two parties."""
    return {
        "coalition": add_party(database_url, "coalition", "officer"),
        "russia": add_party(database_url, "russia", "officer", "ru"),
    }


def _position(ident: str, lat_deg: float, lon_deg: float, t_s: float) -> dict[str, Any]:
    return {
        "id": ident,
        "time": t_s,
        "lat": lat_deg,
        "lon": lon_deg,
        "alt_ft": ALT_FT,
        "gs_kt": GS_KT,
        "trk_deg": 0.0,
        "vs_fpm": 0.0,
    }


def post_encounter(
    server: Server, tokens_: dict[str, str], t0_s: float, t_s: float
) -> None:
    """Both aircraft at ``t_s`` on their tracks from ``t0_s``, each posted by its
    party (batch ids from the time: a retry is harmless)."""
    lat, lon = geodesy.destination(*START, 0.0, GS_KT * (t_s - t0_s) / 3600.0)
    r_lat, r_lon = geodesy.destination(float(lat), float(lon), 90.0, SIDE_NM)
    for party, row in (
        ("coalition", _position("VIPER11", float(lat), float(lon), t_s)),
        ("russia", _position("RF93", float(r_lat), float(r_lon), t_s)),
    ):
        with server.client(tokens_[party]) as client:
            r = client.post(
                "/v1/tracks",
                json={"batch_id": f"{party}-{t_s:.3f}", "positions": [row]},
            )
            assert r.status_code in (200, 201), r.text


def start_encounter(server: Server, tokens_: dict[str, str]) -> float:
    """Put the protocol in effect and post the encounter's first positions."""
    put_in_effect(server.url, tokens_, sharing="conflicts")
    t0_s = time.time()
    post_encounter(server, tokens_, t0_s, t0_s)
    return t0_s


def stored(database_url: str) -> dict[str, Any]:
    """What the store holds: alerts, incidents, and the coalition's event types."""
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as conn:
            alert_rows = list(conn.execute(select(alerts)).all())
            incident_rows = list(conn.execute(select(incidents)).all())
            stream = events.fetch(conn, "coalition", 0, limit=100_000)
    finally:
        engine.dispose()
    return {
        "alerts": [(a.id, a.cleared_t_s) for a in alert_rows],
        "incidents": sorted((i.kind, i.id, i.end_t_s) for i in incident_rows),
        "events": Counter(e.type for e in stream),
        "raised": [e.data["id"] for e in stream if e.type == "alert.raised"],
    }


def wait_until(condition: Any, what: str, server: Server | None = None) -> None:
    """Poll ``condition()`` until it holds (an error after ``WAIT_S``)."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            log = server.log() if server is not None else ""
            raise AssertionError(f"not in {WAIT_S} s: {what}\n{log}")
        threading.Event().wait(0.1)


def ticked_after(database_url: str, t_s: float) -> bool:
    """Whether live detection (whichever process runs it) has committed a tick
    after ``t_s``."""
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as conn:
            tick_t_s = conn.execute(select(detection_state.c.tick_t_s)).scalar()
    finally:
        engine.dispose()
    return tick_t_s is not None and tick_t_s > t_s


def detection_holder(database_url: str) -> str | None:
    """The process that holds live detection (``host:pid:nonce``), if any."""
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as conn:
            holder = conn.execute(select(detection_state.c.holder)).scalar()
    finally:
        engine.dispose()
    return None if holder is None else str(holder)


def encounter_alerted(database_url: str) -> bool:
    """Whether the encounter has its alert and both its incidents."""
    now = stored(database_url)
    kinds = {kind for kind, _, _ in now["incidents"]}
    return bool(now["alerts"]) and {"loss_of_separation", "line_violation"} <= kinds
