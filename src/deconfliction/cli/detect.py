"""``deconfliction detect``: conflicts in one snapshot of aircraft states."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deconfliction.cli._common import guarded
from deconfliction.domain.model import CONFLICT_FIELDS as OUTPUT_FIELDS

if TYPE_CHECKING:
    from deconfliction.domain.model import AircraftStates, Conflicts

DEFAULT_HORIZONTAL_NM: float = 5.0  # en-route radar separation, as BlueSky's default
DEFAULT_VERTICAL_FT: float = 1000.0  # RVSM vertical separation
DEFAULT_LOOKAHEAD_S: float = 300.0  # BlueSky's default; STCA looks about 2 min ahead


class OutputFormat(StrEnum):
    """How ``detect`` writes its result."""

    JSON = "json"
    CSV = "csv"
    TABLE = "table"


@guarded
def detect(
    states_csv: Annotated[
        Path, typer.Argument(help="CSV: id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm[,party]")
    ],
    protocol: Annotated[
        str | None,
        typer.Option(
            help="Protocol file, or the name of a shipped one (euphrates-2017). "
            "Gives minima, lookahead and alert levels, and checks party names."
        ),
    ] = None,
    horizontal_nm: Annotated[
        float | None,
        typer.Option(help=f"Horizontal minimum \\[default: {DEFAULT_HORIZONTAL_NM:g}]"),
    ] = None,
    vertical_ft: Annotated[
        float | None,
        typer.Option(help=f"Vertical minimum \\[default: {DEFAULT_VERTICAL_FT:g}]"),
    ] = None,
    lookahead_s: Annotated[
        float | None,
        typer.Option(help=f"Lookahead \\[default: {DEFAULT_LOOKAHEAD_S:g}]"),
    ] = None,
    all_pairs: Annotated[
        bool, typer.Option("--all-pairs", help="Also pairs of the same party.")
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.JSON,
) -> None:
    """Find every pair predicted to lose separation within the lookahead."""
    from deconfliction.adapters.states_csv import read_states
    from deconfliction.domain.alerting import default_alert_levels
    from deconfliction.domain.detect import detect_conflicts
    from deconfliction.domain.model import DetectionSettings, SeparationMinima
    from deconfliction.errors import Problem, StatesError

    if protocol is not None:
        from deconfliction.adapters.protocol_file import resolve_protocol

        proto = resolve_protocol(protocol)
        base = proto.detection_settings(cross_party_only=not all_pairs)
        known_parties: list[str] | None = list(proto.parties)
    else:
        base = DetectionSettings(
            minima=SeparationMinima(DEFAULT_HORIZONTAL_NM, DEFAULT_VERTICAL_FT),
            lookahead_s=DEFAULT_LOOKAHEAD_S,
            alert_levels=default_alert_levels(),
            cross_party_only=not all_pairs,
        )
        known_parties = None
    settings = DetectionSettings(
        minima=SeparationMinima(
            horizontal_nm if horizontal_nm is not None else base.minima.horizontal_nm,
            vertical_ft if vertical_ft is not None else base.minima.vertical_ft,
        ),
        lookahead_s=lookahead_s if lookahead_s is not None else base.lookahead_s,
        alert_levels=base.alert_levels,
        cross_party_only=base.cross_party_only,
    )
    bad = [
        Problem("command line", None, f"--{name}", f"must be positive, got {value:g}")
        for name, value in (
            ("horizontal-nm", settings.minima.horizontal_nm),
            ("vertical-ft", settings.minima.vertical_ft),
        )
        if not value > 0
    ]
    if not settings.lookahead_s >= 0:
        bad.append(
            Problem(
                "command line",
                None,
                "--lookahead-s",
                f"must not be negative, got {settings.lookahead_s:g}",
            )
        )
    if bad:
        raise StatesError(bad)

    states = read_states(states_csv, known_parties)
    conflicts = detect_conflicts(states, settings)
    if output_format is OutputFormat.CSV:
        _write_csv(states, conflicts)
        return
    _write(conflicts.records(states), output_format)


def _write_csv(states: AircraftStates, conflicts: Conflicts) -> None:
    """Column by column: a hundred thousand conflicts in a fraction of a second."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(OUTPUT_FIELDS)
    writer.writerows(conflicts.rows(states))


def _write(records: list[dict[str, Any]], output_format: OutputFormat) -> None:
    if output_format is OutputFormat.JSON:
        # One conflict per line: readable, and fast for a hundred thousand.
        sys.stdout.write("[\n")
        sys.stdout.write(",\n".join(json.dumps(r) for r in records))
        sys.stdout.write("\n]\n" if records else "]\n")
    else:
        _table(records)


def _table(records: list[dict[str, Any]]) -> None:
    """A table that fits 80 columns: each aircraft over its party, figures rounded
    (the JSON and CSV carry them whole). A column never ends in an ellipsis: what
    does not fit folds onto the next line."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{len(records)} conflicts",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for name in ("a", "b", "level"):
        table.add_column(name, overflow="fold")
    for name in ("tcpa_s", "dcpa_nm", "dalt_ft", "tin_s", "tout_s"):
        table.add_column(name, justify="right", overflow="fold")
    for rec in records:
        table.add_row(
            f"{rec['a']}\n{rec['party_a']}",
            f"{rec['b']}\n{rec['party_b']}",
            str(rec["level"]),
            f"{rec['tcpa_s']:.1f}",
            f"{rec['dcpa_nm']:.2f}",
            f"{rec['dalt_ft_at_cpa']:.0f}",
            f"{rec['tin_s']:.1f}",
            f"{rec['tout_s']:.1f}",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``detect`` command to ``app``."""
    app.command("detect")(detect)
