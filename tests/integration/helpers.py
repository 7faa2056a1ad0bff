"""Helpers for the API tests: protocols, positions, stream reading."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, insert
from websockets.sync.client import connect

from deconfliction.adapters.protocol_file import builtin_protocol_path
from deconfliction.domain import geodesy
from deconfliction.service import alerts, protocols
from deconfliction.store.tables import operations


def protocol_text(version: int = 1, sharing: str = "conflicts") -> str:
    """The shipped euphrates-2017 protocol at a given version and sharing level."""
    text = builtin_protocol_path("euphrates-2017").read_text(encoding="utf-8")
    lines = []
    in_protocol = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            in_protocol = stripped == "[protocol]"
        if in_protocol and stripped.startswith("version"):
            line = f"version = {version}"
        if in_protocol and stripped.startswith("sharing"):
            line = f'sharing = "{sharing}"'
        lines.append(line)
    return "\n".join(lines) + "\n"


def put_in_effect(
    url: str, tokens: dict[str, str], version: int = 1, sharing: str = "conflicts"
) -> None:
    """Coalition proposes, Russia accepts."""
    text = protocol_text(version, sharing)
    r = httpx.post(
        f"{url}/v1/protocols",
        content=text.encode(),
        headers={
            "Authorization": f"Bearer {tokens['coalition']}",
            "content-type": "application/toml",
        },
    )
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{url}/v1/protocols/euphrates-2017/versions/{version}/accept",
        headers={"Authorization": f"Bearer {tokens['russia']}"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_effect"


def flight(
    ident: str,
    lat_deg: float,
    lon_deg: float,
    trk_deg: float,
    gs_kt: float,
    alt_ft: float,
    t0_s: float,
    n: int,
    step_s: float = 5.0,
) -> list[dict[str, Any]]:
    """A straight flight of ``n`` positions from (lat, lon) at ``t0_s``."""
    out = []
    for k in range(n):
        lat, lon = geodesy.destination(
            lat_deg, lon_deg, trk_deg, gs_kt * k * step_s / 3600
        )
        out.append(
            {
                "id": ident,
                "time": t0_s + k * step_s,
                "lat": float(lat),
                "lon": float(lon),
                "alt_ft": alt_ft,
                "gs_kt": gs_kt,
                "trk_deg": trk_deg,
                "vs_fpm": 0.0,
            }
        )
    return out


def encounter(now_s: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """VIPER11 (coalition) flies on the Russian side of the Euphrates near Tabqa and
    meets RF93 (russia) head-on: a line violation by the coalition and an alert."""
    viper = flight("VIPER11", 35.70, 38.60, 0.0, 420.0, 25000.0, now_s - 25, 6)
    rf = flight("RF93", 36.00, 38.60, 180.0, 420.0, 25000.0, now_s - 25, 6)
    return viper, rf


@dataclass
class StreamReader:
    """Collects a party's stream events until a condition holds."""

    url: str
    token: str
    after: int = 0

    def collect(
        self, until: Any, timeout_s: float = 20.0, must: bool = True
    ) -> list[dict[str, Any]]:
        """Events from ``after`` on, until ``until(events)`` holds (or the timeout:
        an error when ``must``, else what arrived)."""
        ws_url = self.url.replace("http://", "ws://") + f"/v1/stream?after={self.after}"
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        headers = {"Authorization": f"Bearer {self.token}"}
        with connect(ws_url, additional_headers=headers) as ws:
            while time.monotonic() < deadline:
                try:
                    raw = ws.recv(timeout=max(0.05, deadline - time.monotonic()))
                except TimeoutError:
                    break
                event = json.loads(raw)
                got.append(event)
                self.after = event["id"]
                if until(got):
                    return got
        if must:
            raise AssertionError(
                f"stream condition not met in {timeout_s} s; got {got!r}"
            )
        return got

    def drain(self, seconds: float) -> list[dict[str, Any]]:
        """Whatever arrives within ``seconds``."""
        return self.collect(lambda got: False, seconds, must=False)


def store_alert(
    conn: Connection, alert_id: str, coalition_id: str, russia_id: str, now_t_s: float
) -> None:
    """An alert between an aircraft of each party, as detection stores it: a
    manoeuvre message must refer to an alert its sender sees (#14, #17.5)."""
    side = {"cpa": {"lat_deg": 35.5, "lon_deg": 39.7, "alt_ft": 25000.0}}
    alerts.save(
        conn,
        {
            "id": alert_id,
            "level": "warning",
            "max_level": "warning",
            "active": True,
            "raised_t_s": now_t_s,
            "updated_t_s": now_t_s,
            "cleared_t_s": None,
            "tcpa_s": 60.0,
            "dcpa_nm": 0.5,
            "dalt_ft_at_cpa": 0.0,
            "tin_s": 30.0,
            "min_dcpa_nm": 0.5,
            "aircraft": [
                {"party": "coalition", "id": coalition_id, **side},
                {"party": "russia", "id": russia_id, **side},
            ],
        },
        None,
        "alert.raised",
        now_t_s,
        protocols.current_sharing(conn),
    )


def store_operation(conn: Connection, op_id: str, party: str, now_t_s: float) -> None:
    """An operation of ``party`` as the store keeps it (no volumes, no check): a
    message's ``operation_id`` must be an operation its sender sees (#14.3)."""
    conn.execute(
        insert(operations).values(
            id=op_id,
            party_id=party,
            kind="air_patrol",
            version=1,
            ovn="ovn-" + op_id,
            state="accepted",
            short_notice=0,
            conflicted=0,
            body_json="{}",
            aircraft_json="[]",
            check_json="{}",
            time_start_t_s=now_t_s,
            time_end_t_s=now_t_s + 3600.0,
            filed_t_s=now_t_s,
            updated_t_s=now_t_s,
        )
    )
