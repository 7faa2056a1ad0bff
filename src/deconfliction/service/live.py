"""Live detection: the loop that turns posted positions into alerts and incidents.

Every ``detection_interval_s`` (the protocol's, unless the server overrides it):

1. read the positions stored since the previous tick (by row id, so each is read
   once) and keep each aircraft's newest position;
2. drop aircraft not heard from for ``stale_after_s``; extrapolate the rest along
   their track to the present (dead reckoning, as STCA does) and run tactical
   detection with the protocol in effect;
3. raise, update and clear alerts with hysteresis (``domain.alert_tracker``: an
   alert clears only after the pair has been out of conflict for two intervals);
4. feed the new positions, in time order, to conformance monitoring, and turn each
   violation into an incident (opened, updated while it deepens, closed); an actual
   loss of separation (predicted loss starting now) is an incident too.

Everything one tick writes is committed in one transaction, and the stream events go
with it. On a restart, alerts left open are cleared and incidents left ongoing are
ended at their aircraft's last position; detection then starts afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, select

from deconfliction.domain import geodesy
from deconfliction.domain.alert_tracker import Alert, AlertEventKind, AlertTracker
from deconfliction.domain.conformance import (
    ConformanceMonitor,
    PositionStream,
    Violation,
    ViolationEventKind,
    ViolationKind,
)
from deconfliction.domain.detect import detect_conflicts
from deconfliction.domain.model import AircraftStates, Conflicts
from deconfliction.domain.plan_conformance import positions_inside
from deconfliction.domain.protocol import Protocol
from deconfliction.service import alerts as alert_store
from deconfliction.service import hotline, incidents, planning, protocols
from deconfliction.service.clock import Clock
from deconfliction.service.incidents import AircraftPoint, IncidentFacts, IncidentKind
from deconfliction.store.tables import positions
from deconfliction.units import S_PER_H, S_PER_MIN

log = logging.getLogger(__name__)

CLEAR_AFTER_INTERVALS: float = 2.0  # an alert survives one missed detection
MAX_ROWS_PER_TICK: int = 200_000  # a backlog is worked off over several ticks
KEY_SEPARATOR: str = ":"  # aircraft key "party:aircraft"; ids are unique per party


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick did, for health checks and tests."""

    t_s: float
    protocol: str | None
    aircraft: int
    conflicts: int
    alert_events: int
    violation_events: int
    positions_read: int


def _key(party: str, aircraft: str) -> str:
    return f"{party}{KEY_SEPARATOR}{aircraft}"


def _split(key: str) -> tuple[str, str]:
    party, _, aircraft = key.partition(KEY_SEPARATOR)
    return party, aircraft


