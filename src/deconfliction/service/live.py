"""Live detection: the loop that turns posted positions into alerts and incidents.

Every ``detection_interval_s`` (the protocol's, unless the server overrides it):

1. read the positions stored since the previous tick (by row id, so each is read
   once) and keep each aircraft's newest position;
2. for each agreement in effect (its own lane: its minima, lookahead, lines,
   zones, guidance and hysteresis), take the aircraft of its parties only (a
   party outside every agreement has its positions stored but never detected, so
   never shown or counted for anyone else); drop aircraft not heard from for
   ``stale_after_s``; extrapolate the rest along their track to the present (dead
   reckoning, as STCA does) and run tactical detection with that agreement. A
   pair of aircraft is judged by the agreement binding their two parties only (a
   party's own aircraft by its oldest agreement); two parties that no agreement
   binds are never compared, even when both are bound with a third;
3. raise, update and clear alerts with hysteresis (``domain.alert_tracker``: an
   alert clears only after the pair has been out of conflict for two intervals);
4. say on the stream when a party's feed goes stale (its newest position older
   than ``stale_after_s``: its aircraft left the picture) or resumes
   (``feed_watch``);
5. feed the new positions, in time order, to conformance monitoring, and turn each
   violation into an incident (opened, updated while it deepens, closed); an actual
   loss of separation (predicted loss starting now) is an incident too.

Positions are read and handled as columns (``Positions``), so a tick does no Python
work per position, only per aircraft and per event. Everything one tick writes is
committed in one transaction, and the stream events go with it, with the id of the
last position read. A new run (a restart, or another process taking over) takes the
state over from the store (``live_resume``): alerts continue under their ids and
ongoing incidents stay open, so a restart changes nothing anyone sees.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, select

from deconfliction.domain import geodesy
from deconfliction.domain.alert_tracker import (
    Alert,
    AlertEvent,
    AlertEventKind,
    AlertTracker,
)
from deconfliction.domain.conformance import (
    ConformanceMonitor,
    PositionStream,
    Violation,
    ViolationEventKind,
    ViolationKind,
)
from deconfliction.domain.detect import computable, detect_conflicts
from deconfliction.domain.model import (
    AircraftStates,
    Conflicts,
    IntArray,
)
from deconfliction.domain.protocol import Protocol
from deconfliction.service import alerts as alert_store
from deconfliction.service import (
    events,
    hotline,
    incidents,
    leadership,
    live_guidance,
    live_resume,
    protocols,
)
from deconfliction.service.clock import Clock
from deconfliction.service.disclosure import Agreement, Sharing
from deconfliction.service.feed_watch import FeedWatch
from deconfliction.service.incidents import AircraftPoint, IncidentFacts, IncidentKind
from deconfliction.service.live_operations import OperationMonitor
from deconfliction.service.live_positions import (
    COLUMNS,
    Positions,
    aircraft_key,
    fetch_all,
    split_key,
)
from deconfliction.store.tables import positions
from deconfliction.units import S_PER_H, S_PER_MIN

log = logging.getLogger(__name__)

CLEAR_AFTER_INTERVALS: float = 2.0  # an alert survives one missed detection
MAX_ROWS_PER_TICK: int = 200_000  # a backlog is worked off over several ticks


@dataclass(slots=True)
class _Lane:
    """One agreement in effect and what detection keeps for it."""

    version: protocols.ProtocolVersion
    tracker: AlertTracker
    monitor: ConformanceMonitor
    # Parties whose own pairs and flying operations this lane judges (those whose
    # oldest agreement it is).
    own: frozenset[str]
    operations: OperationMonitor = field(default_factory=OperationMonitor)
    # Time of the last position fed to conformance, per aircraft key.
    fed_t_s: dict[str, float] = field(default_factory=dict)
    los_open: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The id the parties know each active alert by, per tracker id.
    alert_ids: dict[str, str] = field(default_factory=dict)
    suspended: bool = False

    @property
    def protocol(self) -> Protocol:
        """The agreement's protocol."""
        return self.version.protocol


