"""The referee for ``conflicts`` between nodes (issue 16, item 3).

Under ``conflicts`` no position of an aircraft that is not in conflict leaves its
node. Detection across parties runs on a neutral third node both sides name in the
protocol (``[nodes.referee] url, fingerprint, window_s``), started like any node
(``deconfliction node init --party referee``, ``serve --node``):

* every link round each party's node sends the referee the newest position of each
  of its own aircraft heard within ``stale_after_s`` (``POST
  /v1/federation/referee/tracks``, mutual TLS, same protocol version);
* the referee keeps each party's latest picture **in memory only**, replaced by the
  next one, and forgets it ``window_s`` after it came (never written to its store);
* it runs detection over every party's picture and answers the sender only with
  the positions of the *other* parties' aircraft in conflict with the sender's;
* the sender stores those as the other party's positions, and its own live
  detection raises the alert, as if the other side had posted that aircraft there.

The referee learns the protocol as the parties' nodes do (offers and acceptances
are sent to it too), and pins the nodes a version names once that version,
naming it as referee with its own certificate, was offered to it with a valid
signature: it takes traffic from those nodes only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
from sqlalchemy import Connection, select

from deconfliction.domain import geodesy
from deconfliction.domain.detect import computable, detect_conflicts
from deconfliction.domain.model import AircraftStates
from deconfliction.domain.protocol import REFEREE, Protocol, SharingLevel
from deconfliction.errors import InputError, Problem
from deconfliction.federation import certs
from deconfliction.federation.link import Federation
from deconfliction.service import ingest, protocols
from deconfliction.service.auth import Principal, Role
from deconfliction.store.tables import positions
from deconfliction.units import S_PER_H, S_PER_MIN

log = logging.getLogger(__name__)

PATH: str = "/v1/federation/referee/tracks"
MAX_AIRCRAFT: int = 50_000  # per party's picture: as a track batch
_FIELDS: tuple[str, ...] = ("lat", "lon", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")


def uses_referee(protocol: Protocol | None) -> bool:
    """Whether detection across nodes goes through the referee: ``conflicts``
    with a referee named (above it tracks go to the peers, below it nothing)."""
    return (
        protocol is not None
        and protocol.referee is not None
        and protocol.sharing is SharingLevel.CONFLICTS
    )


@dataclass(frozen=True, slots=True)
class _Picture:
    received_t_s: float
    rows: list[dict[str, Any]]


class Referee:
    """What a referee node holds: each party's latest picture, in memory, for at
    most the protocol's window. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, _Picture] = {}

    def forget_older_than(self, limit_t_s: float) -> None:
        """Drop every picture received before ``limit_t_s``."""
        with self._lock:
            for party in [
                p for p, v in self._held.items() if v.received_t_s < limit_t_s
            ]:
                del self._held[party]

    def held(self) -> dict[str, int]:
        """How many aircraft it holds, by party (nothing after the window)."""
        with self._lock:
            return {party: len(v.rows) for party, v in sorted(self._held.items())}

    def judge(
        self,
        protocol: Protocol,
        window_s: float,
        party: str,
        rows: list[dict[str, Any]],
        now_t_s: float,
    ) -> list[dict[str, Any]]:
        """Keep ``party``'s picture, and return the other parties' aircraft (their
        newest positions, ``party`` added) in conflict with ``party``'s."""
        with self._lock:
            self._held[party] = _Picture(now_t_s, rows)
            limit_t_s = now_t_s - window_s
            held = {
                p: v.rows for p, v in self._held.items() if v.received_t_s >= limit_t_s
            }
        everyone = [
            (p, r)
            for p, held_rows in sorted(held.items())
            if p in protocol.parties
            for r in held_rows
            if now_t_s - float(r["time"]) <= protocol.stale_after_s
        ]
        if not any(p == party for p, _ in everyone):
            return []
        states = _states(everyone, now_t_s)
        ok = computable(states)
        conflicts = detect_conflicts(states, protocol.detection_settings())
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for a, b in zip(conflicts.a_index, conflicts.b_index, strict=True):
            if not (ok[a] and ok[b]):
                continue
            for mine, theirs in ((a, b), (b, a)):
                p_mine, _ = everyone[int(mine)]
                p_theirs, row = everyone[int(theirs)]
                if p_mine == party and p_theirs != party:
                    out[(p_theirs, str(row["id"]))] = {**row, "party": p_theirs}
        return [out[k] for k in sorted(out)]


def _states(
    everyone: list[tuple[str, dict[str, Any]]], now_t_s: float
) -> AircraftStates:
    """The pictures dead-reckoned to ``now_t_s`` (as live detection does)."""
    cols = {f: np.array([float(r[f]) for _, r in everyone]) for f in _FIELDS}
    age_s = now_t_s - np.array([float(r["time"]) for _, r in everyone])
    lat, lon = geodesy.destination(
        cols["lat"], cols["lon"], cols["trk_deg"], cols["gs_kt"] * age_s / S_PER_H
    )
    return AircraftStates.from_columns(
        [f"{p}\x1f{r['id']}" for p, r in everyone],
        lat,
        (lon + 180.0) % 360.0 - 180.0,
        cols["alt_ft"] + cols["vs_fpm"] * age_s / S_PER_MIN,
        cols["gs_kt"],
        cols["trk_deg"],
        cols["vs_fpm"],
        party=[p for p, _ in everyone],
    )


