"""Violations in a track table: the exact conformance test behind a cheap screen.

:func:`find_violations` runs :func:`~deconfliction.domain.conformance.detect_violations`
over a whole table; :func:`screen_conformance` first keeps only the positions that
may breach a line or zone (a spherical frame with a margin that covers its error),
so :func:`nonconforming` and :func:`conformance_rows` run the exact test on far
fewer rows. Used by :mod:`deconfliction.analysis.engine`, which re-exports them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deconfliction.analysis.tracks import TrackTable, aircraft_codes
from deconfliction.domain import geodesy
from deconfliction.domain.conformance import (
    PositionStream,
    PreparedConformance,
    Violation,
    detect_violations,
    may_be_nonconforming,
    point_segment_distance_m,
)
from deconfliction.domain.model import (
    BoolArray,
    FloatArray,
    IntArray,
)
from deconfliction.domain.protocol import LineSide, Protocol
from deconfliction.units import (
    M_PER_NM,
)

# --------------------------------------------------------------------------------------
# Violations


def find_violations(
    protocol: Protocol | PreparedConformance, table: TrackTable
) -> list[Violation]:
    """Every violation in the table: :func:`detect_violations` over all its rows.

    Raises:
        GeometryError: if a line or zone cannot be built.
        InputError: if a position is not finite.
    """
    return detect_violations(protocol, table.positions())


SCREEN_SCALE_ERROR: float = 0.02
"""The conformance screen measures in a spherical azimuthal equidistant frame, not
the ellipsoidal one of the exact test: positions and lines may sit up to about 0.8 %
of their distance from the centre away from where the exact test puts them; the
screen allows 2 % of that distance, plus :data:`SCREEN_MARGIN_CONFORMANCE_M`."""

SCREEN_MARGIN_CONFORMANCE_M: float = 2_000.0
SCREEN_REACH_M: float = 1_500_000.0
"""Positions further than this from the centre of the lines and zones go to the
exact test unscreened (the spherical frame drifts with distance)."""

_EARTH_RADIUS_M: float = 6_371_008.8  # mean radius (IUGG): the screen's sphere


@dataclass(frozen=True, slots=True)
class _Frame:
    """A spherical azimuthal equidistant frame centred on the lines and zones."""

    lat0_rad: float
    lon0_rad: float

    def xy_m(
        self, lat_deg: FloatArray, lon_deg: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """East, north and distance from the centre, metres."""
        lat = np.radians(lat_deg)
        dlon = np.radians(lon_deg) - self.lon0_rad
        sin0, cos0 = math.sin(self.lat0_rad), math.cos(self.lat0_rad)
        cos_c = np.clip(
            sin0 * np.sin(lat) + cos0 * np.cos(lat) * np.cos(dlon), -1.0, 1.0
        )
        c = np.arccos(cos_c)
        k = np.where(c > 1e-12, c / np.maximum(np.sin(c), 1e-300), 1.0)
        x = _EARTH_RADIUS_M * k * np.cos(lat) * np.sin(dlon)
        y = (
            _EARTH_RADIUS_M
            * k
            * (cos0 * np.sin(lat) - sin0 * np.cos(lat) * np.cos(dlon))
        )
        return x, y, _EARTH_RADIUS_M * c


def screen_conformance(protocol: Protocol, table: TrackTable) -> BoolArray:
    """Positions that may be non-conforming (a superset of those that are).

    Cheap geometry in a spherical frame, with margins (:data:`SCREEN_SCALE_ERROR`)
    that cover its difference from the exact test: a position is cleared only when
    it is outside every zone's box by the margin (or exempt from it), and for every
    line it must keep to is further than the buffer plus the margin from the line
    and on its own side of every part of the line about as near as the nearest.

    Returns:
        One flag per position.
    """
    n = len(table)
    maybe = np.zeros(n, dtype=np.bool_)
    outlines = [(ln.lat_deg, ln.lon_deg) for ln in protocol.lines] + [
        (z.lat_deg, z.lon_deg) for z in protocol.zones
    ]
    if n == 0 or not outlines:
        return maybe
    centre = geodesy.LocalProjection.around(
        [v for lat, _ in outlines for v in lat], [v for _, lon in outlines for v in lon]
    )
    frame = _Frame(
        math.radians(centre.center_lat_deg), math.radians(centre.center_lon_deg)
    )
    x, y, r = frame.xy_m(table.lat_deg, table.lon_deg)
    far = r > SCREEN_REACH_M
    maybe |= far
    for zone in protocol.zones:
        subject = (
            (table.party != zone.owner)
            & (table.alt_ft >= zone.floor_ft)
            & (table.alt_ft <= zone.ceiling_ft)
        )
        if not subject.any():
            continue
        zx, zy, zr = frame.xy_m(
            np.asarray(zone.lat_deg, dtype=np.float64),
            np.asarray(zone.lon_deg, dtype=np.float64),
        )
        margin = (
            SCREEN_SCALE_ERROR * np.maximum(r, zr.max()) + SCREEN_MARGIN_CONFORMANCE_M
        )
        inside_box = (
            (x >= zx.min() - margin)
            & (x <= zx.max() + margin)
            & (y >= zy.min() - margin)
            & (y <= zy.max() + margin)
        )
        maybe |= subject & inside_box
    for line in protocol.lines:
        keeps = {p: 1.0 if s == LineSide.LEFT else -1.0 for p, s in line.sides.items()}
        required = np.zeros(n)
        for party, sign in keeps.items():
            required[table.party == party] = sign
        rows = np.flatnonzero((required != 0.0) & ~far)
        if rows.size == 0:
            continue
        lx, ly, lr = frame.xy_m(
            np.asarray(line.lat_deg, dtype=np.float64),
            np.asarray(line.lon_deg, dtype=np.float64),
        )
        # The first and last segments carried on, as the exact test does.
        keep = np.r_[True, np.hypot(np.diff(lx), np.diff(ly)) > 0.0]
        lx, ly = lx[keep], ly[keep]
        ends = []
        for a, b in ((0, 1), (-1, -2)):
            d = np.array([lx[a] - lx[b], ly[a] - ly[b]])
            ends.append(np.array([lx[a], ly[a]]) + d / np.linalg.norm(d) * 2_000_000.0)
        ex = np.r_[ends[0][0], lx, ends[1][0]]
        ey = np.r_[ends[0][1], ly, ends[1][1]]
        px, py = x[rows], y[rows]
        dists = []
        crosses = []
        for k in range(len(ex) - 1):
            d, c = point_segment_distance_m(px, py, ex[k], ey[k], ex[k + 1], ey[k + 1])
            dists.append(d)
            crosses.append(c)
        dist = np.vstack(dists)
        cross = np.vstack(crosses)
        own = required[rows][None, :] * cross > 0.0
        margin = (
            SCREEN_SCALE_ERROR * np.maximum(r[rows], lr.max())
            + SCREEN_MARGIN_CONFORMANCE_M
        )
        nearest = dist.min(axis=0)
        near = (
            dist
            <= nearest[None, :] * (1.0 + 2 * SCREEN_SCALE_ERROR) + 2 * margin[None, :]
        )
        cleared = (nearest > line.buffer_nm * M_PER_NM + margin) & np.all(
            own | ~near, axis=0
        )
        maybe[rows[~cleared]] = True
    return maybe


def nonconforming(
    protocol: Protocol, table: TrackTable, prepared: PreparedConformance | None = None
) -> BoolArray:
    """Which positions are non-conforming with some line or zone.

    :func:`screen_conformance` clears most positions cheaply, ``may_be_nonconforming``
    (``domain.conformance``) most of the rest; what remains is judged by the exact
    test, each alone: they go to ``detect_violations`` as one aircraft
    whose samples are more than ``max_gap_s`` apart, so that every non-conforming
    position is a violation of its own, which names its row.

    Raises:
        InputError: if a position is not finite.
    """
    n = len(table)
    out = np.zeros(n, dtype=np.bool_)
    if n == 0 or not (protocol.lines or protocol.zones):
        return out
    prepared = prepared or PreparedConformance.from_protocol(protocol)
    rows = np.flatnonzero(screen_conformance(protocol, table))
    rows = rows[
        may_be_nonconforming(
            prepared,
            table.party[rows],
            table.lat_deg[rows],
            table.lon_deg[rows],
            table.alt_ft[rows],
        )
    ]
    if rows.size == 0:
        return out
    spacing_s = prepared.rules.max_gap_s + 1.0
    stream = PositionStream(
        ids=np.full(rows.size, "x"),
        party=table.party[rows],
        t_s=np.arange(rows.size, dtype=np.float64) * spacing_s,
        lat_deg=table.lat_deg[rows],
        lon_deg=table.lon_deg[rows],
        alt_ft=table.alt_ft[rows],
    )
    for v in detect_violations(prepared, stream):
        out[rows[round(v.entry_t_s / spacing_s)]] = True
    return out


def conformance_rows(
    protocol: Protocol,
    table: TrackTable,
    prepared: PreparedConformance | None = None,
    codes: IntArray | None = None,
) -> TrackTable:
    """The rows of a stretch of time that decide its violations (module docstring).

    The stretch must start and end on multiples of ``max_gap_s`` (so that buckets do
    not straddle stretches) and hold every position in it. ``codes``: each row's
    aircraft code (:func:`aircraft_codes`), when known.

    Returns:
        The rows kept, sorted by (aircraft, time).

    Raises:
        InputError: if a position is not finite.
    """
    n = len(table)
    if n == 0 or not (protocol.lines or protocol.zones):
        return TrackTable.empty()
    code = aircraft_codes(table.ids)[1] if codes is None else codes
    order = np.lexsort((table.t_s, code))
    t = table.t_s[order]
    c = code[order]
    nc = nonconforming(protocol, table, prepared)[order]
    bucket = np.floor(t / protocol.conformance.max_gap_s)
    new_group = np.r_[True, (c[1:] != c[:-1]) | (bucket[1:] != bucket[:-1])]
    last_of_group = np.r_[new_group[1:], True]
    same_prev = np.r_[False, c[1:] == c[:-1]]
    same_next = np.r_[c[1:] == c[:-1], False]
    prev_nc = np.r_[False, nc[:-1]] & same_prev
    next_nc = np.r_[nc[1:], False] & same_next
    keep = nc | prev_nc | next_nc | new_group | last_of_group
    return table.take(order[keep])


def violation_order(v: Violation) -> tuple[float, str, str, str]:
    """The order of ``detect_violations``: entry, aircraft, boundary, kind."""
    return (v.entry_t_s, v.aircraft_id, v.boundary_id, v.kind.value)
