"""Deconfliction: air safety between parties who share an airspace but not a command.

What a Python user needs, from one place (see "Using it from Python" in the README)::

    from deconfliction import detect_conflicts, parse_states, resolve_protocol

    protocol = resolve_protocol("euphrates-2017")
    states = parse_states(open("states.csv", encoding="utf-8").read(), "states.csv")
    conflicts = detect_conflicts(states, protocol.detection_settings())
    print(conflicts.records(states))

The names load on first use, so ``import deconfliction`` stays cheap (the command
line imports it before anything else).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from deconfliction.adapters.protocol_file import (
        builtin_protocol_names,
        load_protocol,
        parse_protocol,
        resolve_protocol,
    )
    from deconfliction.adapters.states_csv import parse_states, read_states
    from deconfliction.adapters.track_files import ReadOptions, read_track_file
    from deconfliction.adapters.track_stream import TrackBatch
    from deconfliction.adapters.track_tables import read_track_table
    from deconfliction.analysis.tracks import TrackTable, read_tracks
    from deconfliction.domain.conformance import (
        PositionStream,
        Violation,
        detect_violations,
    )
    from deconfliction.domain.detect import detect_conflicts
    from deconfliction.domain.model import (
        Conflicts,
        DetectionSettings,
        SeparationMinima,
    )
    from deconfliction.domain.positions import AircraftStates, Positions
    from deconfliction.domain.protocol import Protocol
    from deconfliction.errors import DeconflictionError, InputError, Problem

_EXPORTS: dict[str, str] = {
    # a protocol
    "Protocol": "deconfliction.domain.protocol",
    "load_protocol": "deconfliction.adapters.protocol_file",
    "parse_protocol": "deconfliction.adapters.protocol_file",
    "resolve_protocol": "deconfliction.adapters.protocol_file",
    "builtin_protocol_names": "deconfliction.adapters.protocol_file",
    # states, and tactical detection
    "Positions": "deconfliction.domain.positions",
    "AircraftStates": "deconfliction.domain.positions",
    "read_states": "deconfliction.adapters.states_csv",
    "parse_states": "deconfliction.adapters.states_csv",
    "SeparationMinima": "deconfliction.domain.model",
    "DetectionSettings": "deconfliction.domain.model",
    "Conflicts": "deconfliction.domain.model",
    "detect_conflicts": "deconfliction.domain.detect",
    # conformance
    "PositionStream": "deconfliction.domain.conformance",
    "Violation": "deconfliction.domain.conformance",
    "detect_violations": "deconfliction.domain.conformance",
    # track readers
    "read_track_file": "deconfliction.adapters.track_files",
    "ReadOptions": "deconfliction.adapters.track_files",
    "TrackBatch": "deconfliction.adapters.track_stream",
    "read_track_table": "deconfliction.adapters.track_tables",
    "read_tracks": "deconfliction.analysis.tracks",
    "TrackTable": "deconfliction.analysis.tracks",
    # errors
    "DeconflictionError": "deconfliction.errors",
    "InputError": "deconfliction.errors",
    "Problem": "deconfliction.errors",
}

__all__ = [
    "AircraftStates",
    "Conflicts",
    "DeconflictionError",
    "DetectionSettings",
    "InputError",
    "PositionStream",
    "Positions",
    "Problem",
    "Protocol",
    "ReadOptions",
    "SeparationMinima",
    "TrackBatch",
    "TrackTable",
    "Violation",
    "__version__",
    "builtin_protocol_names",
    "detect_conflicts",
    "detect_violations",
    "load_protocol",
    "parse_protocol",
    "parse_states",
    "read_states",
    "read_track_file",
    "read_track_table",
    "read_tracks",
    "resolve_protocol",
]


def __getattr__(name: str) -> Any:
    """Load an exported name from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deconfliction' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
