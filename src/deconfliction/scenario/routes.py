"""Planning the reference scenario's traffic: each party's corridor (track and exit
curve beside the line), every sortie's route, and the excursions across the line and
close encounters drawn onto those routes.

Part of :mod:`deconfliction.scenario.traffic` (:func:`simulate_traffic` plans here,
then flies in :mod:`deconfliction.scenario.flying`). Every random draw comes from the
generator passed in, in the same order as before the split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
import shapely.ops
from shapely.geometry import LineString, Point
from shapely.ops import substring

from deconfliction.domain.geodesy import (
    LocalProjection,
    destination,
    geodesic_azimuth_deg,
    geodesic_distance_nm,
)
from deconfliction.domain.model import FloatArray, IntArray
from deconfliction.domain.protocol import DeconflictionLine, LineSide
from deconfliction.errors import Problem, ProtocolError
from deconfliction.scenario.traffic_types import (
    EXIT_OFFSET_NM,
    TRACK_OFFSET_NM,
    Base,
    PartyPlan,
    TrafficConfig,
)
from deconfliction.units import M_PER_NM, S_PER_H, S_PER_MIN

_S_PER_DAY: float = 24.0 * S_PER_H
_SIMPLIFY_M: float = 0.25 * M_PER_NM  # track vertices closer than this add nothing
_MIN_TRACK_LEG_NM: float = 80.0  # room on the track for an excursion or encounter
_WARMUP_S: float = 3.0 * S_PER_H  # longer than a sortie: the sky is full at t = 0
_ENCOUNTER_APPROACH_NM: float = 35.0  # straight run-in of an intruder to its target
_ENCOUNTER_TRIES: int = 30  # draws of a straight stretch before taking any
_STRAIGHT_DEG: float = 8.0  # a stretch turning less than this counts as straight
_ENCOUNTER_KINDS: tuple[tuple[str, tuple[float, float], tuple[float, float]], ...] = (
    ("near-collision", (0.1, 0.3), (100.0, 250.0)),  # kind, miss_nm, |dalt_ft|
    ("close-pass", (0.5, 1.0), (720.0, 820.0)),
)


@dataclass(frozen=True, slots=True)
class _Corridor:
    """One party's track and exit curve, in the projection's metres."""

    track: LineString
    exit: LineString


@dataclass(frozen=True, slots=True)
class _Geometry:
    proj: LocalProjection
    line_m: LineString
    corridors: dict[str, _Corridor]

    def lat_lon(self, xy_m: npt.NDArray[np.float64]) -> tuple[FloatArray, FloatArray]:
        return self.proj.to_lat_lon_deg(xy_m[:, 0], xy_m[:, 1])

    def fraction_on_line(self, lat_deg: float, lon_deg: float) -> float:
        x_m, y_m = self.proj.to_xy_m(lat_deg, lon_deg)
        return float(
            self.line_m.project(Point(float(x_m), float(y_m)), normalized=True)
        )

    def line_point(self, fraction: float) -> tuple[float, float]:
        foot = self.line_m.interpolate(fraction, normalized=True)
        lat, lon = self.proj.to_lat_lon_deg(foot.x, foot.y)
        return float(lat), float(lon)

    def across_point(
        self, lat_deg: float, lon_deg: float, depth_nm: float
    ) -> tuple[float, float]:
        """The point ``depth_nm`` from the line on the other side from (lat, lon),
        nearest to it: an excursion's apex, exactly that deep across the line as
        conformance measures it (the nearest part of the line, bends included)."""
        x_m, y_m = self.proj.to_xy_m(lat_deg, lon_deg)
        here = Point(float(x_m), float(y_m))
        # Of the two parallels at depth_nm, the other side's is the further one.
        apex = max(
            (
                shapely.ops.nearest_points(
                    self.line_m.offset_curve(sign * depth_nm * M_PER_NM), here
                )[0]
                for sign in (1.0, -1.0)
            ),
            key=here.distance,
        )
        lat, lon = self.proj.to_lat_lon_deg(apex.x, apex.y)
        return float(lat), float(lon)

    def exit_point(self, party: str, fraction: float) -> tuple[float, float]:
        pt = self.corridors[party].exit.interpolate(fraction, normalized=True)
        lat, lon = self.proj.to_lat_lon_deg(pt.x, pt.y)
        return float(lat), float(lon)


class _Route:
    """A sortie being planned: its waypoints and flight figures (mutable)."""

    def __init__(
        self,
        *,
        party: str,
        base: Base,
        lat_deg: list[float],
        lon_deg: list[float],
        departure_t_s: float,
        gs_kt: float,
        cruise_alt_ft: float,
        climb_fpm: float,
        descent_fpm: float,
        track_legs: tuple[int, int],
    ) -> None:
        self.party = party
        self.base = base
        self.kind = "nominal"
        self.departure_t_s = departure_t_s
        self.gs_kt = gs_kt
        self.cruise_alt_ft = cruise_alt_ft
        self.climb_fpm = climb_fpm
        self.descent_fpm = descent_fpm
        self.lat_deg = np.asarray(lat_deg, dtype=np.float64)
        self.lon_deg = np.asarray(lon_deg, dtype=np.float64)
        # waypoint indices where the track begins and ends
        self.track_from, self.track_to = track_legs
        self.cum_nm = np.zeros(1)
        self.az_deg = np.zeros(0)
        self.refresh()

    def refresh(self) -> None:
        """Recompute leg lengths and azimuths after the waypoints changed."""
        seg_nm = geodesic_distance_nm(
            self.lat_deg[:-1], self.lon_deg[:-1], self.lat_deg[1:], self.lon_deg[1:]
        )
        self.cum_nm = np.concatenate([[0.0], np.cumsum(seg_nm)])
        self.az_deg = geodesic_azimuth_deg(
            self.lat_deg[:-1], self.lon_deg[:-1], self.lat_deg[1:], self.lon_deg[1:]
        )

    @property
    def length_nm(self) -> float:
        return float(self.cum_nm[-1])

    @property
    def arrival_t_s(self) -> float:
        return self.departure_t_s + self.length_nm / self.gs_kt * S_PER_H

    def t_at(self, dist_nm: float) -> float:
        return self.departure_t_s + dist_nm / self.gs_kt * S_PER_H

    def dist_at(self, t_s: float) -> float:
        return (t_s - self.departure_t_s) * self.gs_kt / S_PER_H

    def segment_of(self, dist_nm: FloatArray) -> IntArray:
        seg = np.searchsorted(self.cum_nm, dist_nm, side="right") - 1
        return np.clip(seg, 0, len(self.az_deg) - 1).astype(np.int64)

    def position_at(self, dist_nm: float) -> tuple[float, float, float]:
        """(lat, lon, track angle) after flying ``dist_nm``."""
        seg = int(self.segment_of(np.array([dist_nm]))[0])
        lat, lon = destination(
            self.lat_deg[seg],
            self.lon_deg[seg],
            self.az_deg[seg],
            dist_nm - self.cum_nm[seg],
        )
        trk = geodesic_azimuth_deg(
            lat, lon, self.lat_deg[seg + 1], self.lon_deg[seg + 1]
        )
        return float(lat), float(lon), float(trk)

    def insert(
        self, after_nm: float, before_nm: float, lat: list[float], lon: list[float]
    ) -> None:
        """Replace the route between two distances with the given waypoints."""
        keep_before = self.cum_nm < after_nm
        keep_after = self.cum_nm > before_nm
        n_before = int(np.sum(keep_before))
        n_removed = len(self.cum_nm) - n_before - int(np.sum(keep_after))
        self.lat_deg = np.concatenate(
            [self.lat_deg[keep_before], lat, self.lat_deg[keep_after]]
        )
        self.lon_deg = np.concatenate(
            [self.lon_deg[keep_before], lon, self.lon_deg[keep_after]]
        )
        self.track_to += len(lat) - n_removed
        self.refresh()

    @property
    def track_span_nm(self) -> tuple[float, float]:
        return float(self.cum_nm[self.track_from]), float(self.cum_nm[self.track_to])


def _check_line(line: DeconflictionLine, plans: tuple[PartyPlan, ...]) -> None:
    source = f"line {line.id}"
    problems = [
        Problem(
            source,
            None,
            f"sides.{p.party}",
            f"the reference scenario needs a side for {p.party!r}",
        )
        for p in plans
        if p.party not in line.sides
    ]
    if len(line.lat_deg) < 2:
        problems.append(Problem(source, None, "points", "needs at least two points"))
    if problems:
        raise ProtocolError(problems)


def _corridor(line_m: LineString, side: LineSide) -> _Corridor:
    # shapely offsets positive distances to the left and keeps the line's direction
    sign = 1.0 if side is LineSide.LEFT else -1.0
    return _Corridor(
        track=_offset(line_m, sign * TRACK_OFFSET_NM * M_PER_NM),
        exit=_offset(line_m, sign * EXIT_OFFSET_NM * M_PER_NM),
    )


def _offset(line_m: LineString, dist_m: float) -> LineString:
    geom = line_m.offset_curve(dist_m, join_style="round").simplify(_SIMPLIFY_M)
    if isinstance(geom, LineString):
        return geom
    # a tight bend can split an offset curve in pieces: keep the longest
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, LineString)]
    return max(parts, key=lambda g: g.length)


def _plan_sorties(
    plans: tuple[PartyPlan, ...],
    geo: _Geometry,
    config: TrafficConfig,
    rng: np.random.Generator,
) -> list[_Route]:
    window_end_t_s = config.start_t_s + config.duration_s
    routes: list[_Route] = []
    for plan in plans:
        rate = config.sorties_per_day.get(plan.party, plan.sorties_per_day)
        n = int(rng.poisson(rate * (config.duration_s + _WARMUP_S) / _S_PER_DAY))
        dep_t_s = np.sort(rng.uniform(config.start_t_s - _WARMUP_S, window_end_t_s, n))
        shares = np.array([b.weight for b in plan.bases])
        base_idx = rng.choice(len(plan.bases), size=n, p=shares / shares.sum())
        routes += [
            _nominal_route(plan, plan.bases[int(bi)], geo, float(t), config, rng)
            for t, bi in zip(dep_t_s, base_idx, strict=True)
        ]
    return routes


def _nominal_route(
    plan: PartyPlan,
    base: Base,
    geo: _Geometry,
    t_dep_s: float,
    config: TrafficConfig,
    rng: np.random.Generator,
) -> _Route:
    corridor = geo.corridors[plan.party]
    s_join = float(rng.uniform(*base.join_range))
    leg = float(rng.uniform(0.3, 0.6))
    lo, hi = plan.track_limits
    s_leave = min(s_join + leg, hi) if plan.downstream else max(s_join - leg, lo)
    piece_m = np.asarray(
        substring(corridor.track, s_join, s_leave, normalized=True).coords
    )
    track_lat, track_lon = geo.lat_lon(piece_m)

    lat = [base.lat_deg, *(p[0] for p in base.outbound)]
    lon = [base.lon_deg, *(p[1] for p in base.outbound)]
    if not base.join_direct:
        out_lat, out_lon = geo.exit_point(plan.party, s_join)
        lat.append(out_lat)
        lon.append(out_lon)
    track_from = len(lat)
    lat += track_lat.tolist()
    lon += track_lon.tolist()
    track_to = len(lat) - 1
    in_lat, in_lon = geo.exit_point(plan.party, s_leave)
    lat += [in_lat, *(p[0] for p in base.inbound), base.lat_deg]
    lon += [in_lon, *(p[1] for p in base.inbound), base.lon_deg]
    alt_lo_ft, alt_hi_ft = config.cruise_alt_ft
    return _Route(
        party=plan.party,
        base=base,
        lat_deg=lat,
        lon_deg=lon,
        departure_t_s=t_dep_s,
        gs_kt=float(rng.uniform(*config.gs_kt)),
        # cruise levels in steps of 500 ft, as assigned in practice
        cruise_alt_ft=float(
            np.round(rng.uniform(alt_lo_ft, alt_hi_ft) / 500.0) * 500.0
        ),
        climb_fpm=float(rng.uniform(3000.0, 5000.0)),
        descent_fpm=float(rng.uniform(2500.0, 3500.0)),
        track_legs=(track_from, track_to),
    )


def _draw_count(
    rate_per_day: float, duration_s: float, rng: np.random.Generator
) -> int:
    """The expected count for the window; its fractional part is a coin toss."""
    expected = rate_per_day * duration_s / _S_PER_DAY
    whole = math.floor(expected)
    return whole + int(rng.random() < expected - whole)


def _on_track_in_window(route: _Route, config: TrafficConfig, margin_s: float) -> bool:
    d_from, d_to = route.track_span_nm
    return (
        route.kind == "nominal"
        and d_to - d_from >= _MIN_TRACK_LEG_NM
        and route.t_at(d_from) >= config.start_t_s + margin_s
        and route.t_at(d_to) <= config.start_t_s + config.duration_s - margin_s
    )


@dataclass(frozen=True, slots=True)
class _PlannedExcursion:
    route: int
    apex_nm: float
    apex_lat_deg: float
    apex_lon_deg: float
    depth_nm: float


def _plan_excursions(
    routes: list[_Route],
    plans: tuple[PartyPlan, ...],
    geo: _Geometry,
    config: TrafficConfig,
    rng: np.random.Generator,
) -> list[_PlannedExcursion]:
    """Bend some nominal routes across the line and back."""
    count = _draw_count(config.excursions_per_day, config.duration_s, rng)
    parties = [p.party for p in plans]
    others = [p for p in parties if p != "russia"] or parties
    pool = {
        party: [
            i
            for i, r in enumerate(routes)
            if r.party == party and _on_track_in_window(r, config, 10 * S_PER_MIN)
        ]
        for party in parties
    }
    planned: list[_PlannedExcursion] = []
    for _ in range(count):
        # mostly Russian, as reported
        if "russia" in pool and rng.random() < config.excursion_russia_share:
            party = "russia"
        else:
            party = others[int(rng.integers(len(others)))]
        if not pool[party]:
            continue
        idx = pool[party].pop(int(rng.integers(len(pool[party]))))
        route = routes[idx]
        depth_nm = float(rng.uniform(*config.excursion_depth_nm))
        half_nm = float(rng.uniform(12.0, 20.0))
        d_from, d_to = route.track_span_nm
        mid_nm = d_from + float(rng.uniform(0.3, 0.7)) * (d_to - d_from)
        mid_lat, mid_lon, _ = route.position_at(mid_nm)
        apex_lat, apex_lon = geo.across_point(mid_lat, mid_lon, depth_nm)
        a_lat, a_lon, _ = route.position_at(mid_nm - half_nm)
        b_lat, b_lon, _ = route.position_at(mid_nm + half_nm)
        route.insert(
            mid_nm - half_nm,
            mid_nm + half_nm,
            [a_lat, float(apex_lat), b_lat],
            [a_lon, float(apex_lon), b_lon],
        )
        route.kind = "excursion"
        apex_at = int(
            np.argmin(np.hypot(route.lat_deg - apex_lat, route.lon_deg - apex_lon))
        )
        planned.append(
            _PlannedExcursion(
                idx,
                float(route.cum_nm[apex_at]),
                float(apex_lat),
                float(apex_lon),
                depth_nm,
            )
        )
    return planned


def _is_straight(route: _Route, from_nm: float, to_nm: float) -> bool:
    """True when the route turns less than :data:`_STRAIGHT_DEG` in between."""
    d_nm = np.linspace(max(from_nm, 0.0), min(to_nm, route.length_nm), 8)
    trk = np.array([route.position_at(float(d))[2] for d in d_nm])
    turn = (np.diff(trk) + 180.0) % 360.0 - 180.0
    return bool(np.all(np.abs(np.cumsum(turn)) < _STRAIGHT_DEG))


@dataclass(frozen=True, slots=True)
class _PlannedEncounter:
    intruder: int
    target: int
    kind: str
    t_s: float
    miss_nm: float
    dalt_ft: float


def _plan_encounters(
    routes: list[_Route],
    plans: tuple[PartyPlan, ...],
    geo: _Geometry,
    config: TrafficConfig,
    rng: np.random.Generator,
) -> list[_PlannedEncounter]:
    """Add intruders that cross the line to pass close to a target.

    The intruder party is Russia when it is in the plans (as in December 2017),
    the target party the first other party.
    """
    count = _draw_count(config.encounters_per_day, config.duration_s, rng)
    by_party = {p.party: p for p in plans}
    intruder_plan = by_party.get("russia", plans[-1])
    target_party = next(
        (p.party for p in plans if p.party != intruder_plan.party), None
    )
    if target_party is None:
        return []
    pool = [
        i
        for i, r in enumerate(routes)
        if r.party == target_party and _on_track_in_window(r, config, 20 * S_PER_MIN)
    ]
    shares = np.array([b.weight for b in intruder_plan.bases])
    planned: list[_PlannedEncounter] = []
    for k in range(count):
        if not pool:
            break
        target_idx = pool.pop(int(rng.integers(len(pool))))
        target = routes[target_idx]
        # alternate: a near-collision inside the warning (RA) thresholds, then a
        # close pass inside the advisory (850 ft) but not the warning (700 ft) band
        kind, miss_range_nm, dalt_range_ft = _ENCOUNTER_KINDS[k % 2]
        miss_nm = float(rng.uniform(*miss_range_nm))
        dalt_ft = float(rng.uniform(*dalt_range_ft))
        dalt_ft *= 1.0 if rng.random() < 0.5 else -1.0
        d_from, d_to = target.track_span_nm
        # pass where the target flies straight, as a real intercept would: there
        # straight-line prediction sees it coming from the start of the run-in
        for _ in range(_ENCOUNTER_TRIES):
            d_c = d_from + float(rng.uniform(0.2, 0.8)) * (d_to - d_from)
            if _is_straight(target, d_c - _ENCOUNTER_APPROACH_NM, d_c + 5.0):
                break
        # the pass happens on the sampling grid, so a snapshot catches it
        t_c = (
            config.start_t_s
            + round((target.t_at(d_c) - config.start_t_s) / config.step_s)
            * config.step_s
        )
        p_lat, p_lon, p_trk = target.position_at(target.dist_at(t_c))
        side = 1.0 if rng.random() < 0.5 else -1.0
        q_lat, q_lon = (
            float(v) for v in destination(p_lat, p_lon, p_trk + 90.0 * side, miss_nm)
        )
        s_line = geo.fraction_on_line(p_lat, p_lon)
        foot_lat, foot_lon = geo.line_point(s_line)
        from_deg = float(
            geodesic_azimuth_deg(p_lat, p_lon, foot_lat, foot_lon)
        ) + float(rng.uniform(-35.0, 35.0))
        a_lat, a_lon = destination(q_lat, q_lon, from_deg, _ENCOUNTER_APPROACH_NM)
        e_lat, e_lon = destination(q_lat, q_lon, from_deg + 180.0, 10.0)
        r_lat, r_lon = destination(
            q_lat, q_lon, from_deg + 40.0 * side, _ENCOUNTER_APPROACH_NM
        )
        x_lat, x_lon = geo.exit_point(intruder_plan.party, s_line)
        base = intruder_plan.bases[
            int(rng.choice(len(intruder_plan.bases), p=shares / shares.sum()))
        ]
        way = [
            (base.lat_deg, base.lon_deg),
            *base.outbound,
            (x_lat, x_lon),
            (float(a_lat), float(a_lon)),
            (q_lat, q_lon),  # the pass
            (float(e_lat), float(e_lon)),
            (float(r_lat), float(r_lon)),
            (x_lat, x_lon),
            *base.inbound,
            (base.lat_deg, base.lon_deg),
        ]
        lat, lon = [w[0] for w in way], [w[1] for w in way]
        pass_at = len(base.outbound) + 3
        gs_kt = float(rng.uniform(*config.gs_kt))
        intruder = _Route(
            party=intruder_plan.party,
            base=base,
            lat_deg=lat,
            lon_deg=lon,
            departure_t_s=0.0,
            gs_kt=gs_kt,
            cruise_alt_ft=target.cruise_alt_ft + dalt_ft,
            climb_fpm=float(rng.uniform(3000.0, 5000.0)),
            descent_fpm=float(rng.uniform(2500.0, 3500.0)),
            track_legs=(pass_at - 1, pass_at + 1),
        )
        intruder.departure_t_s = t_c - float(intruder.cum_nm[pass_at]) / gs_kt * S_PER_H
        intruder.kind = "encounter"
        routes.append(intruder)
        planned.append(
            _PlannedEncounter(
                len(routes) - 1, target_idx, kind, t_c, float(miss_nm), float(dalt_ft)
            )
        )
    return planned
