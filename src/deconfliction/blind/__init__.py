"""Blind deconfliction: conflicts found without seeing the other side's aircraft.

Two parties and a non-colluding helper run a secure three-party computation (MPyC:
Shamir secret sharing, honest majority, semi-honest security) over TCP; each party
learns which of its own aircraft are in conflict and, per conflict, the time to CPA,
the distance and the bearing to the other aircraft then. See docs/blind.md.

Modules: ``config`` (blind.toml), ``parameters`` (the public plan and bit lengths),
``encoding`` (own aircraft to integers and slots), ``circuit`` (the formulas, for
either back end), ``reference`` (the computation in the clear), ``session`` (MPyC
over TCP with timeouts), ``party`` (one participant's run).
"""

from __future__ import annotations

from deconfliction.blind.config import (
    HELPER,
    BlindConfig,
    BlindConfigError,
    Peer,
    load_blind_config,
    parse_blind_config,
)
from deconfliction.blind.parameters import BlindPlan, Bounds, make_plan
from deconfliction.blind.party import BlindConflict, PartyResult, View, run_party
from deconfliction.blind.reference import PlainConflict, reference_conflicts
from deconfliction.blind.session import ParameterMismatchError, PeerError

__all__ = [
    "HELPER",
    "BlindConfig",
    "BlindConfigError",
    "BlindConflict",
    "BlindPlan",
    "Bounds",
    "ParameterMismatchError",
    "PartyResult",
    "Peer",
    "PeerError",
    "PlainConflict",
    "View",
    "load_blind_config",
    "make_plan",
    "parse_blind_config",
    "reference_conflicts",
    "run_party",
]
