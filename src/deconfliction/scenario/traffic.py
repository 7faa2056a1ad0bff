"""Seeded fast-time traffic for the reference scenario (Euphrates, 2017).

Each party flies sorties from its own bases to a track parallel to a deconfliction
line on its own side, :data:`TRACK_OFFSET_NM` from it, so the two parties' tracks are
about 39 NM (45 statute miles) apart, as reported for the Euphrates arrangement of
2017. The coalition flies its track downstream (north to south) and Russia upstream
(south to north); then each aircraft leaves its track away from the line and flies
home. On top of the nominal traffic come:

* excursions: random sorties, mostly Russian, that leave their track, cross the line
  by 5-25 NM and come back a few minutes later (about five a day were reported);
* close encounters: an aircraft of one party flies across the line to pass a given
  aircraft of the other at a planned miss distance and height difference. The first,
  third... is a near-collision like the one reported in December 2017 (meant to raise
  a warning), the others a close pass meant to raise an advisory but not a warning;
* GPS jitter on a small fraction of the reported positions.

Model and assumptions: every sortie flies its route of geodesic legs at one constant
ground speed (no wind); turns are instantaneous; it climbs straight after departure
and descends straight to landing at constant rates, and is level in between. All
aircraft are sampled on one time grid, so the samples of one step are a consistent
snapshot. Every random draw comes from one ``numpy.random.Generator`` seeded from the
configuration: the same seed and configuration give the same traffic, bit for bit.
Geodesy goes through :mod:`deconfliction.domain.geodesy` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
from deconfliction.domain.model import AircraftStates, FloatArray, IntArray, StrArray
from deconfliction.domain.positions import COLUMN_NAMES, Positions
from deconfliction.domain.protocol import DeconflictionLine, LineSide
from deconfliction.errors import Problem, ProtocolError
from deconfliction.units import M_PER_NM, S_PER_H, S_PER_MIN

BoolArray = npt.NDArray[np.bool_]

REFERENCE_START_T_S: float = 1513123200.0
"""2017-12-13T00:00:00Z: a day in the month of the reported near-collision."""

TRACK_OFFSET_NM: float = 19.5
"""Distance of each party's track from the line: the two tracks are then 39 NM =
45 statute miles apart, as reported."""

EXIT_OFFSET_NM: float = 45.0
"""Aircraft join and leave their track through a point this far from the line, so
that the legs to and from their bases stay well clear of the line's buffer."""

_S_PER_DAY: float = 24.0 * S_PER_H
_SIMPLIFY_M: float = 0.25 * M_PER_NM  # track vertices closer than this add nothing
_MIN_TRACK_LEG_NM: float = 80.0  # room on the track for an excursion or encounter
_WARMUP_S: float = 3.0 * S_PER_H  # longer than a sortie: the sky is full at t = 0
_ENCOUNTER_APPROACH_NM: float = 35.0  # straight run-in of an intruder to its target
_MIN_REMAINING_NM: float = 1e-3  # closer than this to a leg's end, keep its azimuth
_ENCOUNTER_TRIES: int = 30  # draws of a straight stretch before taking any
_STRAIGHT_DEG: float = 8.0  # a stretch turning less than this counts as straight
_ENCOUNTER_KINDS: tuple[tuple[str, tuple[float, float], tuple[float, float]], ...] = (
    ("near-collision", (0.1, 0.3), (100.0, 250.0)),  # kind, miss_nm, |dalt_ft|
    ("close-pass", (0.5, 1.0), (720.0, 820.0)),
)


