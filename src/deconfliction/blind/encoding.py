"""Each party's own aircraft as integers in the common frame, before sharing.

Positions are projected with :class:`~deconfliction.domain.geodesy.LocalProjection`
(azimuthal equidistant around the plan's reference) and velocities with it: the
velocity is the projected displacement along the geodesic over one second. Both
are rounded to the plan's quanta (see :mod:`deconfliction.blind.parameters`).

Every value is checked against the declared bounds here, on the owner's side: the
secure comparisons hide their operands only within those bounds.

Slots: each party fills ``max_aircraft`` slots in a fresh random order, its
aircraft among dummies whose ``real`` flag is 0 (a dummy's conflicts are multiplied
by 0, so it can never conflict). The order hides which slots are real.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

import numpy as np

from deconfliction.blind.parameters import BlindPlan
from deconfliction.domain import geodesy
from deconfliction.domain.model import AircraftStates, IntArray, StrArray
from deconfliction.errors import Problem, StatesError
from deconfliction.units import M_PER_NM, MPS_PER_KT, S_PER_MIN

COLUMNS: tuple[str, ...] = ("x", "y", "vx", "vy", "h", "w", "real")
"""Columns of a slot matrix: position east and north, displacement over the
lookahead east and north, altitude, climb over the lookahead, real flag."""
X, Y, VX, VY, H, W, REAL = range(len(COLUMNS))

VELOCITY_STEP_S: float = 10.0
"""The velocity is the projected displacement over this time, divided by it: long
enough that rounding in the projection (micrometres) does not show, short enough
that the geodesic's curvature in the frame (under 1e-7 of the step) does not."""


@dataclass(frozen=True, slots=True)
class EncodedStates:
    """One party's aircraft in quanta.

    Attributes:
        ids: aircraft ids, in input order.
        values: ``(n, 6)`` integers, columns ``x, y, vx, vy, h, w`` of
            :data:`COLUMNS`.
    """

    ids: StrArray
    values: IntArray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class Slots:
    """A party's input: its aircraft in random slots among dummies.

    Attributes:
        matrix: ``(max_aircraft, 7)`` Python integers (object array), columns
            :data:`COLUMNS`.
        aircraft: for each slot, the index of the aircraft in it, or -1.
    """

    matrix: np.ndarray[tuple[int, int], np.dtype[np.object_]]
    aircraft: IntArray


def encode_states(
    states: AircraftStates, plan: BlindPlan, source: str = "<states>"
) -> EncodedStates:
    """Project and quantise a party's aircraft.

    Args:
        states: the party's own aircraft.
        plan: the public parameters.
        source: the file name, for messages.

    Returns:
        The aircraft in quanta.

    Raises:
        StatesError: an aircraft outside the declared radius, speed, climb or
            altitude bounds (each listed), or more aircraft than ``max_aircraft``.
        PolarRegionError: a position too close to a pole.
    """
    problems: list[Problem] = []
    if len(states) > plan.max_aircraft:
        problems.append(
            Problem(
                source,
                None,
                "",
                f"{len(states)} aircraft, more than max_aircraft = "
                f"{plan.max_aircraft} of blind.toml",
            )
        )
    geodesy.check_latitudes(states.lat_deg)
    projection = plan.projection
    x_m, y_m = projection.to_xy_m(states.lat_deg, states.lon_deg)
    step_nm = states.gs_kt * MPS_PER_KT * VELOCITY_STEP_S / M_PER_NM
    lat1_deg, lon1_deg = geodesy.destination(
        states.lat_deg, states.lon_deg, states.trk_deg, step_nm
    )
    x1_m, y1_m = projection.to_xy_m(lat1_deg, lon1_deg)
    vx_mps = (x1_m - x_m) / VELOCITY_STEP_S
    vy_mps = (y1_m - y_m) / VELOCITY_STEP_S

    checks = (
        (np.hypot(x_m, y_m) / M_PER_NM, plan.radius_nm, "lat", "NM from the reference"),
        (states.gs_kt, plan.max_gs_kt, "gs_kt", "kt"),
        (np.abs(states.vs_fpm), plan.max_vs_fpm, "vs_fpm", "fpm (absolute)"),
    )
    for values, limit, field, what in checks:
        for k in np.flatnonzero(values > limit):
            problems.append(
                Problem(
                    source,
                    None,
                    field,
                    f"aircraft {states.ids[k]}: {values[k]:.1f} {what}, beyond the "
                    f"declared {limit:g} of blind.toml",
                )
            )
    outside = (states.alt_ft < plan.min_alt_ft) | (states.alt_ft > plan.max_alt_ft)
    for k in np.flatnonzero(outside):
        problems.append(
            Problem(
                source,
                None,
                "alt_ft",
                f"aircraft {states.ids[k]}: {states.alt_ft[k]:g} ft is outside the "
                f"declared [{plan.min_alt_ft:g}, {plan.max_alt_ft:g}] of blind.toml",
            )
        )
    if problems:
        raise StatesError(problems)

    q_m = plan.horizontal_quantum_m
    qv_ft = plan.vertical_quantum_ft
    lookahead_s = plan.lookahead_s
    columns = (
        x_m / q_m,
        y_m / q_m,
        vx_mps * lookahead_s / q_m,
        vy_mps * lookahead_s / q_m,
        states.alt_ft / qv_ft,
        states.vs_fpm * lookahead_s / S_PER_MIN / qv_ft,
    )
    quanta: IntArray = np.asarray(
        np.column_stack([np.rint(c) for c in columns]), dtype=np.int64
    )
    _check_bounds(quanta, plan, states.ids, source)
    return EncodedStates(ids=states.ids, values=quanta)