def _judges(lanes: list[_Lane], names: list[str]) -> IntArray:
    """For each pair of the parties ``names`` (a matrix), the index in ``lanes``
    of the agreement that judges their aircraft's pairs: the one binding the two,
    or for a party's own aircraft its oldest agreement; -1 where no agreement
    binds the two (never compared)."""
    judge = np.full((len(names), len(names)), -1, dtype=np.int64)
    for i, p in enumerate(names):
        for j, q in enumerate(names):
            for k, lane in enumerate(lanes):
                parties = lane.protocol.parties
                if (p == q and p in lane.own) or (
                    p != q and p in parties and q in parties
                ):
                    judge[i, j] = k
                    break
    return judge


def _party_names(states: AircraftStates) -> list[str]:
    """The distinct parties of ``states``, sorted."""
    return [str(n) for n in np.unique(states.party.astype(str)).tolist()]


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


def _plan_each_statement(conn: Connection) -> None:
    """On PostgreSQL, plan each statement of the tick for its values (this
    transaction only). A tick looks rows up 500 ids at a time; psycopg prepares
    a statement at its sixth use, and PostgreSQL may then keep a generic plan made
    when the table was small (a scan comparing every row with 500 parameters):
    the alert and evidence look-ups took 0.4-0.7 s each at 10,000 rows instead of
    a few ms (bench/README.md, #21.8)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


class LiveDetection:
    """The live detection state and its tick. One instance per server process.

    With a ``holder`` name, it runs only while it holds the lease of live
    detection (``leadership``): :meth:`lead` takes or renews it, and a tick commits
    only if the lease is still its own. Without one (tests, tools), it ticks
    unconditionally.
    """

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        interval_override_s: float | None = None,
        holder: str | None = None,
    ):
        self._engine = engine
        self._clock = clock
        self._interval_override_s = interval_override_s
        self._holder = holder
        self._reset()
        self.last_tick: TickReport | None = None
        self.last_error: str | None = None
        # The lease as this process last saw it (None: no lease used, or not yet).
        self.lease: leadership.Lease | None = None

    def _reset(self) -> None:
        """Forget everything: the next tick takes the state over from the store."""
        self._started = False
        # One lane per agreement in effect, oldest first.
        self._lanes: list[_Lane] = []
        self._last_row_id = 0
        # Newest position per aircraft key, aircraft in the order first seen.
        self._latest = Positions.from_rows([])
        # Aircraft set aside because detection cannot compute them (said once).
        self._set_aside: set[str] = set()
        self._feeds = FeedWatch()
        # Alert changes of the tick, written together (``_flush_alerts``).
        self._alert_writes: list[alert_store.AlertWrite] = []
        # Line and zone incidents noted, in order, written
        # together (``_flush_violations``).
        self._violation_writes: list[IncidentFacts] = []

    @property
    def interval_s(self) -> float:
        """Seconds between ticks: the override, else the shortest of the
        agreements in effect, else 5."""
        return self._interval_for([lane.version for lane in self._lanes])

    def _interval_for(self, effective: list[protocols.ProtocolVersion]) -> float:
        if self._interval_override_s is not None:
            return self._interval_override_s
        return min((v.protocol.detection_interval_s for v in effective), default=5.0)

    @property
    def lease_s(self) -> float:
        """How long a renewal of the lease lasts."""
        return leadership.LEASE_INTERVALS * self.interval_s

    def lead(self) -> bool:
        """Whether this process is to run live detection now: takes or renews the
        lease (always true without a holder name). A process that finds the lease
        held by another forgets its state; it takes it over from the store if it
        gets the lease later."""
        if self._holder is None:
            return True
        with self._engine.begin() as conn:
            lease = leadership.hold(
                conn, self._holder, self._clock.now_t_s(), self.lease_s
            )
        mine = lease.holder == self._holder
        before = self.lease
        was_mine = before is not None and before.holder == self._holder
        if mine and not was_mine:
            log.info("live detection: this process (%s) runs it", self._holder)
        elif was_mine and not mine:
            log.warning("live detection: %s runs it now; standing by", lease.holder)
        # Held without a break since the last call? Else another process may have
        # written in between: take the state over from the store again.
        continuing = (
            mine
            and was_mine
            and before is not None
            and lease.acquired_t_s == before.acquired_t_s
        )
        if not continuing and self._started:
            self._reset()
        self.lease = lease
        return mine

    def is_standing_by(self) -> bool:
        """Whether another process held the lease at the last :meth:`lead`."""
        return (
            self._holder is not None
            and self.lease is not None
            and self.lease.holder != self._holder
        )

    def standby_pause_s(self, now_t_s: float) -> float:
        """How long a process standing by waits before it tries again: a quarter
        interval, or until the lease it saw ends if that is sooner."""
        pause_s = leadership.POLL_INTERVALS * self.interval_s
        expires_t_s = self.lease.expires_t_s if self.lease is not None else None
        if expires_t_s is not None:
            pause_s = min(pause_s, max(0.0, expires_t_s - now_t_s) + 0.01)
        return pause_s

    def release(self) -> None:
        """Give the lease up (a clean stop), so another process takes over at once."""
        if self._holder is None:
            return
        with self._engine.begin() as conn:
            if leadership.release(conn, self._holder):
                log.info("live detection: lease given up")
        self._reset()
        self.lease = None

    def _note_progress(self, conn: Connection, now_t_s: float) -> None:
        """In the tick's transaction: the last position read, and (with a lease)
        its renewal, if the lease is still this process's.

        Raises:
            LeaseLostError: if another process holds the lease now.
        """
        if self._holder is None:
            live_resume.write_checkpoint(conn, self._last_row_id, now_t_s)
            return
        leadership.fence(
            conn,
            self._holder,
            self._clock.now_t_s(),
            self.lease_s,
            self._last_row_id,
            now_t_s,
        )

    @property
    def _pks(self) -> list[int]:
        return [lane.version.pk for lane in self._lanes]

    def _adopt(self, effective: list[protocols.ProtocolVersion]) -> None:
        """Detect under the agreements ``effective`` (oldest first) from now on,
        each with nothing in progress."""
        lanes = []
        seen: set[str] = set()
        clear_after_s = CLEAR_AFTER_INTERVALS * self._interval_for(effective)
        for version in effective:
            own = frozenset(p for p in version.protocol.parties if p not in seen)
            seen |= own
            lanes.append(
                _Lane(
                    version,
                    AlertTracker(clear_after_s=clear_after_s),
                    ConformanceMonitor(version.protocol),
                    own,
                )
            )
        self._lanes = lanes

    def _sharing(self) -> Sharing:
        """What the agreements in effect share, and between whom."""
        return Sharing(
            tuple(
                Agreement(lane.protocol.sharing, frozenset(lane.protocol.parties))
                for lane in self._lanes
            )
        )

    def _stale_s(self) -> float:
        """How long a position stays in the live picture: the longest of the
        agreements' (each lane drops its own older ones)."""
        return max((lane.protocol.stale_after_s for lane in self._lanes), default=60.0)

    def _start(self, conn: Connection, now_t_s: float) -> None:
        """First tick of this run: take over what the earlier run left in the
        store (``live_resume``), so that a restart changes nothing anyone sees."""
        self._adopt(protocols.agreements_in_effect(conn))
        for lane in self._lanes:
            lane.suspended = hotline.protocol_suspended(
                conn, lane.protocol.parties, lane.protocol.id
            )
        newest = live_resume.newest_row_id(conn)
        checkpoint = live_resume.read_checkpoint(conn)
        self._last_row_id = newest if checkpoint is None else min(checkpoint, newest)
        stale_s = self._stale_s()
        rows = fetch_all(
            conn, select(*COLUMNS).where(positions.c.t_s >= now_t_s - stale_s)
        )
        self._feeds = FeedWatch.resume(conn, now_t_s)
        self._remember(Positions.from_rows(rows))
        fed_t_s = live_resume.last_fed_t_s(conn, self._last_row_id, now_t_s - stale_s)
        for lane in self._lanes:
            lane.fed_t_s = dict(fed_t_s)
        self._resume_alerts(conn, now_t_s)
        ongoing = incidents.ongoing(conn)
        if not self._lanes:
            incidents.close_dangling(conn, now_t_s, protocols.sharing_of(None))
        else:
            self._resume_losses(conn, ongoing, now_t_s)
            self._resume_conformance(conn, ongoing, now_t_s)
            for lane in self._lanes:
                lane.operations.resume(
                    conn,
                    ongoing,
                    lane.protocol,
                    self._last_row_id,
                    now_t_s,
                    lane.own,
                )
        self._started = True

    def _remember(self, new: Positions) -> None:
        """Take each aircraft's newest position from ``new`` (rows in the order
        stored) unless the one kept is newer: late positions never move the live
        picture back."""
        newest = new.newest_per_aircraft()
        self._latest = self._latest.then(newest).newest_per_aircraft()
        if len(newest):
            party_of = newest.parties()[newest.code]
            for party in np.unique(party_of).tolist():
                t_s = float(newest.track[0][party_of == party].max())
                self._feeds.saw(str(party), t_s)

    def _switch_protocol(
        self,
        conn: Connection,
        effective: list[protocols.ProtocolVersion],
        now_t_s: float,
    ) -> None:
        """Agreements took effect or ended: each lane starts afresh (its alerts
        cleared, its open violations closed), as when one protocol replaced
        another."""
        for lane in self._lanes:
            for event in lane.tracker.clear_all(now_t_s):
                self._save_alert(
                    lane,
                    conn,
                    event.alert,
                    None,
                    "alert.cleared",
                    now_t_s,
                    cleared=True,
                )
            self._flush_alerts(conn, now_t_s)
            for violation in lane.monitor.open_violations():
                self._record_violation(lane, conn, violation, now_t_s, closed=True)
            self._flush_violations(lane, conn, now_t_s)  # shared as under the old one
        self._adopt(effective)

    def tick(self) -> TickReport:
        """Run one detection; commits everything it wrote.

        A tick that fails writes nothing; the next one takes the state over from
        the store again, as after a restart."""
        try:
            return self._tick()
        except BaseException:
            self._reset()
            raise

    def _tick(self) -> TickReport:
        now_t_s = self._clock.now_t_s()
        with self._engine.begin() as conn:
            _plan_each_statement(conn)
            if not self._started:
                self._start(conn, now_t_s)
            effective = protocols.agreements_in_effect(conn)
            if [v.pk for v in effective] != self._pks:
                self._switch_protocol(conn, effective, now_t_s)
            new = self._read_new_positions(conn)
            report = TickReport(now_t_s, None, 0, 0, 0, 0, len(new))
            if not self._lanes:
                self._note_progress(conn, now_t_s)
                self.last_tick = report
                return report
            # Every lane's aircraft, then each lane's pairs: only the agreement
            # binding two parties judges their aircraft's pairs.
            self._latest = self._latest.take(
                now_t_s - self._latest.t_s <= self._stale_s()
            )
            parties = sorted({p for lane in self._lanes for p in lane.protocol.parties})
            states = self._computable(
                conn, self._live_states(now_t_s, self._stale_s(), parties), now_t_s
            )
            names = _party_names(states)
            judge = _judges(self._lanes, names)
            n_conflicts = n_alert_events = n_violation_events = 0
            for k, lane in enumerate(self._lanes):
                protocol = lane.protocol
                if len(self._lanes) == 1:
                    mine = states  # the same parties and staleness
                else:
                    mine = self._live_states(
                        now_t_s, protocol.stale_after_s, protocol.parties
                    )
                    mine = mine.take(np.isin(mine.ids, states.ids))  # computable
                found = detect_conflicts(mine, protocol.detection_settings())
                code = np.searchsorted(names, mine.party.astype(str))
                conflicts = found.take(
                    judge[code[found.a_index], code[found.b_index]] == k
                )
                n_conflicts += len(conflicts)
                n_alert_events += self._alerts(lane, conn, now_t_s, mine, conflicts)
                self._losses_of_separation(lane, conn, now_t_s, mine, conflicts)
                lane.suspended = hotline.protocol_suspended(
                    conn, lane.protocol.parties, lane.protocol.id
                )
                usable = new.take(new.computable() & new.of_parties(protocol.parties))
                in_time_order = usable.take(np.argsort(usable.t_s, kind="stable"))
                n_violation_events += self._conformance(
                    lane, conn, in_time_order, now_t_s
                )
                own = usable.take(usable.of_parties(lane.own))
                n_violation_events += lane.operations.update(
                    conn,
                    own.take(np.argsort(own.t_s, kind="stable")),
                    protocol,
                    now_t_s,
                )
            # The alerts last: their rows and events are made first, written in
            # a burst, and (on SQLite) the write lock held from then to the commit.
            self._flush_alerts(conn, now_t_s)
            self._note_progress(conn, now_t_s)
            self._feeds.update(conn, parties, self._stale_s(), self._sharing(), now_t_s)
            report = TickReport(
                t_s=now_t_s,
                protocol=", ".join(
                    f"{lane.protocol.id} v{lane.protocol.version}"
                    for lane in self._lanes
                ),
                aircraft=len(states),
                conflicts=n_conflicts,
                alert_events=n_alert_events,
                violation_events=n_violation_events,
                positions_read=len(new),
            )
        self.last_tick = report
        return report

    # -- taking over from an earlier run ---------------------------------------

    def _resume_alerts(self, conn: Connection, now_t_s: float) -> None:
        """Alerts not cleared continue in the lane of the agreement they were
        raised under, if it is still in effect; the others are cleared, as a
        change of protocol clears them."""
        stored = live_resume.open_alerts(conn)
        lanes = {lane.version.pk: lane for lane in self._lanes}
        kept: set[str] = set()
        for pk, lane in lanes.items():
            mine = [s for s in stored if s.protocol_version_pk == pk]
            lane.tracker.restore([s.alert for s in mine], now_t_s)
            lane.alert_ids.update({s.alert.id: s.public_id for s in mine})
            kept |= {s.public_id for s in mine}
        sharing = self._sharing()
        for s in stored:
            if s.public_id not in kept:
                record = {
                    **s.record,
                    "active": False,
                    "updated_t_s": now_t_s,
                    "cleared_t_s": now_t_s,
                }
                alert_store.save(
                    conn,
                    record,
                    s.protocol_version_pk,
                    "alert.cleared",
                    now_t_s,
                    sharing,
                    s.alert.last_seen_t_s,
                )

    def _resume_losses(
        self,
        conn: Connection,
        ongoing: list[incidents.OngoingIncident],
        now_t_s: float,
    ) -> None:
        """Losses of separation in progress continue as the same incidents, in
        the lane that judges their pair; one no agreement judges any more ends."""
        for incident in ongoing:
            if incident.kind is not IncidentKind.LOSS_OF_SEPARATION:
                continue
            sides = incident.aircraft
            names = sorted({a.party for a in sides})
            judge = _judges(self._lanes, names)
            k = int(judge[names.index(sides[0].party), names.index(sides[-1].party)])
            if k < 0:
                incidents.close_at_last_position(
                    conn, incident.id, now_t_s, self._sharing()
                )
                continue
            pair = sorted(aircraft_key(p.party, p.aircraft_id) for p in sides)
            self._lanes[k].los_open["|".join(pair)] = {
                "start_t_s": incident.start_t_s,
                "min_nm": incident.severity_nm,
                "points": sorted(
                    (
                        aircraft_key(a.party, a.aircraft_id),
                        a.lat_deg,
                        a.lon_deg,
                        a.alt_ft,
                    )
                    for a in incident.aircraft
                ),
                "t_s": incident.aircraft[0].t_s,
                "recorded": True,
            }

    def _resume_conformance(
        self,
        conn: Connection,
        ongoing: list[incidents.OngoingIncident],
        now_t_s: float,
    ) -> None:
        """Line and zone violations in progress: replay their aircraft's stored
        positions (those the earlier run read) from the start of the violation
        through each lane's monitor, which rebuilds each excursion as it was;
        record only what the earlier run had not (a deeper point, an end it did
        not see). An incident's key names its agreement, so each lane finds its
        own."""
        kinds = (IncidentKind.LINE_VIOLATION, IncidentKind.ZONE_INCURSION)
        left = {i.source_key: i for i in ongoing if i.kind in kinds}
        since: dict[str, float] = {}
        for incident in left.values():
            a = incident.aircraft[0]
            key = aircraft_key(a.party, a.aircraft_id)
            since[key] = min(since.get(key, np.inf), incident.start_t_s)
        replayed = live_resume.replay_positions(conn, since, self._last_row_id)
        replayed = replayed.take(replayed.computable())
        still_open: set[str] = set()
        for lane in self._lanes:
            for key in since:
                lane.fed_t_s.pop(key, None)
            replay = replayed.take(replayed.of_parties(lane.protocol.parties))
            fresh = replay.take(self._to_feed(lane, replay))
            events = lane.monitor.update(self._stream(fresh)) if len(fresh) else []
            found_now: set[str] = set()  # violations the earlier run had not recorded
            for event in events:
                v = event.violation
                source_key = self._violation_key(lane, v)
                stored = left.get(source_key)
                if stored is None and source_key not in found_now:
                    if incidents.is_recorded(conn, source_key):
                        continue  # ended before the earlier run stopped: nothing new
                    found_now.add(source_key)
                if event.kind is ViolationEventKind.CLOSED:
                    left.pop(source_key, None)
                    self._record_violation(lane, conn, v, now_t_s, closed=True)
                elif stored is None or round(v.max_depth_nm, 4) > stored.severity_nm:
                    self._record_violation(lane, conn, v, now_t_s, closed=False)
            self._flush_violations(lane, conn, now_t_s)  # before the closes below
            still_open |= {
                self._violation_key(lane, v) for v in lane.monitor.open_violations()
            }
        sharing = self._sharing()
        for source_key, incident in left.items():
            if source_key not in still_open:  # e.g. its line is no longer in effect
                incidents.close_at_last_position(conn, incident.id, now_t_s, sharing)

    # -- reading -----------------------------------------------------------------

    def _read_new_positions(self, conn: Connection) -> Positions:
        """The positions stored since the last read, in the order stored."""
        rows = fetch_all(
            conn,
            select(*COLUMNS, positions.c.id)
            .where(positions.c.id > self._last_row_id)
            .order_by(positions.c.id)
            .limit(MAX_ROWS_PER_TICK),
        )
        if rows:
            self._last_row_id = int(rows[-1][-1])
        new = Positions.from_rows(rows)
        self._remember(new)
        return new

    def _live_states(
        self, now_t_s: float, stale_after_s: float, parties: Collection[str]
    ) -> AircraftStates:
        """The aircraft of ``parties`` heard within ``stale_after_s``, dead-reckoned
        to ``now_t_s`` (every party's are kept for the next tick)."""
        latest = self._latest.take(
            self._latest.of_parties(parties)
            & (now_t_s - self._latest.t_s <= stale_after_s)
        )
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
            party, aircraft = split_key(key)
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
        lane: _Lane,
        conn: Connection,
        now_t_s: float,
        states: AircraftStates,
        conflicts: Conflicts,
    ) -> int:
        assert lane.tracker is not None
        tin = {
            (str(states.ids[a]), str(states.ids[b])): float(t)
            for a, b, t in zip(
                conflicts.a_index, conflicts.b_index, conflicts.tin_s, strict=True
            )
        }
        index = {str(k): i for i, k in enumerate(states.ids)}
        events_ = lane.tracker.update(now_t_s, states, conflicts)
        guidance = self._guidance(lane, states, events_, now_t_s)
        for event in events_:
            cleared = event.kind is AlertEventKind.CLEARED
            self._save_alert(
                lane,
                conn,
                event.alert,
                (states, index, tin, guidance),
                f"alert.{event.kind.value}",
                now_t_s,
                cleared=cleared,
            )
        return len(events_)

    def _guidance(
        self,
        lane: _Lane,
        states: AircraftStates,
        events_: list[AlertEvent],
        now_t_s: float,
    ) -> dict[str, dict[str, Any]]:
        """Guidance for the own aircraft of the alerts raised or updated (#17.5)."""
        assert lane.tracker is not None and lane.protocol is not None
        return live_guidance.alert_guidance(
            lane.protocol.guidance.config,
            protocols.sharing_of(lane.protocol),
            states,
            [e.alert for e in events_ if e.kind is not AlertEventKind.CLEARED],
            lane.tracker.active(),
            now_t_s,
        )

    def _flush_alerts(self, conn: Connection, now_t_s: float) -> None:
        """Write the alert changes noted since the last flush, in batches."""
        writes, self._alert_writes = self._alert_writes, []
        alert_store.save_many(conn, writes, now_t_s)

    def _save_alert(
        self,
        lane: _Lane,
        conn: Connection,
        alert: Alert,
        context: tuple[
            AircraftStates,
            dict[str, int],
            dict[tuple[str, str], float],
            dict[str, dict[str, Any]],
        ]
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
            party, aircraft = split_key(key)
            side: dict[str, Any] = {
                "party": party,
                "id": aircraft,
                "lat_deg": round(lat, 6),
                "lon_deg": round(lon, 6),
                "alt_ft": round(alt, 1),
            }
            if context is not None and key in context[1]:
                states, index, _, guidance = context
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
                if not cleared and key in guidance:
                    side["guidance"] = guidance[key]
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
        # Named by the agreement too: ids never collide between lanes.
        public_id = lane.alert_ids.setdefault(
            alert.id, alert_store.public_id(f"{lane.protocol.id}|{alert.id}")
        )
        if cleared:
            del lane.alert_ids[alert.id]
        record = {
            "id": public_id,
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
        self._alert_writes.append(
            alert_store.AlertWrite(
                record,
                lane.version.pk,
                event_type,
                protocols.sharing_of(lane.protocol),
                alert.last_seen_t_s,
            )
        )

    # -- losses of separation ------------------------------------------------------

    def _losses_of_separation(
        self,
        lane: _Lane,
        conn: Connection,
        now_t_s: float,
        states: AircraftStates,
        conflicts: Conflicts,
    ) -> None:
        assert lane.protocol is not None
        now_lost = conflicts.tin_s <= 0.0
        a_idx, b_idx = conflicts.a_index[now_lost], conflicts.b_index[now_lost]
        dist_nm = geodesy.geodesic_distance_nm(
            states.lat_deg[a_idx],
            states.lon_deg[a_idx],
            states.lat_deg[b_idx],
            states.lon_deg[b_idx],
        )
        seen: set[str] = set()
        recorded: list[IncidentFacts] = []  # written together, in this order
        for a, b, d in zip(a_idx, b_idx, np.atleast_1d(dist_nm), strict=True):
            if str(states.ids[b]) < str(states.ids[a]):  # the pair in one order
                a, b = b, a
            key = f"{states.ids[a]}|{states.ids[b]}"
            seen.add(key)
            entry = lane.los_open.get(key)
            if entry is None:
                entry = {"start_t_s": now_t_s, "min_nm": float("inf")}
                lane.los_open[key] = entry
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
                recorded.append(self._los_facts(key, entry, None))
                entry["recorded"] = True
        for key in [k for k in lane.los_open if k not in seen]:
            entry = lane.los_open.pop(key)
            recorded.append(self._los_facts(key, entry, now_t_s))
        sharing = protocols.sharing_of(lane.protocol)
        incidents.record_many(conn, recorded, now_t_s, sharing)

    def _los_facts(
        self, key: str, entry: dict[str, Any], end_t_s: float | None
    ) -> IncidentFacts:
        aircraft = tuple(
            AircraftPoint(split_key(k)[0], split_key(k)[1], entry["t_s"], lat, lon, alt)
            for k, lat, lon, alt in entry["points"]
        )
        return IncidentFacts(
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

    # -- conformance -------------------------------------------------------------

    def _conformance(
        self, lane: _Lane, conn: Connection, new: Positions, now_t_s: float
    ) -> int:
        """Feed ``new`` (in time order) to the monitor and record what it finds."""
        assert lane.monitor is not None
        fresh = new.take(self._to_feed(lane, new))
        n = 0
        if len(fresh):
            for event in lane.monitor.update(self._stream(fresh)):
                self._record_violation(
                    lane,
                    conn,
                    event.violation,
                    now_t_s,
                    closed=event.kind is ViolationEventKind.CLOSED,
                )
                n += 1
        for event in lane.monitor.close_stale(now_t_s):
            self._record_violation(lane, conn, event.violation, now_t_s, closed=True)
            n += 1
        self._flush_violations(lane, conn, now_t_s)
        return n

    @staticmethod
    def _stream(rows: Positions) -> PositionStream:
        return PositionStream.of(rows.table())

    def _to_feed(self, lane: _Lane, new: Positions) -> IntArray:
        """The rows of ``new`` (in time order) that conformance has not seen yet, in
        that order: per aircraft, those later than its last position fed, and of
        several at one time the first only. Notes each aircraft's last one fed."""
        fed_t_s = np.array(
            [lane.fed_t_s.get(k, -np.inf) for k in new.aircraft.tolist()],
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
        lane.fed_t_s.update(
            zip(new.aircraft[moved].tolist(), last_fed_t_s[moved].tolist(), strict=True)
        )
        return np.flatnonzero(feed)

    def _record_violation(
        self, lane: _Lane, conn: Connection, v: Violation, now_t_s: float, closed: bool
    ) -> None:
        """Note ``v``'s incident (opened, deeper or closed); written with the
        others of the tick by :meth:`_flush_violations`, in the order noted."""
        if lane.suspended:
            return  # lines and zones are not binding while the protocol is suspended
        self._violation_writes.append(self._violation_facts(lane, v, closed))

    def _flush_violations(self, lane: _Lane, conn: Connection, now_t_s: float) -> None:
        """Write the line and zone incidents noted since the last flush, together
        (``incidents.record_many``: the same rows and events, in the same order,
        as one :func:`incidents.record` each)."""
        noted, self._violation_writes = self._violation_writes, []
        if noted:
            sharing = protocols.sharing_of(lane.protocol)
            incidents.record_many(conn, noted, now_t_s, sharing)

    def _violation_key(self, lane: _Lane, v: Violation) -> str:
        """The source key of ``v``'s incident, as stored."""
        return incidents.stored_source_key(
            self._violation_facts(lane, v, False).source_key
        )

    def _violation_facts(
        self, lane: _Lane, v: Violation, closed: bool
    ) -> IncidentFacts:
        assert lane.protocol is not None
        party, aircraft = split_key(v.aircraft_id)
        if v.kind is ViolationKind.LINE:
            line = next(ln for ln in lane.protocol.lines if ln.id == v.boundary_id)
            involved = tuple(sorted(p for p in line.sides if p != party))
            kind = IncidentKind.LINE_VIOLATION
        else:
            zone = next(z for z in lane.protocol.zones if z.id == v.boundary_id)
            involved = (zone.owner,)
            kind = IncidentKind.ZONE_INCURSION
        facts = IncidentFacts(
            # The agreement's id: the same line id in two agreements makes two
            # incidents.
            source_key=(
                f"{kind.value}|{lane.protocol.id}|{v.aircraft_id}|{v.boundary_id}"
                f"|{v.entry_t_s:.3f}"
            ),
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
        return facts
