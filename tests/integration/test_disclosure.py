"""Disclosure, the security boundary: for every sharing level and every endpoint,
Russia and an outside party try to read what the coalition must not show them.

The coalition's aircraft is ``VIPER<k>``. Below ``full`` its id must not appear
anywhere in what another party receives (responses and stream); below ``conflicts``
nothing of it may appear at all. ``plans`` adds planned volumes (not yet served),
so it must show exactly what ``conflicts`` shows.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from deconfliction.store.engine import make_engine
from deconfliction.store.tables import alerts
from tests.conftest import Server, add_party
from tests.integration.helpers import StreamReader, flight, put_in_effect

pytestmark = pytest.mark.slow

LEVELS = ("zones", "conflicts", "plans", "full")


def _wait_for(fn: Any, timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _get(client: httpx.Client, path: str) -> tuple[int, Any]:
    r = client.get(path)
    return r.status_code, r.json()


def test_every_level_and_endpoint(server: Server) -> None:
    tokens = {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
        "syria": add_party(server.database_url, "syria", "officer", "ar"),
    }
    streams = {p: StreamReader(server.url, t) for p, t in tokens.items()}
    engine = make_engine(server.database_url)
    coalition = server.client(tokens["coalition"])
    russia = server.client(tokens["russia"])
    syria = server.client(tokens["syria"])
    try:
        for k, level in enumerate(LEVELS, start=1):
            put_in_effect(server.url, tokens, version=k, sharing=level)
            streams["russia"].collect(
                lambda got, v=k: any(
                    e["type"] == "protocol.effective" and e["data"]["version"] == v
                    for e in got
                )
            )
            viper, rf = f"VIPER{k}", f"RF{k}"
            now = time.time()
            # VIPER flies on the Russian side of the river (a line violation) head-on
            # with RF, which stays on its own side: one alert, one coalition incident.
            c_rows = flight(viper, 35.30, 39.70, 0.0, 420.0, 25000.0, now - 25, 6)
            r_rows = flight(rf, 35.60, 39.70, 180.0, 420.0, 25000.0, now - 25, 6)
            batch = {"batch_id": f"c{k}", "positions": c_rows}
            assert coalition.post("/v1/tracks", json=batch).is_success
            batch = {"batch_id": f"r{k}", "positions": r_rows}
            assert russia.post("/v1/tracks", json=batch).is_success

            def own_alert(v: str = viper) -> Any:
                # Read from the store: under "zones" nobody is shown alerts.
                with engine.connect() as conn:
                    rows = conn.execute(
                        select(alerts.c.id).where(alerts.c.aircraft_a == v)
                    ).all()
                return [{"id": r.id} for r in rows]

            def own_incident(v: str = viper) -> Any:
                return [
                    i
                    for i in coalition.get("/v1/incidents").json()
                    if i["party_id"] == "coalition" and i["aircraft"][0].get("id") == v
                ]

            alert = _wait_for(own_alert)[0]
            incident = _wait_for(own_incident)[0]
            _check_level(level, viper, alert, incident, russia, syria)

            events = streams["russia"].drain(1.5)
            types = [e["type"] for e in events]
            text = json.dumps(events)
            if level != "full":
                assert viper not in text, f"{level}: the stream leaked {viper}"
            if level == "zones":
                assert "alert.raised" not in types, f"{level}: alert on the stream"
                assert not any(
                    e["data"].get("party_id") == "coalition"
                    for e in events
                    if e["type"].startswith("incident.")
                ), f"{level}: coalition incident on the stream"
            else:
                assert "alert.raised" in types, f"{level}: no alert on the stream"
        assert streams["syria"].drain(1.0) == [], "an outsider got stream events"
    finally:
        for c in (coalition, russia, syria):
            c.close()
        engine.dispose()


def _check_level(
    level: str,
    viper: str,
    alert: dict[str, Any],
    incident: dict[str, Any],
    russia: httpx.Client,
    syria: httpx.Client,
) -> None:
    full = level == "full"
    shares_conflicts = level in ("conflicts", "plans", "full")

    # Live tracks and history.
    status, picture = _get(russia, "/v1/tracks")
    assert (viper in json.dumps(picture)) is full, f"{level}: live tracks"
    status, _ = _get(russia, f"/v1/tracks/coalition/{viper}")
    assert status == (200 if full else 404), f"{level}: track history"

    # Alerts: listed and by id.
    status, listed = _get(russia, "/v1/alerts")
    ids = {a["id"] for a in listed}
    assert (alert["id"] in ids) is shares_conflicts, f"{level}: alert list"
    status, one = _get(russia, f"/v1/alerts/{alert['id']}")
    assert status == (200 if shares_conflicts else 404), f"{level}: alert by id"
    if shares_conflicts:
        other = next(s for s in one["aircraft"] if s["party"] == "coalition")
        if full:
            assert other["id"] == viper
        else:
            assert set(other) == {"party", "cpa"}, f"{level}: alert not reduced"
    else:
        assert one["status"] == 404 and viper not in json.dumps(one)

    # Incidents: listed, by id, and counted.
    status, listed = _get(russia, "/v1/incidents")
    assert (incident["id"] in {i["id"] for i in listed}) is shares_conflicts
    status, one = _get(russia, f"/v1/incidents/{incident['id']}")
    assert status == (200 if shares_conflicts else 404), f"{level}: incident by id"
    if shares_conflicts and not full:
        assert "id" not in one["aircraft"][0]
        assert one["evidence"]["tracks"] == {}
    if full:
        assert one["aircraft"][0]["id"] == viper
        assert viper in one["evidence"]["tracks"]["coalition"]
    status, stats = _get(russia, "/v1/incidents/stats")
    assert ("coalition" in stats["by_party"]) is shares_conflicts, f"{level}: stats"

    # Whatever Russia got, below "full" the coalition aircraft's id is never in it.
    if not full:
        for path in ("/v1/tracks", "/v1/alerts", "/v1/incidents"):
            assert viper not in russia.get(path).text, f"{level}: {path} leaked"

    # A party outside the protocol sees nothing of either.
    for path in ("/v1/tracks", "/v1/alerts", "/v1/incidents"):
        assert syria.get(path).json() == [], f"{level}: {path} shown to an outsider"
    assert syria.get(f"/v1/alerts/{alert['id']}").status_code == 404
    assert syria.get(f"/v1/incidents/{incident['id']}").status_code == 404
    assert syria.get("/v1/protocols/current").status_code == 404