class LiveDetection:
    """The live detection state and its tick. One instance per server process."""

    def __init__(
        self, engine: Engine, clock: Clock, interval_override_s: float | None = None
    ):
        self._engine = engine
        self._clock = clock
        self._interval_override_s = interval_override_s
        self._protocol_pk: int | None = None
        self._protocol: Protocol | None = None
        self._tracker: AlertTracker | None = None
        self._monitor: ConformanceMonitor | None = None
        self._last_row_id = 0
        # Newest position per aircraft key: (t_s, lat, lon, alt, gs, trk, vs).
        self._latest: dict[str, tuple[float, ...]] = {}
        self._fed_t_s: dict[str, float] = {}
        self._los_open: dict[str, dict[str, Any]] = {}
        self._started = False
        self._agreement_suspended = False
        # Per flying operation out of its volumes: the open excursion.
        self._plan_out: dict[str, dict[str, Any]] = {}
        self.last_tick: TickReport | None = None
        self.last_error: str | None = None

    @property
    def interval_s(self) -> float:
        """Seconds between ticks: the override, else the protocol's, else 5."""
        if self._interval_override_s is not None:
            return self._interval_override_s
        if self._protocol is not None:
            return self._protocol.detection_interval_s
        return 5.0

    def _start(self, conn: Connection, now_t_s: float) -> None:
        """First tick of this process: settle what a previous run left open."""
        effective = protocols.in_effect(conn)
        sharing = protocols.sharing_of(effective.protocol if effective else None)
        for alert in alert_store.open_alerts(conn):
            alert.update(cleared_t_s=now_t_s, updated_t_s=now_t_s, active=False)
            alert_store.save(conn, alert, None, "alert.cleared", now_t_s, sharing)
        incidents.close_dangling(conn, now_t_s, sharing)
        stale_s = effective.protocol.stale_after_s if effective else 60.0
        # Resume the live picture from recent positions; conformance starts afresh
        # from positions that arrive from now on.
        self._last_row_id = int(
            conn.execute(select(func.coalesce(func.max(positions.c.id), 0))).scalar()
            or 0
        )
        rows = conn.execute(
            select(
                positions.c.party_id,
                positions.c.aircraft_id,
                positions.c.t_s,
                positions.c.lat_deg,
                positions.c.lon_deg,
                positions.c.alt_ft,
                positions.c.gs_kt,
                positions.c.trk_deg,
                positions.c.vs_fpm,
            ).where(positions.c.t_s >= now_t_s - stale_s)
        ).all()
        for r in rows:
            self._remember(_key(r.party_id, r.aircraft_id), tuple(r[2:]))
        for key, row in self._latest.items():
            self._fed_t_s[key] = row[0]
        self._started = True

    def _remember(self, key: str, row: tuple[float, ...]) -> None:
        old = self._latest.get(key)
        if old is None or row[0] >= old[0]:
            self._latest[key] = row

    def _switch_protocol(
        self,
        conn: Connection,
        effective: protocols.ProtocolVersion | None,
        now_t_s: float,
    ) -> None:
        if self._tracker is not None and self._protocol is not None:
            for event in self._tracker.clear_all(now_t_s):
                self._save_alert(
                    conn, event.alert, None, "alert.cleared", now_t_s, cleared=True
                )
        if self._monitor is not None and self._protocol is not None:
            for violation in self._monitor.open_violations():
                self._record_violation(conn, violation, now_t_s, closed=True)
        self._protocol_pk = effective.pk if effective else None
        self._protocol = effective.protocol if effective else None
        if self._protocol is None:
            self._tracker = None
            self._monitor = None
            return
        self._tracker = AlertTracker(
            clear_after_s=CLEAR_AFTER_INTERVALS * self.interval_s
        )
        self._monitor = ConformanceMonitor(self._protocol)

    def tick(self) -> TickReport:
        """Run one detection; commits everything it wrote."""
        now_t_s = self._clock.now_t_s()
        with self._engine.begin() as conn:
            if not self._started:
                self._start(conn, now_t_s)
            effective = protocols.in_effect(conn)
            if (effective.pk if effective else None) != self._protocol_pk:
                self._switch_protocol(conn, effective, now_t_s)
            new = self._read_new_positions(conn)
            report = TickReport(now_t_s, None, 0, 0, 0, 0, len(new))
            if self._protocol is None or self._tracker is None or self._monitor is None:
                self.last_tick = report
                return report
            protocol = self._protocol
            states = self._live_states(now_t_s, protocol.stale_after_s)
            conflicts = detect_conflicts(states, protocol.detection_settings())
            n_alert_events = self._alerts(conn, now_t_s, states, conflicts)
            self._losses_of_separation(conn, now_t_s, states, conflicts)
            self._agreement_suspended = hotline.protocol_suspended(conn)
            n_violation_events = self._conformance(conn, new, now_t_s)
            n_violation_events += self._plan_conformance(conn, new, now_t_s)
            report = TickReport(
                t_s=now_t_s,
                protocol=f"{protocol.id} v{protocol.version}",
                aircraft=len(states),
                conflicts=len(conflicts),
                alert_events=n_alert_events,
                violation_events=n_violation_events,
                positions_read=len(new),
            )
        self.last_tick = report
        return report

    # -- reading -----------------------------------------------------------------

    def _read_new_positions(self, conn: Connection) -> Sequence[Any]:
        rows = conn.execute(
            select(
                positions.c.id,
                positions.c.party_id,
                positions.c.aircraft_id,
                positions.c.t_s,
                positions.c.lat_deg,
                positions.c.lon_deg,
                positions.c.alt_ft,
                positions.c.gs_kt,
                positions.c.trk_deg,
                positions.c.vs_fpm,
            )
            .where(positions.c.id > self._last_row_id)
            .order_by(positions.c.id)
            .limit(MAX_ROWS_PER_TICK)
        ).all()
        if rows:
            self._last_row_id = int(rows[-1].id)
        for r in rows:
            self._remember(_key(r.party_id, r.aircraft_id), tuple(r[3:]))
        return rows

    def _live_states(self, now_t_s: float, stale_after_s: float) -> AircraftStates:
        keys = [
            k for k, row in self._latest.items() if now_t_s - row[0] <= stale_after_s
        ]
        for k in [k for k in self._latest if k not in set(keys)]:
            del self._latest[k]
        if not keys:
            empty = AircraftStates.from_columns([], [], [], [], [], [], [], party=[])
            return empty
        data = np.array([self._latest[k] for k in keys], dtype=np.float64)
        t_s, lat, lon, alt, gs, trk, vs = data.T
        age_s = now_t_s - t_s
        lat_now, lon_now = geodesy.destination(lat, lon, trk, gs * age_s / S_PER_H)
        alt_now = alt + vs * age_s / S_PER_MIN
        states = AircraftStates.from_columns(
            keys,
            lat_now,
            (lon_now + 180.0) % 360.0 - 180.0,
            alt_now,
            gs,
            trk,
            vs,
            party=[_split(k)[0] for k in keys],
        )
        return states

    # -- alerts ------------------------------------------------------------------

    def _alerts(
        self,
        conn: Connection,
        now_t_s: float,
        states: AircraftStates,
        conflicts: Conflicts,
    ) -> int:
        assert self._tracker is not None
        tin = {
            (str(states.ids[a]), str(states.ids[b])): float(t)
            for a, b, t in zip(
                conflicts.a_index, conflicts.b_index, conflicts.tin_s, strict=True
            )
        }
        index = {str(k): i for i, k in enumerate(states.ids)}
        events_ = self._tracker.update(now_t_s, states, conflicts)
        for event in events_:
            cleared = event.kind is AlertEventKind.CLEARED
            self._save_alert(
                conn,
                event.alert,
                (states, index, tin),
                f"alert.{event.kind.value}",
                now_t_s,
                cleared=cleared,
            )
        return len(events_)

    def _save_alert(
        self,
        conn: Connection,
        alert: Alert,
        context: tuple[AircraftStates, dict[str, int], dict[tuple[str, str], float]]
        | None,
        event_type: str,
        now_t_s: float,
        cleared: bool,
    ) -> None:
        sides = []
        for key, lat, lon, alt in (
            (alert.a_id, alert.a_lat_deg, alert.a_lon_deg, alert.a_alt_ft),
            (alert.b_id, alert.b_lat_deg, alert.b_lon_deg, alert.b_alt_ft),
        ):
            party, aircraft = _split(key)
            side: dict[str, Any] = {
                "party": party,
                "id": aircraft,
                "lat_deg": round(lat, 6),
                "lon_deg": round(lon, 6),
                "alt_ft": round(alt, 1),
            }
            if context is not None and key in context[1]:
                states, index, _ = context
                i = index[key]
                gs, trk, vs = (
                    float(states.gs_kt[i]),
                    float(states.trk_deg[i]),
                    float(states.vs_fpm[i]),
                )
                cpa_lat, cpa_lon = geodesy.destination(
                    lat, lon, trk, gs * alert.tcpa_s / S_PER_H
                )
                side.update(
                    gs_kt=round(gs, 1),
                    trk_deg=round(trk, 1),
                    vs_fpm=round(vs, 1),
                    cpa={
                        "lat_deg": round(float(cpa_lat), 6),
                        "lon_deg": round(float((float(cpa_lon) + 180) % 360 - 180), 6),
                        "alt_ft": round(alt + vs * alert.tcpa_s / S_PER_MIN, 1),
                    },
                )
            else:
                side["cpa"] = {
                    "lat_deg": round(lat, 6),
                    "lon_deg": round(lon, 6),
                    "alt_ft": round(alt, 1),
                }
            sides.append(side)
        tin_s = 0.0
        if context is not None:
            tin_s = context[2].get((alert.a_id, alert.b_id), 0.0)
        record = {
            "id": alert_store.public_id(alert.id),
            "level": alert.level.label,
            "max_level": alert.max_level.label,
            "active": not cleared,
            "raised_t_s": alert.first_seen_t_s,
            "updated_t_s": now_t_s,
            "cleared_t_s": now_t_s if cleared else None,
            "tcpa_s": round(alert.tcpa_s, 2),
            "dcpa_nm": round(alert.dcpa_nm, 4),
            "dalt_ft_at_cpa": round(alert.dalt_ft_at_cpa, 1),
            "tin_s": round(tin_s, 2),
            "min_dcpa_nm": round(alert.min_dcpa_nm, 4),
            "aircraft": sides,
        }
        sharing = protocols.sharing_of(self._protocol)
        alert_store.save(conn, record, self._protocol_pk, event_type, now_t_s, sharing)

    # -- losses of separation ------------------------------------------------------

    def _losses_of_separation(
        self,
        conn: Connection,
        now_t_s: float,
        states: AircraftStates,
        conflicts: Conflicts,
    ) -> None:
        assert self._protocol is not None
        now_lost = conflicts.tin_s <= 0.0
        a_idx, b_idx = conflicts.a_index[now_lost], conflicts.b_index[now_lost]
        dist_nm = geodesy.geodesic_distance_nm(
            states.lat_deg[a_idx],
            states.lon_deg[a_idx],
            states.lat_deg[b_idx],
            states.lon_deg[b_idx],
        )
        seen: set[str] = set()
        for a, b, d in zip(a_idx, b_idx, np.atleast_1d(dist_nm), strict=True):
            key = f"{states.ids[a]}|{states.ids[b]}"
            seen.add(key)
            entry = self._los_open.get(key)
            if entry is None:
                entry = {"start_t_s": now_t_s, "min_nm": float("inf")}
                self._los_open[key] = entry
            changed = float(d) < entry["min_nm"] - 0.01
            if float(d) < entry["min_nm"]:
                entry["min_nm"] = float(d)
                entry["points"] = [
                    (
                        str(states.ids[i]),
                        float(states.lat_deg[i]),
                        float(states.lon_deg[i]),
                        float(states.alt_ft[i]),
                    )
                    for i in (a, b)
                ]
                entry["t_s"] = now_t_s
            if changed or entry.get("recorded") is None:
                self._record_los(conn, key, entry, None, now_t_s)
                entry["recorded"] = True
        for key in [k for k in self._los_open if k not in seen]:
            entry = self._los_open.pop(key)
            self._record_los(conn, key, entry, now_t_s, now_t_s)

    def _record_los(
        self,
        conn: Connection,
        key: str,
        entry: dict[str, Any],
        end_t_s: float | None,
        now_t_s: float,
    ) -> None:
        assert self._protocol is not None
        aircraft = tuple(
            AircraftPoint(_split(k)[0], _split(k)[1], entry["t_s"], lat, lon, alt)
            for k, lat, lon, alt in entry["points"]
        )
        facts = IncidentFacts(
            source_key=f"los|{key}|{int(entry['start_t_s'])}",
            kind=IncidentKind.LOSS_OF_SEPARATION,
            party_id=aircraft[0].party,
            involved=tuple(sorted({a.party for a in aircraft})),
            boundary_id=None,
            start_t_s=entry["start_t_s"],
            end_t_s=end_t_s,
            severity_nm=round(entry["min_nm"], 4),
            aircraft=aircraft,
        )
        incidents.record(conn, facts, now_t_s, protocols.sharing_of(self._protocol))

    # -- conformance -------------------------------------------------------------

    def _conformance(
        self, conn: Connection, rows: Sequence[Any], now_t_s: float
    ) -> int:
        assert self._monitor is not None
        fresh = []
        for r in sorted(rows, key=lambda r: r.t_s):
            key = _key(r.party_id, r.aircraft_id)
            if r.t_s > self._fed_t_s.get(key, -float("inf")):
                self._fed_t_s[key] = r.t_s
                fresh.append(r)
        n = 0
        if fresh:
            stream = PositionStream.from_columns(
                [_key(r.party_id, r.aircraft_id) for r in fresh],
                [r.party_id for r in fresh],
                [r.t_s for r in fresh],
                [r.lat_deg for r in fresh],
                [r.lon_deg for r in fresh],
                [r.alt_ft for r in fresh],
            )
            for event in self._monitor.update(stream):
                self._record_violation(
                    conn,
                    event.violation,
                    now_t_s,
                    closed=event.kind is ViolationEventKind.CLOSED,
                )
                n += 1
        for event in self._monitor.close_stale(now_t_s):
            self._record_violation(conn, event.violation, now_t_s, closed=True)
            n += 1
        return n

    def _record_violation(
        self, conn: Connection, v: Violation, now_t_s: float, closed: bool
    ) -> None:
        assert self._protocol is not None
        if self._agreement_suspended:
            return  # lines and zones are not binding while the protocol is suspended
        party, aircraft = _split(v.aircraft_id)
        if v.kind is ViolationKind.LINE:
            line = next(ln for ln in self._protocol.lines if ln.id == v.boundary_id)
            involved = tuple(sorted(p for p in line.sides if p != party))
            kind = IncidentKind.LINE_VIOLATION
        else:
            zone = next(z for z in self._protocol.zones if z.id == v.boundary_id)
            involved = (zone.owner,)
            kind = IncidentKind.ZONE_INCURSION
        facts = IncidentFacts(
            source_key=f"{kind.value}|{v.aircraft_id}|{v.boundary_id}|{v.entry_t_s:.3f}",
            kind=kind,
            party_id=party,
            involved=involved,
            boundary_id=v.boundary_id,
            start_t_s=v.entry_t_s,
            end_t_s=v.exit_t_s if closed else None,
            severity_nm=round(v.max_depth_nm, 4),
            aircraft=(
                AircraftPoint(
                    party,
                    aircraft,
                    v.deepest_t_s,
                    v.deepest_lat_deg,
                    v.deepest_lon_deg,
                    v.deepest_alt_ft,
                ),
            ),
        )
        incidents.record(conn, facts, now_t_s, protocols.sharing_of(self._protocol))

    # -- conformance to planned operations ------------------------------------------

    def _plan_conformance(
        self, conn: Connection, rows: Sequence[Any], now_t_s: float
    ) -> int:
        """Activated operations whose aircraft leave their volumes turn nonconforming
        (an incident) and conforming again after ``exit_debounce_s`` inside."""
        assert self._protocol is not None
        debounce_s = self._protocol.conformance.exit_debounce_s
        changes = 0
        flying_ids = set()
        for op, aircraft in planning.flying(conn):
            flying_ids.add(op.id)
            mine = [
                r
                for r in rows
                if r.party_id == op.party and r.aircraft_id in set(aircraft)
            ]
            if not mine:
                continue
            mine.sort(key=lambda r: r.t_s)
            inside = positions_inside(
                op,
                np.array([r.lat_deg for r in mine]),
                np.array([r.lon_deg for r in mine]),
                np.array([r.alt_ft for r in mine]),
                np.array([r.t_s for r in mine]),
            )
            state = self._plan_out.get(op.id)
            for r, ok in zip(mine, inside.tolist(), strict=True):
                if not ok:
                    if state is None:
                        state = {"start_t_s": r.t_s, "point": r, "since_in_t_s": None}
                        self._plan_out[op.id] = state
                        planning.set_conformance(
                            conn,
                            op.id,
                            False,
                            now_t_s,
                            f"{r.aircraft_id} left the volumes",
                        )
                        self._record_plan_incident(
                            conn, op.id, op.party, state, None, now_t_s
                        )
                        changes += 1
                    state["since_in_t_s"] = None
                    state["last_out"] = r
                elif state is not None:
                    if state["since_in_t_s"] is None:
                        state["since_in_t_s"] = r.t_s
                    elif r.t_s - state["since_in_t_s"] >= debounce_s:
                        planning.set_conformance(
                            conn, op.id, True, now_t_s, "back inside its volumes"
                        )
                        end = state.get("last_out", state["point"]).t_s
                        self._record_plan_incident(
                            conn, op.id, op.party, state, end, now_t_s
                        )
                        del self._plan_out[op.id]
                        state = None
                        changes += 1
        for op_id in [k for k in self._plan_out if k not in flying_ids]:
            state = self._plan_out.pop(op_id)
            end = state.get("last_out", state["point"]).t_s
            self._record_plan_incident(
                conn, op_id, state["point"].party_id, state, end, now_t_s
            )
        return changes

    def _record_plan_incident(
        self,
        conn: Connection,
        op_id: str,
        party: str,
        state: dict[str, Any],
        end_t_s: float | None,
        now_t_s: float,
    ) -> None:
        assert self._protocol is not None
        r = state["point"]
        facts = IncidentFacts(
            source_key=f"plan|{op_id}|{state['start_t_s']:.3f}",
            kind=IncidentKind.OPERATION_NONCONFORMANCE,
            party_id=party,
            involved=tuple(sorted(p for p in self._protocol.parties if p != party)),
            boundary_id=op_id,
            start_t_s=state["start_t_s"],
            end_t_s=end_t_s,
            severity_nm=0.0,
            aircraft=(
                AircraftPoint(
                    party, r.aircraft_id, r.t_s, r.lat_deg, r.lon_deg, r.alt_ft
                ),
            ),
        )
        incidents.record(conn, facts, now_t_s, protocols.sharing_of(self._protocol))