def _checked_rows(
    body: Any, now_t_s: float, tolerance_s: float
) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("positions"), list):
        raise InputError([Problem("request", None, "positions", "expected a list")])
    if len(body["positions"]) > MAX_AIRCRAFT:
        raise InputError(
            [Problem("request", None, "positions", f"more than {MAX_AIRCRAFT}")]
        )
    raw = [r if isinstance(r, dict) else {} for r in body["positions"]]
    clean, rejected = ingest.validate_rows(raw, now_t_s, tolerance_s)
    if rejected:
        first = rejected[0]
        raise InputError([Problem("request", first.row, first.field, first.message)])
    return [
        {
            "id": r["aircraft_id"],
            "time": r["t_s"],
            "lat": r["lat_deg"],
            "lon": r["lon_deg"],
            "alt_ft": r["alt_ft"],
            "gs_kt": r["gs_kt"],
            "trk_deg": r["trk_deg"],
            "vs_fpm": r["vs_fpm"],
        }
        for r in clean
    ]


def receive_tracks(
    conn: Connection,
    referee: Referee,
    fed: Federation,
    peer: str,
    body: Any,
    now_t_s: float,
    tolerance_s: float,
) -> dict[str, Any]:
    """On the referee: a party's picture in, the conflicting others' aircraft out.

    Raises:
        InputError: this node is not the referee of the protocol in effect, or
            the picture is not well formed.
    """
    effective = protocols.in_effect(conn)
    protocol = effective.protocol if effective else None
    if (
        protocol is None
        or not uses_referee(protocol)
        or protocol.referee is None
        or protocol.referee.address.fingerprint != fed.node.fingerprint
        or peer not in protocol.parties
    ):
        raise InputError(
            [
                Problem(
                    "request",
                    None,
                    "referee",
                    "this node is not the referee of the protocol in effect",
                )
            ]
        )
    rows = _checked_rows(body, now_t_s, tolerance_s)
    assert protocol.referee is not None
    found = referee.judge(protocol, protocol.referee.window_s, peer, rows, now_t_s)
    return {"positions": found}


def _own_picture(
    conn: Connection, party: str, now_t_s: float, stale_after_s: float
) -> list[dict[str, Any]]:
    """The newest position of each of ``party``'s aircraft heard within
    ``stale_after_s``."""
    rows = conn.execute(
        select(positions)
        .where(
            positions.c.party_id == party, positions.c.t_s >= now_t_s - stale_after_s
        )
        .order_by(positions.c.aircraft_id, positions.c.t_s.desc(), positions.c.id)
    ).all()
    newest: dict[str, Any] = {}
    for r in rows:
        newest.setdefault(r.aircraft_id, r)
    return [ingest.stored_row(r) for r in newest.values()]


def exchange(fed: Federation, tolerance_s: float) -> int:
    """On a party's node, one round with the referee: send the picture, store the
    other parties' aircraft in conflict with ours; returns how many came back."""
    now = fed.clock.now_t_s()
    with fed.engine.connect() as conn:
        effective = protocols.in_effect(conn)
        protocol = effective.protocol if effective else None
        if not uses_referee(protocol) or protocol is None:
            return 0
        picture = _own_picture(conn, fed.node.party, now, protocol.stale_after_s)
    try:
        answer = fed.request(REFEREE, "POST", PATH, {"positions": picture})
    except (httpx.HTTPError, certs.PinningError) as exc:
        log.warning("referee: %s", exc)
        return 0
    if answer.status_code != 200:
        log.warning("referee answered %s: %s", answer.status_code, answer.text[:200])
        return 0
    found = answer.json().get("positions", [])
    by_party: dict[str, list[dict[str, Any]]] = {}
    for row in found if isinstance(found, list) else []:
        party = row.get("party") if isinstance(row, dict) else None
        if party in protocol.parties and party != fed.node.party:
            by_party.setdefault(str(party), []).append(row)
    for party, rows in by_party.items():
        digest = hashlib.sha256(
            json.dumps(rows, sort_keys=True).encode("utf-8")
        ).hexdigest()[:32]
        with fed.engine.begin() as conn:
            try:
                ingest.ingest_under_protocol(
                    conn,
                    Principal(party, Role.OFFICER),
                    f"referee:{digest}",
                    rows,
                    now,
                    tolerance_s,
                )
            except InputError as exc:
                log.warning("referee's positions of %s refused: %s", party, exc)
    return sum(len(rows) for rows in by_party.values())


def install(fed: Federation, referee: Referee, tolerance_s: float) -> None:
    """Wire the referee into the node's link rounds: a party's node exchanges
    with it; the referee itself forgets what is older than the window."""

    def round_() -> None:
        if fed.node.party == REFEREE:
            with fed.engine.connect() as conn:
                effective = protocols.in_effect(conn)
            window_s = (
                effective.protocol.referee.window_s
                if effective and effective.protocol.referee
                else 0.0
            )
            referee.forget_older_than(fed.clock.now_t_s() - window_s)
            return
        exchange(fed, tolerance_s)

    fed.before_send.append(round_)