@dataclass(frozen=True, slots=True)
class Base:
    """An air base and the way out of it and back.

    Attributes:
        id: short identifier.
        name: human-readable name.
        party: the party flying from it.
        lat_deg: latitude.
        lon_deg: longitude.
        weight: relative weight of this base among the party's bases.
        join_range: where on the line (fractions of its length, 0 at its first point)
            sorties from this base join their track.
        outbound: waypoints ``(lat_deg, lon_deg)`` flown after departure.
        inbound: waypoints flown before landing.
        join_direct: join the track straight from the last outbound waypoint instead
            of through the exit curve (where the way in already comes from outside
            the line's end, as over Turkey).
    """

    id: str
    name: str
    party: str
    lat_deg: float
    lon_deg: float
    weight: float
    join_range: tuple[float, float]
    outbound: tuple[tuple[float, float], ...] = ()
    inbound: tuple[tuple[float, float], ...] = ()
    join_direct: bool = False


@dataclass(frozen=True, slots=True)
class PartyPlan:
    """How one party flies.

    Attributes:
        party: party id.
        sorties_per_day: mean number of sorties in 24 hours.
        downstream: True to fly the track in the order of the line's points.
        bases: where it flies from.
        callsign_prefix: prefix of its aircraft ids.
        track_limits: the part of the line (fractions of its length) its sorties
            may leave their track in.
    """

    party: str
    sorties_per_day: float
    downstream: bool
    bases: tuple[Base, ...]
    callsign_prefix: str
    track_limits: tuple[float, float] = (0.02, 0.98)


