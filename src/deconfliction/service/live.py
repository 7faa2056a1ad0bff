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

Positions are read and handled as columns (``_Positions``), so a tick does no Python
work per position, only per aircraft and per event. Everything one tick writes is
committed in one transaction, and the stream events go with it. On a restart, alerts
left open are cleared and incidents left ongoing are ended at their aircraft's last
position; detection then starts afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Select, func, select

from deconfliction.domain import geodesy
from deconfliction.domain.alert_tracker import Alert, AlertEventKind, AlertTracker
from deconfliction.domain.conformance import (
    ConformanceMonitor,
    PositionStream,
    Violation,
    ViolationEventKind,
    ViolationKind,
)
from deconfliction.domain.detect import (
    computable,
    computable_values,
    detect_conflicts,
)
from deconfliction.domain.model import (
    AircraftStates,
    BoolArray,
    Conflicts,
    FloatArray,
    IntArray,
    StrArray,
)
from deconfliction.domain.plan_conformance import positions_inside
from deconfliction.domain.protocol import Protocol
from deconfliction.domain.volumes import Operation
from deconfliction.service import alerts as alert_store
from deconfliction.service import events, hotline, incidents, planning, protocols
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


# What is read of a stored position: its aircraft key, built by the database, then
# the track, which ``_Positions`` keeps as one float array in this order.
_COLUMNS = (
    (positions.c.party_id + KEY_SEPARATOR + positions.c.aircraft_id).label("key"),
    positions.c.t_s,
    positions.c.lat_deg,
    positions.c.lon_deg,
    positions.c.alt_ft,
    positions.c.gs_kt,
    positions.c.trk_deg,
    positions.c.vs_fpm,
)


def _fetch_all(conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``statement`` as the driver's plain tuples, read through the
    DBAPI cursor of ``conn`` (in its transaction): SQLAlchemy's ``Row`` objects
    would cost about 1 us each, a third of reading a position."""
    compiled = statement.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:  # e.g. SQLite's "?"
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


@dataclass(frozen=True, slots=True)
class _Positions:
    """Stored positions as columns, one row per position.

    Rows refer to their aircraft by number, so grouping them by aircraft needs no
    sort of strings: that is done once, when the rows are read.

    Attributes:
        aircraft: aircraft keys ("party:aircraft"), sorted and distinct.
        code: per row, the index of its aircraft in ``aircraft``.
        track: shape (7, rows): t_s, lat_deg, lon_deg, alt_ft, gs_kt, trk_deg,
            vs_fpm.
    """

    aircraft: StrArray
    code: IntArray
    track: FloatArray

    @classmethod
    def from_keys(cls, key: StrArray, track: FloatArray) -> _Positions:
        """From each row's aircraft key and the track."""
        aircraft, code = np.unique(key, return_inverse=True)
        return cls(aircraft, code.astype(np.int64), track)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]]) -> _Positions:
        """From rows that start with ``_COLUMNS`` (further columns are ignored),
        converted a column at a time: no Python work per row."""
        if not rows:
            return cls.from_keys(
                np.zeros(0, dtype=np.str_), np.zeros((len(_COLUMNS) - 1, 0))
            )
        table = np.array(rows, dtype=object)
        return cls.from_keys(
            table[:, 0].astype(np.str_),
            table[:, 1 : len(_COLUMNS)].T.astype(np.float64, order="C"),
        )

    def __len__(self) -> int:
        return len(self.code)

    @property
    def key(self) -> StrArray:
        """The aircraft key of each row."""
        key: StrArray = self.aircraft[self.code]
        return key

    @property
    def t_s(self) -> FloatArray:
        column: FloatArray = self.track[0]
        return column

    @property
    def lat_deg(self) -> FloatArray:
        column: FloatArray = self.track[1]
        return column

    @property
    def lon_deg(self) -> FloatArray:
        column: FloatArray = self.track[2]
        return column

    @property
    def alt_ft(self) -> FloatArray:
        column: FloatArray = self.track[3]
        return column

    def computable(self) -> BoolArray:
        """Per row, whether detection and conformance can work with it (finite
        values, not at a pole: ``detect.computable_values``)."""
        return computable_values(self.lat_deg, *self.track)

    def parties(self) -> StrArray:
        """The party of each aircraft of ``aircraft``."""
        return np.array([_split(k)[0] for k in self.aircraft.tolist()], dtype=np.str_)

    def take(self, index: Any) -> _Positions:
        """The rows at ``index`` (indices or a boolean mask), in its order."""
        return _Positions(self.aircraft, self.code[index], self.track[:, index])

    def then(self, later: _Positions) -> _Positions:
        """These rows followed by ``later``'s."""
        return _Positions.from_keys(
            np.concatenate([self.key, later.key]),
            np.concatenate([self.track, later.track], axis=1),
        )

    def point(self, row: int) -> AircraftPoint:
        """One row as an incident's point."""
        party, aircraft = _split(str(self.aircraft[self.code[row]]))
        t_s, lat, lon, alt = self.track[:4, row].tolist()
        return AircraftPoint(party, aircraft, t_s, lat, lon, alt)

    def newest_per_aircraft(self) -> _Positions:
        """Each aircraft's newest row: the latest time, of equal times the last row
        (a later row replaces an earlier one of the same time); aircraft in the
        order of their first row."""
        if len(self) == 0:
            return self
        order = np.lexsort((self.t_s, self.code))  # stable: ties keep row order
        code = self.code[order]
        newest = order[np.r_[code[1:] != code[:-1], True]]  # by aircraft code
        _, first_row = np.unique(self.code, return_index=True)  # by aircraft code
        return self.take(newest[np.argsort(first_row)])


