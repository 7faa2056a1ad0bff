"""Facts of the manoeuvre messages (#17.5) filled from an alert's guidance.

The live server gives a party, on its own side of an alert, ``guidance``: the bands
and the preferred resolution of its aircraft (``docs/protocol.md``, ``[guidance]``).
:func:`intention_facts` turns the preferred resolution of one dimension into the
facts of a ``manoeuvre_intention`` (what we will do); :func:`request_facts` into a
``request_for_manoeuvre`` (what we ask of the other party), with the sense that
complements ours and no target (its bands were not computed for us). Both are
proposals: the duty officer edits, decides and sends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from deconfliction.errors import InputError, Problem

# Per dimension of the guidance: the manoeuvre on each side (up/right, down/left)
# and the fact its target goes in.
_SIDES: Final = {
    "direction_deg": (("right", "turn_right"), ("left", "turn_left"), "heading_deg"),
    "altitude_ft": (("up", "climb"), ("down", "descend"), "alt_ft"),
    "horizontal_speed_kt": (("up", "speed_up"), ("down", "slow_down"), "gs_kt"),
}
DIMENSIONS: Final = tuple(_SIDES)
# What we ask of the other aircraft when ours does this: a turn the same way (head
# on, each turns right, as the rules of the air say), the other vertical sense, the
# other change of speed.
COMPLEMENT: Final = {
    "turn_right": "turn_right",
    "turn_left": "turn_left",
    "climb": "descend",
    "descend": "climb",
    "speed_up": "slow_down",
    "slow_down": "speed_up",
}


def _preferred(guidance: Mapping[str, Any], dimension: str) -> tuple[str, float]:
    if dimension not in _SIDES:
        raise InputError(
            [
                Problem(
                    "guidance",
                    None,
                    "dimension",
                    f"{dimension!r} is not one of: {', '.join(DIMENSIONS)}",
                )
            ]
        )
    up, down, _ = _SIDES[dimension]
    resolution = guidance.get("resolution", {}).get(dimension, {})
    side = resolution.get("preferred")
    value = resolution.get(side) if side is not None else None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(
            [
                Problem(
                    "guidance",
                    None,
                    f"resolution.{dimension}",
                    "no resolution to state: the current value is free, or there "
                    "is none on the preferred side",
                )
            ]
        )
    manoeuvre = up[1] if side == up[0] else down[1]
    return manoeuvre, float(value)


def intention_facts(
    guidance: Mapping[str, Any],
    alert_id: str,
    aircraft_id: str,
    dimension: str = "direction_deg",
) -> dict[str, Any]:
    """The facts of a ``manoeuvre_intention``: our aircraft flies the preferred
    resolution of ``dimension``.

    >>> g = {"t_s": 1.0, "resolution": {"direction_deg": {"right": 95.0,
    ...      "left": 265.0, "preferred": "right"}}}
    >>> intention_facts(g, "a1", "VIPER11")
    {'alert_id': 'a1', 'aircraft_id': 'VIPER11', 'manoeuvre': 'turn_right', \
'heading_deg': 95.0, 't_s': 1.0}

    Raises:
        InputError: for an unknown dimension, or one with no resolution to state.
    """
    manoeuvre, value = _preferred(guidance, dimension)
    return {
        "alert_id": alert_id,
        "aircraft_id": aircraft_id,
        "manoeuvre": manoeuvre,
        _SIDES[dimension][2]: value,
        "t_s": guidance.get("t_s"),
    }


def request_facts(
    guidance: Mapping[str, Any], alert_id: str, dimension: str = "direction_deg"
) -> dict[str, Any]:
    """The facts of a ``request_for_manoeuvre`` that complements our preferred
    resolution of ``dimension`` (see :data:`COMPLEMENT`), without a target.

    Raises:
        InputError: as :func:`intention_facts`.
    """
    manoeuvre, _ = _preferred(guidance, dimension)
    return {
        "alert_id": alert_id,
        "manoeuvre": COMPLEMENT[manoeuvre],
        "t_s": guidance.get("t_s"),
    }