# Coalition sorties from Incirlik route east over Turkey and enter Syria east of
# Jarabulus; those from Al Asad come up the Iraqi side. Russian sorties fly from
# Hmeimim and Tiyas (T4). Places from shared/reference/syria.md.
EUPHRATES_PLANS: tuple[PartyPlan, ...] = (
    PartyPlan(
        party="coalition",
        sorties_per_day=75.0,
        downstream=True,
        callsign_prefix="COA",
        bases=(
            Base(
                id="incirlik",
                name="Incirlik (LTAG)",
                party="coalition",
                lat_deg=37.002,
                lon_deg=35.426,
                weight=0.45,
                join_range=(0.0, 0.04),
                outbound=((37.30, 36.60), (37.15, 38.45)),
                inbound=((37.05, 39.60), (37.35, 38.60), (37.30, 36.60)),
                join_direct=True,
            ),
            Base(
                id="al-asad",
                name="Al Asad",
                party="coalition",
                lat_deg=33.786,
                lon_deg=42.441,
                weight=0.55,
                join_range=(0.15, 0.55),
                outbound=((35.10, 41.75),),
                inbound=((35.10, 41.75),),
            ),
        ),
    ),
    PartyPlan(
        party="russia",
        sorties_per_day=85.0,
        downstream=False,
        callsign_prefix="RUS",
        # Russian tracks end south of the Turkish border, away from the coalition's
        # way in from Incirlik
        track_limits=(0.12, 0.98),
        bases=(
            Base(
                id="hmeimim",
                name="Hmeimim (OSLK)",
                party="russia",
                lat_deg=35.401,
                lon_deg=35.949,
                weight=0.6,
                join_range=(0.55, 0.92),
            ),
            Base(
                id="tiyas",
                name="Tiyas (T4)",
                party="russia",
                lat_deg=34.522,
                lon_deg=37.630,
                weight=0.4,
                join_range=(0.55, 0.95),
            ),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    """What to simulate.

    Attributes:
        seed: seed of the random generator.
        duration_s: length of the simulated window.
        start_t_s: start of the window (epoch seconds, UTC).
        step_s: time between two samples of every aircraft.
        sorties_per_day: mean sorties in 24 hours by party, overriding the plans.
        excursions_per_day: mean excursions across the line in 24 hours.
        excursion_russia_share: share of the excursions flown by Russian aircraft.
        excursion_depth_nm: range of the depth past the line.
        encounters_per_day: mean deliberate close encounters in 24 hours.
        noise_fraction: share of the reported positions with GPS jitter.
        noise_sigma_nm: standard deviation of that jitter, per axis.
        cruise_alt_ft: range of cruise altitudes.
        gs_kt: range of ground speeds.

    Raises:
        ValueError: on a non-positive duration or step, a negative rate, or a share
            outside ``[0, 1]``.
    """

    seed: int = 2017
    duration_s: float = 24.0 * S_PER_H
    start_t_s: float = REFERENCE_START_T_S
    step_s: float = 5.0
    sorties_per_day: dict[str, float] = field(default_factory=dict)
    excursions_per_day: float = 5.0
    excursion_russia_share: float = 0.8
    excursion_depth_nm: tuple[float, float] = (5.0, 25.0)
    encounters_per_day: float = 2.0
    noise_fraction: float = 0.002
    noise_sigma_nm: float = 0.08
    cruise_alt_ft: tuple[float, float] = (15000.0, 30000.0)
    gs_kt: tuple[float, float] = (350.0, 480.0)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.duration_s > 0:
            problems.append(f"duration_s must be positive, got {self.duration_s}")
        if not self.step_s > 0:
            problems.append(f"step_s must be positive, got {self.step_s}")
        rates = [self.excursions_per_day, self.encounters_per_day]
        if any(r < 0 for r in [*rates, *self.sorties_per_day.values()]):
            problems.append("rates per day must not be negative")
        for name in ("noise_fraction", "excursion_russia_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name} must be within [0, 1]")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def n_steps(self) -> int:
        """Number of sampling instants in the window, both ends included.

        >>> TrafficConfig(duration_s=60.0, step_s=5.0).n_steps
        13
        """
        return math.floor(self.duration_s / self.step_s + 1e-9) + 1


@dataclass(frozen=True, slots=True)
class Sortie:
    """One flight.

    Attributes:
        id: aircraft id (``RUS042``).
        party: party id.
        base_id: the base it flies from and back to.
        kind: ``nominal``, ``excursion`` or ``encounter``.
        departure_t_s: take-off.
        arrival_t_s: landing.
        cruise_alt_ft: cruise altitude.
        gs_kt: ground speed.
    """

    id: str
    party: str
    base_id: str
    kind: str
    departure_t_s: float
    arrival_t_s: float
    cruise_alt_ft: float
    gs_kt: float


@dataclass(frozen=True, slots=True)
class Excursion:
    """A planned excursion across the line (ground truth, for checks).

    Attributes:
        aircraft_id: the sortie that makes it.
        party: its party.
        apex_t_s: when it is deepest.
        apex_lat_deg: where it is deepest.
        apex_lon_deg: where it is deepest.
        depth_nm: how far past the line it goes.
    """

    aircraft_id: str
    party: str
    apex_t_s: float
    apex_lat_deg: float
    apex_lon_deg: float
    depth_nm: float


@dataclass(frozen=True, slots=True)
class Encounter:
    """A planned close encounter (ground truth, for checks).

    Attributes:
        intruder_id: the aircraft that crosses the line.
        target_id: the aircraft it passes.
        kind: ``near-collision`` or ``close-pass``.
        t_s: when it passes.
        miss_nm: distance between the two at ``t_s``.
        dalt_ft: the intruder's altitude minus the target's.
    """

    intruder_id: str
    target_id: str
    kind: str
    t_s: float
    miss_nm: float
    dalt_ft: float


@dataclass(frozen=True, slots=True)
class Traffic:
    """Simulated positions of all sorties, struct of arrays sorted by (step, id).

    Attributes:
        config: what was simulated.
        sorties: every sortie airborne in the window, sorted by id.
        excursions: the planned excursions inside the window.
        encounters: the planned close encounters.
        step_t_s: the sampling instants, shape ``(n_steps,)``.
        step_offsets: the samples of step ``k`` are
            ``[step_offsets[k], step_offsets[k + 1])``, shape ``(n_steps + 1,)``.
        t_s: time of each sample.
        sortie_index: index into ``sorties`` of each sample.
        ids: aircraft id of each sample.
        party: party of each sample.
        lat_deg: reported latitude (with jitter where ``is_noisy``).
        lon_deg: reported longitude.
        alt_ft: altitude.
        gs_kt: ground speed.
        trk_deg: track angle.
        vs_fpm: vertical rate.
        is_noisy: True where jitter was added.
    """

    config: TrafficConfig
    sorties: tuple[Sortie, ...]
    excursions: tuple[Excursion, ...]
    encounters: tuple[Encounter, ...]
    step_t_s: FloatArray
    step_offsets: IntArray
    t_s: FloatArray
    sortie_index: IntArray
    ids: StrArray
    party: StrArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray
    gs_kt: FloatArray
    trk_deg: FloatArray
    vs_fpm: FloatArray
    is_noisy: BoolArray

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def n_steps(self) -> int:
        """Number of sampling instants."""
        return len(self.step_t_s)

    def states_at(self, step: int) -> AircraftStates:
        """The aircraft airborne at step ``step``, as one snapshot.

        Raises:
            IndexError: if ``step`` is outside ``[0, n_steps)``.
        """
        if not 0 <= step < self.n_steps:
            raise IndexError(f"step {step} outside [0, {self.n_steps})")
        sl = slice(int(self.step_offsets[step]), int(self.step_offsets[step + 1]))
        return self.positions().states(sl)

    def positions(self) -> Positions:
        """Every sample as a positions table (sharing this traffic's arrays)."""
        return Positions.from_mapping(
            {name: getattr(self, name) for name in COLUMN_NAMES}
        )

    def sorties_by_party(self) -> dict[str, int]:
        """Number of sorties airborne in the window, by party (sorted by party)."""
        counts: dict[str, int] = {}
        for s in self.sorties:
            counts[s.party] = counts.get(s.party, 0) + 1
        return dict(sorted(counts.items()))


def simulate_traffic(
    line: DeconflictionLine,
    config: TrafficConfig,
    plans: tuple[PartyPlan, ...] = EUPHRATES_PLANS,
) -> Traffic:
    """Fly the reference scenario along ``line`` and sample every aircraft.

    Args:
        line: the deconfliction line; each party of ``plans`` flies on the side the
            line gives it.
        config: the window, the seed and the rates.
        plans: who flies from where (the Euphrates 2017 plans by default).

    Returns:
        The traffic, sorted by (step, aircraft id).

    Raises:
        ProtocolError: if the line gives no side to a party of ``plans`` or has
            fewer than two points.
    """
    _check_line(line, plans)
    rng = np.random.default_rng(config.seed)
    line_lat = np.asarray(line.lat_deg, dtype=np.float64)
    line_lon = np.asarray(line.lon_deg, dtype=np.float64)
    proj = LocalProjection.around(line_lat, line_lon)
    line_m = LineString(np.column_stack(proj.to_xy_m(line_lat, line_lon)))
    geo = _Geometry(
        proj=proj,
        line_m=line_m,
        corridors={p.party: _corridor(line_m, line.sides[p.party]) for p in plans},
    )
    routes = _plan_sorties(plans, geo, config, rng)
    excursions = _plan_excursions(routes, plans, geo, config, rng)
    encounters = _plan_encounters(routes, plans, geo, config, rng)
    return _fly(routes, plans, excursions, encounters, config, rng)


# ---------------------------------------------------------------- planning


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


# ---------------------------------------------------------------- flying


def _fly(
    routes: list[_Route],
    plans: tuple[PartyPlan, ...],
    excursions: list[_PlannedExcursion],
    encounters: list[_PlannedEncounter],
    config: TrafficConfig,
    rng: np.random.Generator,
) -> Traffic:
    """Sample every route on the grid, name the sorties, add jitter."""
    n_steps = config.n_steps
    step_t_s = config.start_t_s + np.arange(n_steps, dtype=np.float64) * config.step_s
    route_of: list[IntArray] = []
    k_of: list[IntArray] = []
    lat0: list[FloatArray] = []
    lon0: list[FloatArray] = []
    lat1: list[FloatArray] = []
    lon1: list[FloatArray] = []
    az0: list[FloatArray] = []
    along: list[FloatArray] = []
    remaining: list[FloatArray] = []
    alt: list[FloatArray] = []
    vs: list[FloatArray] = []
    for i, r in enumerate(routes):
        k0 = max(
            math.ceil((r.departure_t_s - config.start_t_s) / config.step_s - 1e-9), 0
        )
        k1 = min(
            math.floor((r.arrival_t_s - config.start_t_s) / config.step_s + 1e-9),
            n_steps - 1,
        )
        if k1 < k0:
            continue
        k = np.arange(k0, k1 + 1, dtype=np.int64)
        t = step_t_s[k]
        d_nm = np.clip((t - r.departure_t_s) * r.gs_kt / S_PER_H, 0.0, r.length_nm)
        seg = r.segment_of(d_nm)
        route_of.append(np.full(len(k), i, dtype=np.int64))
        k_of.append(k)
        lat0.append(r.lat_deg[seg])
        lon0.append(r.lon_deg[seg])
        lat1.append(r.lat_deg[seg + 1])
        lon1.append(r.lon_deg[seg + 1])
        az0.append(r.az_deg[seg])
        along.append(d_nm - r.cum_nm[seg])
        remaining.append(r.cum_nm[seg + 1] - d_nm)
        climb_ft = r.climb_fpm * (t - r.departure_t_s) / S_PER_MIN
        descent_ft = r.descent_fpm * (r.arrival_t_s - t) / S_PER_MIN
        a = np.maximum(
            np.minimum(np.minimum(climb_ft, descent_ft), r.cruise_alt_ft), 0.0
        )
        v = np.where(
            climb_ft < np.minimum(descent_ft, r.cruise_alt_ft), r.climb_fpm, 0.0
        )
        v = np.where(
            descent_ft < np.minimum(climb_ft, r.cruise_alt_ft), -r.descent_fpm, v
        )
        alt.append(a)
        vs.append(v)

    route_idx = _cat_int(route_of)
    step_idx = _cat_int(k_of)
    lat_deg, lon_deg = destination(_cat(lat0), _cat(lon0), _cat(az0), _cat(along))
    trk_deg = geodesic_azimuth_deg(lat_deg, lon_deg, _cat(lat1), _cat(lon1))
    # at a leg's very end the azimuth to it is undefined: keep the leg's azimuth
    trk_deg = np.where(_cat(remaining) < _MIN_REMAINING_NM, _cat(az0), trk_deg)

    name, sortie_of_route, sorties = _name_sorties(routes, plans, route_idx)

    sortie_idx = sortie_of_route[route_idx]
    order = np.lexsort((sortie_idx, step_idx))
    sortie_idx, step_idx = sortie_idx[order], step_idx[order]
    lat_deg, lon_deg, trk_deg = lat_deg[order], lon_deg[order], trk_deg[order]
    alt_ft, vs_fpm = _cat(alt)[order], _cat(vs)[order]
    ids_by_sortie = np.array([s.id for s in sorties] or [""], dtype=np.str_)
    party_by_sortie = np.array([s.party for s in sorties] or [""], dtype=np.str_)
    gs_by_sortie = np.array([s.gs_kt for s in sorties] or [0.0], dtype=np.float64)

    lat_deg, lon_deg, is_noisy = _jitter(lat_deg, lon_deg, config, rng)

    window_end_t_s = float(step_t_s[-1])
    return Traffic(
        config=config,
        sorties=sorties,
        excursions=tuple(
            Excursion(
                aircraft_id=name[e.route],
                party=routes[e.route].party,
                apex_t_s=routes[e.route].t_at(e.apex_nm),
                apex_lat_deg=e.apex_lat_deg,
                apex_lon_deg=e.apex_lon_deg,
                depth_nm=e.depth_nm,
            )
            for e in excursions
            if e.route in name
            and config.start_t_s <= routes[e.route].t_at(e.apex_nm) <= window_end_t_s
        ),
        encounters=_named_encounters(encounters, name),
        step_t_s=step_t_s,
        step_offsets=np.searchsorted(step_idx, np.arange(n_steps + 1)).astype(np.int64),
        t_s=step_t_s[step_idx],
        sortie_index=sortie_idx,
        ids=ids_by_sortie[sortie_idx],
        party=party_by_sortie[sortie_idx],
        lat_deg=lat_deg,
        lon_deg=lon_deg,
        alt_ft=alt_ft,
        gs_kt=gs_by_sortie[sortie_idx],
        trk_deg=trk_deg,
        vs_fpm=vs_fpm,
        is_noisy=is_noisy,
    )


def _name_sorties(
    routes: list[_Route], plans: tuple[PartyPlan, ...], route_idx: IntArray
) -> tuple[dict[int, str], IntArray, tuple[Sortie, ...]]:
    """Name the sorties airborne in the window: prefix and number by departure.

    Returns:
        The name of each flown route, the sortie number of each route (-1: not
        flown), and the sorties in name order.
    """
    flown = np.unique(route_idx)
    prefix = {p.party: p.callsign_prefix for p in plans}
    numbers: dict[str, int] = {}
    name: dict[int, str] = {}
    for i in sorted(
        flown.tolist(), key=lambda j: (routes[j].party, routes[j].departure_t_s, j)
    ):
        party = routes[i].party
        numbers[party] = numbers.get(party, 0) + 1
        name[i] = f"{prefix[party]}{numbers[party]:03d}"
    order_ids = sorted(name, key=lambda j: name[j])
    sortie_of_route = np.full(len(routes), -1, dtype=np.int64)
    sortie_of_route[order_ids] = np.arange(len(order_ids))
    sorties = tuple(
        Sortie(
            id=name[i],
            party=routes[i].party,
            base_id=routes[i].base.id,
            kind=routes[i].kind,
            departure_t_s=routes[i].departure_t_s,
            arrival_t_s=routes[i].arrival_t_s,
            cruise_alt_ft=routes[i].cruise_alt_ft,
            gs_kt=routes[i].gs_kt,
        )
        for i in order_ids
    )
    return name, sortie_of_route, sorties


def _jitter(
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    config: TrafficConfig,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """GPS jitter: a circular Gaussian offset (Rayleigh distance, uniform azimuth) on
    a random ``config.noise_fraction`` of the samples, which are flagged."""
    is_noisy = rng.random(len(lat_deg)) < config.noise_fraction
    n_noisy = int(is_noisy.sum())
    if n_noisy:
        j_lat, j_lon = destination(
            lat_deg[is_noisy],
            lon_deg[is_noisy],
            rng.uniform(0.0, 360.0, n_noisy),
            rng.rayleigh(config.noise_sigma_nm, n_noisy),
        )
        lat_deg = lat_deg.copy()
        lon_deg = lon_deg.copy()
        lat_deg[is_noisy], lon_deg[is_noisy] = j_lat, j_lon
    return lat_deg, lon_deg, is_noisy


def _named_encounters(
    encounters: list[_PlannedEncounter], name: dict[int, str]
) -> tuple[Encounter, ...]:
    """The planned encounters whose two sorties both fly in the window, named."""
    return tuple(
        Encounter(
            intruder_id=name[e.intruder],
            target_id=name[e.target],
            kind=e.kind,
            t_s=e.t_s,
            miss_nm=e.miss_nm,
            dalt_ft=e.dalt_ft,
        )
        for e in encounters
        if e.intruder in name and e.target in name
    )


def _cat(parts: list[FloatArray]) -> FloatArray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _cat_int(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