def _check_bounds(
    values: IntArray, plan: BlindPlan, ids: StrArray, source: str
) -> None:
    """The bounds the bit lengths rely on; only a bug in the margins breaks them."""
    b = plan.bounds
    # Squared norms in integers: the bounds must hold exactly, not to a float ulp.
    limits = (
        (values[:, X] ** 2 + values[:, Y] ** 2, b.position_max**2, "position"),
        (values[:, VX] ** 2 + values[:, VY] ** 2, b.velocity_max**2, "speed"),
        (np.abs(values[:, W]), b.climb_max, "climb"),
    )
    problems = [
        Problem(source, None, "", f"aircraft {ids[k]}: {what} beyond its bound")
        for column, limit, what in limits
        for k in np.flatnonzero(column > limit)
    ]
    problems += [
        Problem(source, None, "alt_ft", f"aircraft {ids[k]}: altitude beyond bound")
        for k in np.flatnonzero(
            (values[:, H] < b.altitude_min) | (values[:, H] > b.altitude_max)
        )
    ]
    if problems:
        raise StatesError(problems)


def dummy_row(plan: BlindPlan) -> list[int]:
    """A dummy's slot: at the reference, still, at an accepted altitude, not real."""
    b = plan.bounds
    altitude = min(max(0, b.altitude_min), b.altitude_max)
    return [0, 0, 0, 0, altitude, 0, 0]


def fill_slots(
    encoded: EncodedStates,
    plan: BlindPlan,
    rng: random.Random | None = None,
) -> Slots:
    """Place the aircraft in random slots among dummies.

    Args:
        encoded: the party's aircraft; at most ``plan.max_aircraft``.
        plan: the public parameters.
        rng: the source of the order (tests pass a seeded ``random.Random``).

    Returns:
        The slot matrix and which aircraft sits where.
    """
    rng = rng or secrets.SystemRandom()
    n_slots = plan.max_aircraft
    order = list(range(n_slots))
    rng.shuffle(order)
    aircraft = np.full(n_slots, -1, dtype=np.int64)
    matrix = np.empty((n_slots, len(COLUMNS)), dtype=object)
    dummy = dummy_row(plan)
    for slot in range(n_slots):
        matrix[slot, :] = dummy
    for k in range(len(encoded)):
        slot = order[k]
        aircraft[slot] = k
        matrix[slot, :] = [int(v) for v in encoded.values[k]] + [1]
    return Slots(matrix=matrix, aircraft=aircraft)
