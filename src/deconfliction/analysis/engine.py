"""The single-machine engine: conflicts, losses of separation and violations in a
track table, as the live server would have found them.

**Detection instants** are the multiples of the protocol's ``detection_interval_s``
(epoch seconds), so any two runs over the same data, whole or in pieces, look at the
same instants. At an instant ``t`` each aircraft's state is its newest position at or
before ``t``, dropped when older than ``stale_after_s`` and otherwise carried along
its track to ``t`` (dead reckoning, as the live server does); a position exactly at
``t`` is used as it is. Instants run from the first position to the last plus the
stale time.

**Conflicts** are what :func:`deconfliction.domain.detect.detect_conflicts` finds at
each instant, one row per instant and pair. A **loss of separation** is a conflict
whose loss has already begun at the instant (``tin_s`` 0: both minima breached now).
**Violations** are those of :func:`deconfliction.domain.conformance.detect_violations`
over every position.

Speed: calling ``detect_conflicts`` once per instant costs about a millisecond of
overhead each time. :func:`find_conflicts` therefore screens many instants at once
(:func:`screen_pairs`: one box per aircraft and minute holding every line it is
predicted along, boxes paired by sweep and prune, then a vectorised closest-approach
test with slightly widened minima on the states of the pairs kept) and tests the
pairs it keeps exactly with :func:`~deconfliction.domain.detect.evaluate_pairs`. The
screen keeps every pair the exact test would find, so the result is that of
``detect_conflicts`` on each whole snapshot (tests check it, down to a pass 0.001 NM
inside the minimum).

For violations found piece by piece (``analyze``), :func:`conformance_rows` reduces a
stretch of positions to the few that decide the violations: every non-conforming
position, its neighbours in its track, and the first and last position of each
aircraft in each ``max_gap_s`` bucket of time (which keeps every gap, and no false
one). Fed in time order to one :class:`ConformanceMonitor`, those rows give the
violations of the whole data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from deconfliction.analysis.regions import Cell
from deconfliction.analysis.tracks import TrackTable, aircraft_codes
from deconfliction.analysis.violations import (
    SCREEN_MARGIN_CONFORMANCE_M as SCREEN_MARGIN_CONFORMANCE_M,
)
from deconfliction.analysis.violations import SCREEN_REACH_M as SCREEN_REACH_M
from deconfliction.analysis.violations import SCREEN_SCALE_ERROR as SCREEN_SCALE_ERROR
from deconfliction.analysis.violations import conformance_rows as conformance_rows
from deconfliction.analysis.violations import find_violations as find_violations
from deconfliction.analysis.violations import nonconforming as nonconforming
from deconfliction.analysis.violations import screen_conformance as screen_conformance
from deconfliction.analysis.violations import violation_order as violation_order
from deconfliction.domain import geodesy
from deconfliction.domain.detect import detect_conflicts, evaluate_pairs
from deconfliction.domain.model import (
    AircraftStates,
    BoolArray,
    DetectionSettings,
    FloatArray,
    IntArray,
    StrArray,
)
from deconfliction.domain.positions import Columns
from deconfliction.domain.protocol import Protocol
from deconfliction.units import (
    M_PER_FT,
    M_PER_NM,
    MPS_PER_FPM,
    MPS_PER_KT,
    S_PER_H,
    S_PER_MIN,
)

SCREEN_POINTS: int = 200_000
"""States screened at once: big enough to spread the screen's fixed costs (sorts,
boxes) over many instants, small enough (some 100 MB of temporaries) for any
worker."""

SCREEN_BLOCK: int = 12
"""Instants per block of the screen (a minute at 5 s): an aircraft's box grows by
what it flies in a block, and fewer blocks mean fewer boxes to pair."""

_MIN_RADIUS_OF_CURVATURE_M: float = 6_335_439.0
"""The smallest radius of curvature of WGS-84 (the meridian's, at the equator)."""

SCREEN_MARGIN_M: float = 1.0
"""The screen widens both minima by 1 m: far more than the rounding of stacked
altitudes (under a micrometre) and of its own arithmetic, so it never drops a pair
the exact test would keep."""

_MIN_CLOSURE_MPS2: float = 1e-6  # as in domain.detect: below this, moving together


@dataclass(frozen=True, slots=True)
class ConflictRows:
    """Conflicts at detection instants, one row per instant and pair (struct of
    arrays), sorted by (time, a, b) with ``a < b``.

    Attributes:
        t_s: the instant.
        a: first aircraft of the pair.
        b: second aircraft.
        party_a: party of ``a``.
        party_b: party of ``b``.
        tcpa_s: time to the closest point of approach.
        dcpa_nm: predicted horizontal miss distance.
        dalt_ft_at_cpa: predicted vertical separation then.
        tin_s: start of the predicted loss of separation (0: lost now).
        tout_s: its end, within the lookahead.
        level: alert level (1 conflict, 2 advisory, 3 warning).
        a_lat_deg: position of ``a`` at the instant.
        a_lon_deg: its longitude.
        a_alt_ft: its altitude.
        b_lat_deg: position of ``b`` at the instant.
        b_lon_deg: its longitude.
        b_alt_ft: its altitude.
    """

    t_s: FloatArray
    a: StrArray
    b: StrArray
    party_a: StrArray
    party_b: StrArray
    tcpa_s: FloatArray
    dcpa_nm: FloatArray
    dalt_ft_at_cpa: FloatArray
    tin_s: FloatArray
    tout_s: FloatArray
    level: IntArray
    a_lat_deg: FloatArray
    a_lon_deg: FloatArray
    a_alt_ft: FloatArray
    b_lat_deg: FloatArray
    b_lon_deg: FloatArray
    b_alt_ft: FloatArray

    def __len__(self) -> int:
        return len(self.t_s)

    @classmethod
    def concat(cls, parts: list[ConflictRows]) -> ConflictRows:
        """The rows of several parts, in order."""
        if not parts:
            return _empty_rows()
        return cls(
            *(np.concatenate([getattr(p, name) for p in parts]) for name in _ROW_FIELDS)
        )

    def take(self, index: IntArray | BoolArray) -> ConflictRows:
        """The rows selected by ``index``."""
        return ConflictRows(*(getattr(self, name)[index] for name in _ROW_FIELDS))

    def losses(self) -> ConflictRows:
        """The rows where separation is already lost at the instant."""
        return self.take(self.tin_s <= 0.0)

    def horizontal_nm(self) -> FloatArray:
        """Geodesic distance between the pair at the instant."""
        if len(self) == 0:
            return np.zeros(0)
        return np.atleast_1d(
            geodesy.geodesic_distance_nm(
                self.a_lat_deg, self.a_lon_deg, self.b_lat_deg, self.b_lon_deg
            )
        )


_ROW_FIELDS: tuple[str, ...] = tuple(ConflictRows.__dataclass_fields__)


def _empty_rows() -> ConflictRows:
    f = np.zeros(0, dtype=np.float64)
    s = np.zeros(0, dtype=np.str_)
    return ConflictRows(
        f, s, s, s, s, f, f, f, f, f, np.zeros(0, dtype=np.int64), f, f, f, f, f, f
    )


# --------------------------------------------------------------------------------------
# Instants and states


def instant_range(
    t_first_s: float, t_last_s: float, interval_s: float, stale_after_s: float
) -> tuple[int, int]:
    """Instant numbers ``[k0, k1)`` (instant ``k`` is at ``k * interval_s``) from the
    first position to the last plus the stale time.

    >>> instant_range(12.0, 20.0, 5.0, 10.0)
    (3, 7)
    """
    k0 = _first_at_or_after(np.array([t_first_s]), interval_s)[0]
    k1 = _last_at_or_before(np.array([t_last_s + stale_after_s]), interval_s)[0] + 1
    return int(k0), int(max(k0, k1))


def _first_at_or_after(t_s: FloatArray, interval_s: float) -> IntArray:
    k = np.ceil(t_s / interval_s)
    # Guard the division's rounding: the instant must really be at or after t.
    k = np.where((k - 1.0) * interval_s >= t_s, k - 1.0, k)
    k = np.where(k * interval_s < t_s, k + 1.0, k)
    return k.astype(np.int64)


def _last_at_or_before(t_s: FloatArray, interval_s: float) -> IntArray:
    k = np.floor(t_s / interval_s)
    k = np.where((k + 1.0) * interval_s <= t_s, k + 1.0, k)
    k = np.where(k * interval_s > t_s, k - 1.0, k)
    return k.astype(np.int64)


@dataclass(frozen=True, slots=True)
class InstantStates(Columns):
    """Aircraft states at many instants, grouped by instant (struct of arrays).

    Attributes:
        instant: instant number of each state (sorted).
        t_s: its time.
        row: the table row the state comes from.
        code: its aircraft's number (the same for every state of one aircraft).
        lat_deg: position at the instant (extrapolated when the row is older).
        lon_deg: its longitude.
        alt_ft: its altitude.
    """

    instant: IntArray
    t_s: FloatArray
    row: IntArray
    code: IntArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray


class Timeline:
    """A table prepared for states at instants: sorted once, then read block by block.

    Args:
        table: the positions, in any order; every position an instant may use must
            be in it (those within ``stale_after_s`` before the first instant asked).
        interval_s: time between instants.
        stale_after_s: a position older than this is not used.
        codes: each row's aircraft code, as :func:`aircraft_codes` gives them
            (computed when not given).
    """

    def __init__(
        self,
        table: TrackTable,
        interval_s: float,
        stale_after_s: float,
        codes: IntArray | None = None,
    ):
        self.table = table
        self.interval_s = interval_s
        self.stale_after_s = stale_after_s
        n = len(table)
        code = aircraft_codes(table.ids)[1] if codes is None else codes
        by_aircraft = np.lexsort((table.t_s, code))
        c = code[by_aircraft]
        t = table.t_s[by_aircraft]
        same_next = np.r_[c[1:] == c[:-1], False]
        t_next = np.full(n, np.inf)
        t_next[by_aircraft] = np.where(same_next, np.r_[t[1:], np.inf], np.inf)
        self._code = code.astype(np.int64)
        self._by_time = np.argsort(table.t_s, kind="stable")
        self._t_sorted = table.t_s[self._by_time]
        self._t_next = t_next

    def states(self, k_from: int, k_to: int) -> InstantStates:
        """Each aircraft's state at every instant ``k_from <= k < k_to``.

        Returns:
            The states, sorted by instant then aircraft.
        """
        if k_to <= k_from or len(self.table) == 0:
            return _no_states()
        dt = self.interval_s
        # Only positions from the stale time before the first instant to the last.
        lo_t = k_from * dt - self.stale_after_s - dt
        hi_t = (k_to - 1) * dt
        a = int(np.searchsorted(self._t_sorted, lo_t, side="left"))
        b = int(np.searchsorted(self._t_sorted, hi_t, side="right"))
        rows = self._by_time[a:b]
        if rows.size == 0:
            return _no_states()
        table = self.table
        t = table.t_s[rows]
        t_next = self._t_next[rows]
        # A position serves the instants from its time to just before the next
        # position of its aircraft, at most stale_after_s after it.
        lo = np.maximum(_first_at_or_after(t, dt), k_from)
        finite = np.isfinite(t_next)
        before_next = np.full(rows.size, np.iinfo(np.int64).max // 2)
        before_next[finite] = _first_at_or_after(t_next[finite], dt) - 1
        hi = np.minimum(
            np.minimum(before_next, _last_at_or_before(t + self.stale_after_s, dt)),
            k_to - 1,
        )
        count = np.maximum(hi - lo + 1, 0)
        total = int(count.sum())
        if total == 0:
            return _no_states()
        src = np.repeat(rows, count)
        start = np.repeat(np.cumsum(count) - count, count)
        instant = np.repeat(lo, count) + (np.arange(total) - start)
        order = np.lexsort((self._code[src], instant))
        src, instant = src[order], instant[order]
        t_instant = instant.astype(np.float64) * dt
        age_s = t_instant - table.t_s[src]
        lat = table.lat_deg[src].copy()
        lon = table.lon_deg[src].copy()
        alt = table.alt_ft[src].copy()
        moved = np.flatnonzero(age_s > 0.0)
        if moved.size:
            r = src[moved]
            lat_now, lon_now = geodesy.destination(
                table.lat_deg[r],
                table.lon_deg[r],
                table.trk_deg[r],
                table.gs_kt[r] * age_s[moved] / S_PER_H,
            )
            lat[moved] = lat_now
            lon[moved] = (np.asarray(lon_now) + 180.0) % 360.0 - 180.0
            alt[moved] += table.vs_fpm[r] * age_s[moved] / S_PER_MIN
        return InstantStates(instant, t_instant, src, self._code[src], lat, lon, alt)


def states_at_instants(
    table: TrackTable,
    interval_s: float,
    stale_after_s: float,
    k_from: int,
    k_to: int,
) -> InstantStates:
    """Each aircraft's state at every instant ``k_from <= k < k_to`` (see
    :class:`Timeline`)."""
    return Timeline(table, interval_s, stale_after_s).states(k_from, k_to)


def _no_states() -> InstantStates:
    f = np.zeros(0, dtype=np.float64)
    i = np.zeros(0, dtype=np.int64)
    return InstantStates(i, f, i, i, f, f, f)


def _groups(instant: IntArray) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each run of one instant in a sorted array."""
    if instant.size == 0:
        return
    cuts = np.flatnonzero(instant[1:] != instant[:-1]) + 1
    starts = np.r_[0, cuts]
    ends = np.r_[cuts, instant.size]
    yield from zip(starts.tolist(), ends.tolist(), strict=True)


# --------------------------------------------------------------------------------------
# Conflicts


def find_conflicts(
    table: TrackTable,
    protocol: Protocol,
    k_from: int | None = None,
    k_to: int | None = None,
    *,
    screen: bool = True,
    progress: Callable[[int, int], None] | None = None,
    codes: IntArray | None = None,
    region: Cell | None = None,
) -> ConflictRows:
    """Every conflict at every detection instant of the protocol.

    Args:
        table: the positions (see :func:`states_at_instants` for what must be in it).
        protocol: gives the minima, lookahead, alert levels, detection interval and
            stale time.
        k_from: first instant number (default: from the data, see
            :func:`instant_range`).
        k_to: instant number after the last.
        screen: screen many instants at once (see the module docstring); False calls
            ``detect_conflicts`` on every whole snapshot (the reference).
        progress: called as ``progress(done, total)`` in instants.
        codes: each row's aircraft code (:func:`aircraft_codes`), when known.
        region: only the conflicts whose first aircraft (``a``) is in this cell at
            the instant (see :mod:`deconfliction.analysis.regions`): computed on the
            states in the cell and its halo only. The cells of a grid together give
            every conflict once.

    Returns:
        The conflicts, sorted by (time, a, b).

    Raises:
        PolarRegionError: if a position is too close to a pole.
    """
    interval_s = protocol.detection_interval_s
    stale_s = protocol.stale_after_s
    if len(table) == 0:
        return _empty_rows()
    if k_from is None or k_to is None:
        k0, k1 = instant_range(
            float(table.t_s.min()), float(table.t_s.max()), interval_s, stale_s
        )
        k_from = k0 if k_from is None else k_from
        k_to = k1 if k_to is None else k_to
    settings = protocol.detection_settings()
    parts: list[ConflictRows] = []
    # Work through the instants in blocks so that states never fill memory.
    rows_per_instant = max(
        1.0, len(table) * interval_s / max(_span_s(table), interval_s)
    )
    block = max(1, int(SCREEN_POINTS / rows_per_instant))
    total = k_to - k_from
    timeline = Timeline(table, interval_s, stale_s, codes)
    for k in range(k_from, k_to, block):
        states = timeline.states(k, min(k + block, k_to))
        if region is not None:
            states = _near(table, states, region, settings)
        part = (
            _screened(table, states, settings)
            if screen
            else _exact(table, states, settings, None)
        )
        if region is not None:
            part = part.take(region.contains(part.a_lat_deg, part.a_lon_deg))
        parts.append(part)
        if progress is not None:
            progress(min(k + block, k_to) - k_from, total)
    return ConflictRows.concat(parts)


@dataclass(frozen=True, slots=True)
class CellStates:
    """The states of some instants in one cell and its halo, with the rows of the
    table they come from (``states.row`` indexes ``table``)."""

    cell: Cell
    table: TrackTable
    states: InstantStates


def split_by_cell(
    table: TrackTable,
    protocol: Protocol,
    k_from: int,
    k_to: int,
    cells: list[Cell],
    codes: IntArray | None = None,
) -> list[CellStates]:
    """The states at instants ``k_from <= k < k_to`` cut by cell, each with its
    halo (as ``find_conflicts(..., region=cell)`` keeps them): the input of
    :func:`cell_conflicts`, so that each cell's conflicts can be found apart."""
    settings = protocol.detection_settings()
    timeline = Timeline(
        table, protocol.detection_interval_s, protocol.stale_after_s, codes
    )
    states = timeline.states(k_from, k_to)
    out: list[CellStates] = []
    for cell in cells:
        near = _near(table, states, cell, settings)
        used = np.unique(near.row)
        out.append(
            CellStates(
                cell,
                table.take(used),
                InstantStates(
                    near.instant,
                    near.t_s,
                    np.searchsorted(used, near.row),
                    near.code,
                    near.lat_deg,
                    near.lon_deg,
                    near.alt_ft,
                ),
            )
        )
    return out


def cell_conflicts(piece: CellStates, protocol: Protocol) -> ConflictRows:
    """The conflicts whose first aircraft is in the cell: those of
    ``find_conflicts(..., region=piece.cell)`` at the piece's instants."""
    rows = _screened(piece.table, piece.states, protocol.detection_settings())
    return rows.take(piece.cell.contains(rows.a_lat_deg, rows.a_lon_deg))


def _near(
    table: TrackTable, states: InstantStates, region: Cell, settings: DetectionSettings
) -> InstantStates:
    """The states in the cell's halo: within the minimum plus what two of the
    fastest aircraft close over the lookahead, plus a nautical mile."""
    if len(states) == 0:
        return states
    fastest_kt = float(np.max(np.abs(table.gs_kt[states.row])))
    reach_nm = (
        settings.minima.horizontal_nm
        + 2.0 * fastest_kt * settings.lookahead_s / S_PER_H
        + 1.0
    )
    keep = region.near(states.lat_deg, states.lon_deg, reach_nm)
    return states.take(np.flatnonzero(keep))


def _span_s(table: TrackTable) -> float:
    return float(table.t_s.max() - table.t_s.min()) if len(table) else 0.0


def _snapshot(
    table: TrackTable, states: InstantStates, lo: int, hi: int
) -> AircraftStates:
    rows = states.row[lo:hi]
    return AircraftStates(
        ids=table.ids[rows],
        party=table.party[rows],
        lat_deg=states.lat_deg[lo:hi],
        lon_deg=states.lon_deg[lo:hi],
        alt_ft=states.alt_ft[lo:hi],
        gs_kt=table.gs_kt[rows],
        trk_deg=table.trk_deg[rows],
        vs_fpm=table.vs_fpm[rows],
    )


def _exact(
    table: TrackTable,
    states: InstantStates,
    settings: DetectionSettings,
    keep: BoolArray | None,
) -> ConflictRows:
    """``detect_conflicts`` per instant, on the states kept (all by default)."""
    parts: list[ConflictRows] = []
    index = np.arange(len(states)) if keep is None else np.flatnonzero(keep)
    if index.size == 0:
        return _empty_rows()
    sub = states.take(index)
    for lo, hi in _groups(sub.instant):
        if hi - lo < 2:
            continue
        snap = _snapshot(table, sub, lo, hi)
        found = detect_conflicts(snap, settings)
        if len(found) == 0:
            continue
        a, b = found.a_index, found.b_index
        parts.append(
            ConflictRows(
                t_s=np.full(len(found), sub.t_s[lo]),
                a=snap.ids[a],
                b=snap.ids[b],
                party_a=snap.party[a],
                party_b=snap.party[b],
                tcpa_s=found.tcpa_s,
                dcpa_nm=found.dcpa_nm,
                dalt_ft_at_cpa=found.dalt_ft_at_cpa,
                tin_s=found.tin_s,
                tout_s=found.tout_s,
                level=found.level,
                a_lat_deg=snap.lat_deg[a],
                a_lon_deg=snap.lon_deg[a],
                a_alt_ft=snap.alt_ft[a],
                b_lat_deg=snap.lat_deg[b],
                b_lon_deg=snap.lon_deg[b],
                b_alt_ft=snap.alt_ft[b],
            )
        )
    return ConflictRows.concat(parts)


def _screened(
    table: TrackTable, states: InstantStates, settings: DetectionSettings
) -> ConflictRows:
    """The screen over all instants at once, then the exact test on what it keeps."""
    if len(states) < 2:
        return _empty_rows()
    i, j = screen_pairs(table, states, settings)
    return _exact_pairs(table, states, settings, i, j)


def _exact_pairs(
    table: TrackTable,
    states: InstantStates,
    settings: DetectionSettings,
    i: IntArray,
    j: IntArray,
) -> ConflictRows:
    """The exact test of ``detect_conflicts`` on candidate pairs of states, all
    instants at once (:func:`~deconfliction.domain.detect.evaluate_pairs`): the same
    figures as ``detect_conflicts`` on each instant's snapshot (a test checks it),
    without its fixed cost per call."""
    if i.size == 0:
        return _empty_rows()
    snap = _snapshot(table, states, 0, len(states))
    found = evaluate_pairs(snap, settings, i, j)
    i, j = found.i, found.j
    swap = snap.ids[j] < snap.ids[i]
    a = np.where(swap, j, i)
    b_index = np.where(swap, i, j)
    order = np.lexsort((snap.ids[b_index], snap.ids[a], states.instant[a]))
    a, b_index = a[order], b_index[order]
    return ConflictRows(
        t_s=states.t_s[a],
        a=snap.ids[a],
        b=snap.ids[b_index],
        party_a=snap.party[a],
        party_b=snap.party[b_index],
        tcpa_s=found.tcpa_s[order],
        dcpa_nm=found.dcpa_nm[order],
        dalt_ft_at_cpa=found.dalt_ft_at_cpa[order],
        tin_s=found.tin_s[order],
        tout_s=found.tout_s[order],
        level=found.level[order],
        a_lat_deg=snap.lat_deg[a],
        a_lon_deg=snap.lon_deg[a],
        a_alt_ft=snap.alt_ft[a],
        b_lat_deg=snap.lat_deg[b_index],
        b_lon_deg=snap.lon_deg[b_index],
        b_alt_ft=snap.alt_ft[b_index],
    )


def screen_pairs(
    table: TrackTable, states: InstantStates, settings: DetectionSettings
) -> tuple[IntArray, IntArray]:
    """Pairs of states, each at one instant, that may be in conflict then (a
    superset of those that are), as indices into ``states``.

    The states go in blocks of :data:`SCREEN_BLOCK` instants. For each aircraft and
    block, a box (ECEF x, y, z and altitude) holds every point of the straight
    lines it is predicted along over the lookahead from each of its states in the
    block. Two aircraft can be in conflict at an instant of the block only if their
    boxes, widened by the minima plus :func:`_tilt_m`, overlap: the boxes are paired
    by sorting them along their widest axis (sweep and prune), the pairs expanded to
    their states at the instants both have, and those tested by the closest-approach
    test with the widened minima (:func:`_may_conflict`).
    """
    n = len(states)
    empty = np.zeros(0, dtype=np.int64)
    if n < 2:
        return empty, empty
    rows = states.row
    geodesy.check_latitudes(states.lat_deg)
    pos_m = geodesy.ecef_surface_m(states.lat_deg, states.lon_deg)
    east, north, up = geodesy.enu_basis(states.lat_deg, states.lon_deg)
    trk_rad = np.radians(table.trk_deg[rows])
    gs_mps = table.gs_kt[rows] * MPS_PER_KT
    vel_mps = (gs_mps * np.sin(trk_rad))[:, None] * east + (gs_mps * np.cos(trk_rad))[
        :, None
    ] * north
    alt_m = states.alt_ft * M_PER_FT
    vs_mps = table.vs_fpm[rows] * MPS_PER_FPM
    lookahead_s = settings.lookahead_s
    horizontal_m = settings.minima.horizontal_nm * M_PER_NM + SCREEN_MARGIN_M
    vertical_m = settings.minima.vertical_ft * M_PER_FT + SCREEN_MARGIN_M
    speed_max_mps = float(np.max(np.abs(gs_mps)))
    reach_m = horizontal_m + _tilt_m(speed_max_mps, lookahead_s, horizontal_m)
    reach_v_m = vertical_m + SCREEN_MARGIN_M

    # States in (instant, aircraft) order, one per aircraft and instant.
    first = int(states.instant[0])
    n_codes = int(states.code.max()) + 1
    at = (states.instant - first) * n_codes + states.code
    if not bool(np.all(at[1:] > at[:-1])):
        raise ValueError("screen_pairs needs states sorted by instant then aircraft")

    # One box per aircraft and block.
    block = (states.instant - first) // SCREEN_BLOCK
    order = np.argsort(block * n_codes + states.code, kind="stable")
    key = (block * n_codes + states.code)[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], n]
    ahead_m = pos_m + vel_mps * lookahead_s
    box_lo = np.minimum.reduceat(np.minimum(pos_m, ahead_m)[order], starts, axis=0)
    box_hi = np.maximum.reduceat(np.maximum(pos_m, ahead_m)[order], starts, axis=0)
    alt_ahead_m = alt_m + vs_mps * lookahead_s
    alt_lo = np.minimum.reduceat(np.minimum(alt_m, alt_ahead_m)[order], starts)
    alt_hi = np.maximum.reduceat(np.maximum(alt_m, alt_ahead_m)[order], starts)
    g_block = block[order][starts]
    g_code = states.code[order][starts]

    # Sweep and prune along the widest axis, blocks apart.
    axis = int(np.argmax(np.ptp(box_lo, axis=0)))
    span_m = 4.0 * (float(np.max(np.abs(box_hi))) + reach_m + 1.0)
    sweep = g_block.astype(np.float64) * span_m + box_lo[:, axis]
    by_lo = np.argsort(sweep, kind="stable")
    limit = (g_block.astype(np.float64) * span_m + box_hi[:, axis] + reach_m)[by_lo]
    stop = np.searchsorted(sweep[by_lo], limit, side="right")
    g = len(starts)
    count = np.maximum(stop - np.arange(g) - 1, 0)
    first_of, second_of = _expand(count)
    ga = by_lo[first_of]
    gb = by_lo[first_of + 1 + second_of]
    ok = (alt_lo[ga] <= alt_hi[gb] + reach_v_m) & (alt_lo[gb] <= alt_hi[ga] + reach_v_m)
    for d in range(3):
        if d != axis:
            ok &= (box_lo[ga, d] <= box_hi[gb, d] + reach_m) & (
                box_lo[gb, d] <= box_hi[ga, d] + reach_m
            )
    if settings.cross_party_only:
        g_party = table.party[rows[order[starts]]]
        ok &= g_party[ga] != g_party[gb]
    ga, gb = ga[ok], gb[ok]

    # Each box pair: the states of the first aircraft, matched with the second's.
    per_pair = ends[ga] - starts[ga]
    pair_of, offset = _expand(per_pair)
    i = order[starts[ga][pair_of] + offset]
    want = (states.instant[i] - first) * n_codes + g_code[gb][pair_of]
    j = np.minimum(np.searchsorted(at, want), n - 1)
    both = at[j] == want
    i, j = i[both], j[both]
    hit = _may_conflict(
        pos_m,
        vel_mps,
        up,
        alt_m,
        vs_mps,
        i,
        j,
        horizontal_m,
        vertical_m,
        lookahead_s,
    )
    return i[hit], j[hit]


def _expand(count: IntArray) -> tuple[IntArray, IntArray]:
    """For counts ``c``: ``(k, m)`` for every ``k`` and ``0 <= m < c[k]``, in order.

    >>> [v.tolist() for v in _expand(np.array([2, 0, 1]))]
    [[0, 0, 2], [0, 1, 0]]
    """
    total = int(count.sum())
    owner = np.repeat(np.arange(len(count)), count)
    start = np.cumsum(count) - count
    return owner, np.arange(total) - start[owner]


def _tilt_m(speed_max_mps: float, lookahead_s: float, horizontal_m: float) -> float:
    """How far the straight-line offset of two aircraft can differ from its
    horizontal part (in the pair's midpoint plane, as the exact test measures).

    Surface points are level with each other in that plane; velocities are level at
    each aircraft, which is tilted from the midpoint by half the angle between the
    two, at most ``(horizontal + 2 v L) / R`` for a pair that can meet within the
    lookahead ``L``: over ``L`` each rises or sinks by at most ``v L`` times that.
    """
    travel_m = speed_max_mps * lookahead_s
    angle_rad = (horizontal_m + 2.0 * travel_m) / _MIN_RADIUS_OF_CURVATURE_M
    return 2.0 * travel_m * angle_rad * 0.5 + 1.0


def _may_conflict(
    pos_m: FloatArray,
    vel_mps: FloatArray,
    up: FloatArray,
    alt_m: FloatArray,
    vs_mps: FloatArray,
    i: IntArray,
    j: IntArray,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
) -> BoolArray:
    """The closest-approach test of ``detect`` on candidate pairs, with the widened
    minima: True where the pair may lose separation within the lookahead."""
    if i.size == 0:
        return np.zeros(0, dtype=np.bool_)
    u = up[i] + up[j]
    u /= np.linalg.norm(u, axis=1)[:, None]
    d = pos_m[j] - pos_m[i]
    v = vel_mps[j] - vel_mps[i]
    dh = d - np.einsum("ij,ij->i", d, u)[:, None] * u
    vh = v - np.einsum("ij,ij->i", v, u)[:, None] * u
    a = np.einsum("ij,ij->i", vh, vh)
    b = np.einsum("ij,ij->i", dh, vh)
    c = np.einsum("ij,ij->i", dh, dh)
    r2 = horizontal_m * horizontal_m
    moving = a > _MIN_CLOSURE_MPS2
    safe_a = np.where(moving, a, 1.0)
    disc = b * b - a * (c - r2)
    root = np.sqrt(np.maximum(disc, 0.0))
    h_in = np.where(moving, (-b - root) / safe_a, -np.inf)
    h_out = np.where(moving, (-b + root) / safe_a, np.inf)
    never_h = np.where(moving, disc <= 0.0, c >= r2)
    # Where the quadratic is ill-conditioned (barely moving, or a grazing pass),
    # keep the pair: the exact test decides.
    fragile = (a < 1e3 * _MIN_CLOSURE_MPS2) | (np.abs(disc) <= 1e-9 * (b * b + 1.0))
    dz = alt_m[j] - alt_m[i]
    vz = vs_mps[j] - vs_mps[i]
    climbing = np.abs(vz) > 1e-9
    safe_vz = np.where(climbing, vz, 1.0)
    t1 = (-vertical_m - dz) / safe_vz
    t2 = (vertical_m - dz) / safe_vz
    v_inside = np.abs(dz) < vertical_m
    v_in = np.where(climbing, np.minimum(t1, t2), np.where(v_inside, -np.inf, np.inf))
    v_out = np.where(climbing, np.maximum(t1, t2), np.where(v_inside, np.inf, -np.inf))
    t_in = np.maximum(np.maximum(np.where(never_h, np.inf, h_in), v_in), 0.0)
    t_out = np.minimum(
        np.minimum(np.where(never_h, -np.inf, h_out), v_out), lookahead_s
    )
    slack_s = 1e-6 * max(lookahead_s, 1.0)
    vertical_ok = v_in <= v_out
    hit: BoolArray = (t_in <= t_out + slack_s) | (fragile & vertical_ok)
    return hit


def ceil_to(value_s: float, step_s: float) -> float:
    """The smallest multiple of ``step_s`` not below ``value_s``.

    >>> ceil_to(301.0, 300.0), ceil_to(300.0, 300.0)
    (600.0, 300.0)
    """
    return math.ceil(value_s / step_s) * step_s