@dataclass(slots=True)
class _Excursion:
    """A flying operation's aircraft out of its volumes, until back inside for
    ``exit_debounce_s``.

    Attributes:
        start: the first position outside.
        last_out: the last position outside so far.
        since_in_t_s: time of the first position of the current run inside, if
            the last position was inside.
    """

    start: AircraftPoint
    last_out: AircraftPoint
    since_in_t_s: float | None = None


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
        # Newest position per aircraft key, aircraft in the order first seen.
        self._latest = _Positions.from_rows([])
        # Time of the last position fed to conformance, per aircraft key.
        self._fed_t_s: dict[str, float] = {}
        self._los_open: dict[str, dict[str, Any]] = {}
        self._started = False
        self._agreement_suspended = False
        # Per flying operation out of its volumes: the open excursion.
        self._plan_out: dict[str, _Excursion] = {}
        # Aircraft set aside because detection cannot compute them (said once).
        self._set_aside: set[str] = set()
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
        rows = _fetch_all(
            conn, select(*_COLUMNS).where(positions.c.t_s >= now_t_s - stale_s)
        )
        self._remember(_Positions.from_rows(rows))
        self._fed_t_s = dict(
            zip(self._latest.key.tolist(), self._latest.t_s.tolist(), strict=True)
        )
        self._started = True

    def _remember(self, new: _Positions) -> None:
        """Take each aircraft's newest position from ``new`` (rows in the order
        stored) unless the one kept is newer: late positions never move the live
        picture back."""
        newest = new.newest_per_aircraft()
        self._latest = self._latest.then(newest).newest_per_aircraft()

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
            states = self._computable(
                conn, self._live_states(now_t_s, protocol.stale_after_s), now_t_s
            )
            conflicts = detect_conflicts(states, protocol.detection_settings())
            n_alert_events = self._alerts(conn, now_t_s, states, conflicts)
            self._losses_of_separation(conn, now_t_s, states, conflicts)
            self._agreement_suspended = hotline.protocol_suspended(conn)
            usable = new.take(new.computable())
            in_time_order = usable.take(np.argsort(usable.t_s, kind="stable"))
            n_violation_events = self._conformance(conn, in_time_order, now_t_s)
            n_violation_events += self._plan_conformance(conn, in_time_order, now_t_s)
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

    def _read_new_positions(self, conn: Connection) -> _Positions:
        """The positions stored since the last read, in the order stored."""
        rows = _fetch_all(
            conn,
            select(*_COLUMNS, positions.c.id)
            .where(positions.c.id > self._last_row_id)
            .order_by(positions.c.id)
            .limit(MAX_ROWS_PER_TICK),
        )
        if rows:
            self._last_row_id = int(rows[-1][-1])
        new = _Positions.from_rows(rows)
        self._remember(new)
        return new

    def _live_states(self, now_t_s: float, stale_after_s: float) -> AircraftStates:
        latest = self._latest.take(now_t_s - self._latest.t_s <= stale_after_s)
        self._latest = latest
        if len(latest) == 0:
            empty = AircraftStates.from_columns([], [], [], [], [], [], [], party=[])
            return empty
        t_s, lat, lon, alt, gs, trk, vs = latest.track
        age_s = now_t_s - t_s
        lat_now, lon_now = geodesy.destination(lat, lon, trk, gs * age_s / S_PER_H)
        alt_now = alt + vs * age_s / S_PER_MIN
        states = AircraftStates.from_columns(
            latest.key,
            lat_now,
            (lon_now + 180.0) % 360.0 - 180.0,
            alt_now,
            gs,
            trk,
            vs,
            party=latest.parties()[latest.code],
        )
        return states

    def _computable(
        self, conn: Connection, states: AircraftStates, now_t_s: float
    ) -> AircraftStates:
        """The aircraft detection can compute. The others (not finite, or at a
        pole after dead reckoning) are set aside, so that one bad aircraft never
        stops detection for everyone; each is said once, in the log and by an
        ``aircraft.set_aside`` event to its own party, until it is computable again
        or stale."""
        ok = computable(states)
        bad = states.ids[~ok]
        for i in np.flatnonzero(~ok).tolist():
            key = str(states.ids[i])
            if key in self._set_aside:
                continue
            party, aircraft = _split(key)
            lat = float(states.lat_deg[i])
            reason = (
                f"latitude {lat:.4f} deg is within "
                f"{90 - geodesy.MAX_ABS_LAT_DEG:g} deg of a pole"
                if np.isfinite(lat) and abs(lat) > geodesy.MAX_ABS_LAT_DEG
                else "a value of its state is not a finite number"
            )
            log.warning("aircraft %s set aside from detection: %s", key, reason)
            events.publish(
                conn,
                "aircraft.set_aside",
                {party: {"aircraft": aircraft, "reason": reason}},
                now_t_s,
            )
        self._set_aside = set(bad.tolist())
        return states if ok.all() else states.take(ok)

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

    def _conformance(self, conn: Connection, new: _Positions, now_t_s: float) -> int:
        """Feed ``new`` (in time order) to the monitor and record what it finds."""
        assert self._monitor is not None
        fresh = new.take(self._to_feed(new))
        n = 0
        if len(fresh):
            stream = PositionStream.from_columns(
                fresh.key,
                fresh.parties()[fresh.code],
                fresh.t_s,
                fresh.lat_deg,
                fresh.lon_deg,
                fresh.alt_ft,
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

    def _to_feed(self, new: _Positions) -> IntArray:
        """The rows of ``new`` (in time order) that conformance has not seen yet, in
        that order: per aircraft, those later than its last position fed, and of
        several at one time the first only. Notes each aircraft's last one fed."""
        fed_t_s = np.array(
            [self._fed_t_s.get(k, -np.inf) for k in new.aircraft.tolist()],
            dtype=np.float64,
        )
        by_aircraft = np.lexsort((new.t_s, new.code))  # stable: keeps the time order
        code, t_s = new.code[by_aircraft], new.t_s[by_aircraft]
        repeat = np.zeros(len(new), dtype=np.bool_)
        repeat[by_aircraft[1:]] = (code[1:] == code[:-1]) & (t_s[1:] == t_s[:-1])
        feed = ~repeat & (new.t_s > fed_t_s[new.code])
        last_fed_t_s = fed_t_s.copy()
        np.maximum.at(last_fed_t_s, new.code[feed], new.t_s[feed])
        moved = last_fed_t_s > fed_t_s
        self._fed_t_s.update(
            zip(new.aircraft[moved].tolist(), last_fed_t_s[moved].tolist(), strict=True)
        )
        return np.flatnonzero(feed)

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
            depths=tuple(
                (name, round(value, 4))
                for name, value in (
                    ("depth_across_line_nm", v.depth_across_line_nm),
                    ("depth_from_buffer_edge_nm", v.depth_from_buffer_edge_nm),
                    ("depth_inside_zone_nm", v.depth_inside_zone_nm),
                )
                if value is not None
            ),
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
        self, conn: Connection, new: _Positions, now_t_s: float
    ) -> int:
        """Activated operations whose aircraft leave their volumes turn nonconforming
        (an incident) and conforming again after ``exit_debounce_s`` inside."""
        changes = 0
        flying_ids = set()
        for op, aircraft in planning.flying(conn):
            flying_ids.add(op.id)
            if not aircraft:
                continue
            keys = [_key(op.party, a) for a in aircraft]
            mine = new.take(
                np.isin(new.code, np.flatnonzero(np.isin(new.aircraft, keys)))
            )
            if len(mine) == 0:
                continue
            inside = positions_inside(
                op, mine.lat_deg, mine.lon_deg, mine.alt_ft, mine.t_s
            )
            changes += self._follow_operation(conn, op, mine, inside, now_t_s)
        for op_id in [k for k in self._plan_out if k not in flying_ids]:
            excursion = self._plan_out.pop(op_id)
            self._record_plan_incident(
                conn,
                op_id,
                excursion.start.party,
                excursion,
                excursion.last_out.t_s,
                now_t_s,
            )
        return changes

    def _follow_operation(
        self,
        conn: Connection,
        op: Operation,
        mine: _Positions,
        inside: BoolArray,
        now_t_s: float,
    ) -> int:
        """Open and close ``op``'s excursion over its aircraft's new positions (in
        time order), taking a run of positions all inside or all outside at once.

        An excursion opens at the first position outside; it closes at a position
        inside ``exit_debounce_s`` or more after the first of an unbroken run of
        positions inside (not at that first one). Returns the number of changes."""
        assert self._protocol is not None
        debounce_s = self._protocol.conformance.exit_debounce_s
        excursion = self._plan_out.get(op.id)
        changes = 0
        run_starts = np.r_[0, np.flatnonzero(inside[1:] != inside[:-1]) + 1]
        run_ends = np.r_[run_starts[1:], len(inside)]
        for start, end in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
            if not inside[start]:
                if excursion is None:
                    excursion = _Excursion(mine.point(start), mine.point(start))
                    self._plan_out[op.id] = excursion
                    planning.set_conformance(
                        conn,
                        op.id,
                        False,
                        now_t_s,
                        f"{excursion.start.aircraft_id} left the volumes",
                    )
                    self._record_plan_incident(
                        conn, op.id, op.party, excursion, None, now_t_s
                    )
                    changes += 1
                excursion.since_in_t_s = None
                excursion.last_out = mine.point(end - 1)
            elif excursion is not None:
                first = start
                if excursion.since_in_t_s is None:
                    excursion.since_in_t_s = float(mine.t_s[start])
                    first = start + 1
                waited_s = mine.t_s[first:end] - excursion.since_in_t_s
                if np.any(waited_s >= debounce_s):
                    planning.set_conformance(
                        conn, op.id, True, now_t_s, "back inside its volumes"
                    )
                    self._record_plan_incident(
                        conn,
                        op.id,
                        op.party,
                        excursion,
                        excursion.last_out.t_s,
                        now_t_s,
                    )
                    del self._plan_out[op.id]
                    excursion = None
                    changes += 1
        return changes

    def _record_plan_incident(
        self,
        conn: Connection,
        op_id: str,
        party: str,
        excursion: _Excursion,
        end_t_s: float | None,
        now_t_s: float,
    ) -> None:
        assert self._protocol is not None
        facts = IncidentFacts(
            source_key=f"plan|{op_id}|{excursion.start.t_s:.3f}",
            kind=IncidentKind.OPERATION_NONCONFORMANCE,
            party_id=party,
            involved=tuple(sorted(p for p in self._protocol.parties if p != party)),
            boundary_id=op_id,
            start_t_s=excursion.start.t_s,
            end_t_s=end_t_s,
            severity_nm=0.0,
            aircraft=(excursion.start,),
        )
        incidents.record(conn, facts, now_t_s, protocols.sharing_of(self._protocol))
