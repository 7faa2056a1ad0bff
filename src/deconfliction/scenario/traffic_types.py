"""What the traffic simulation takes and gives: bases, party plans, the
configuration, the planned sorties, excursions and encounters, and the sampled
:class:`Traffic` (a positions table with its plan).

Part of :mod:`deconfliction.scenario.traffic`, which re-exports every name here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from deconfliction.domain.model import AircraftStates, FloatArray, IntArray, StrArray
from deconfliction.domain.positions import COLUMN_NAMES, Positions
from deconfliction.units import S_PER_H

BoolArray = npt.NDArray[np.bool_]

REFERENCE_START_T_S: float = 1513123200.0
"""2017-12-13T00:00:00Z: a day in the month of the reported near-collision."""

TRACK_OFFSET_NM: float = 19.5
"""Distance of each party's track from the line: the two tracks are then 39 NM =
45 statute miles apart, as reported."""

EXIT_OFFSET_NM: float = 45.0
"""Aircraft join and leave their track through a point this far from the line, so
that the legs to and from their bases stay well clear of the line's buffer."""


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
