"""``deconfliction plan check``: an operation file against a protocol and other plans.

No server: everything comes from files. Exit status 0 when the operation is clear,
1 when it has conflicts (like ``grep`` and ``diff``: a finding, not a failure), 2
when the input is bad (every problem listed, as every command does).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from deconfliction.cli._common import guarded

EXIT_CLEAR: int = 0
EXIT_CONFLICTS: int = 1  # as grep and diff: something was found


class OutputFormat(StrEnum):
    """How ``plan check`` writes its result."""

    JSON = "json"
    TABLE = "table"


@guarded
def check(
    operation_file: Annotated[
        Path,
        typer.Argument(help="The operation to check (JSON, see docs/planning.md)."),
    ],
    protocol: Annotated[
        str,
        typer.Option(
            help="Protocol file, or the name of a shipped one (euphrates-2017): "
            "minima, zones, lines, parties and sharing level."
        ),
    ],
    against: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="OPS.json",
            help="Other operations to check against (a file of one or more; "
            "repeat the option for several files).",
        ),
    ] = None,
    time_margin_s: Annotated[
        float, typer.Option(help="Time margin between operations.")
    ] = 0.0,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Show only what the filer would be told under the protocol's "
            "sharing level.",
        ),
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.JSON,
) -> None:
    """Check a planned operation against the protocol and other parties' plans.

    Exit status: 0 clear, 1 conflicts found, 2 bad input.
    """
    from deconfliction.adapters.operation_file import (
        check_result_to_json,
    )
    from deconfliction.adapters.protocol_file import resolve_protocol
    from deconfliction.domain.planning import (
        ConflictKind,
        LineConflict,
        VolumeConflict,
        ZoneConflict,
        check_operation,
        redact_for,
    )
    from deconfliction.domain.protocol import SharingLevel
    from deconfliction.errors import InputError, Problem

    if not time_margin_s >= 0.0:
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--time-margin-s",
                    f"must not be negative, got {time_margin_s:g}",
                )
            ]
        )
    proto = resolve_protocol(protocol)
    op, others = _read_operations(operation_file, against or [], proto)

    result = check_operation(op, others, proto, time_margin_s=time_margin_s)
    level = proto.sharing if redact else SharingLevel.FULL
    conflicts: list[VolumeConflict | ZoneConflict | LineConflict] = [
        *result.operations,
        *result.zones,
        *result.lines,
    ]
    views = [
        view
        for view in (redact_for(op.party, c, level) for c in conflicts)
        if view is not None
    ]
    rank = {kind: k for k, kind in enumerate(ConflictKind)}  # operation, zone, line
    views.sort(
        key=lambda v: (v.volume_index or 0, rank[v.kind], v.time_start_t_s or 0.0)
    )
    answer = check_result_to_json(op, result, views)
    answer["sharing"] = level.value
    if output_format is OutputFormat.JSON:
        json.dump(answer, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _table(answer)
    raise typer.Exit(EXIT_CLEAR if result.is_clear else EXIT_CONFLICTS)


def _read_operations(
    operation_file: Path, against: list[Path], proto: Any
) -> tuple[Any, list[Any]]:
    """The operation and the others, every problem of all the files at once.

    Raises:
        InputError: a file does not validate, an id is in two files, or an
            operation names a party the protocol does not.
    """
    from deconfliction.adapters.operation_file import load_operation, load_operations
    from deconfliction.errors import InputError, Problem

    problems: list[Problem] = []
    op = None
    try:
        op = load_operation(operation_file)
    except InputError as exc:
        problems.extend(exc.problems)
    others = []
    seen: dict[str, str] = {}
    for path in against:
        try:
            loaded = load_operations(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        for other in loaded:
            if other.id in seen:
                problems.append(
                    Problem(
                        str(path),
                        None,
                        "id",
                        f"operation '{other.id}' is also in {seen[other.id]}",
                    )
                )
            seen[other.id] = str(path)
            others.append(other)
    for source, who in [(str(operation_file), op)] + [(seen[o.id], o) for o in others]:
        if who is not None and who.party not in proto.parties:
            problems.append(
                Problem(
                    source,
                    None,
                    "party",
                    f"operation '{who.id}': unknown party '{who.party}'; the "
                    f"protocol names {', '.join(sorted(proto.parties))}",
                )
            )
    if problems or op is None:
        raise InputError(problems)
    return op, others


def _table(answer: dict[str, Any]) -> None:
    """A table that fits 80 columns: times and places over two lines. A column never
    ends in an ellipsis: what does not fit folds onto the next line."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    conflicts: list[dict[str, Any]] = answer["conflicts"]
    n = len(conflicts)
    verdict = "clear" if answer["clear"] else f"{n} conflict{'' if n == 1 else 's'}"
    table = Table(
        title=f"operation {answer['operation']} ({answer['party']}): {verdict}",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for name in ("vol", "kind", "with", "UTC", "ft", "NM", "where"):
        table.add_column(
            name,
            justify="right" if name in {"vol", "NM"} else "left",
            overflow="fold",
        )
    for c in conflicts:
        with_ = c.get("boundary") or " ".join(
            str(x)
            for x in (c.get("other_party"), c.get("other_operation"))
            if x is not None
        )
        place = c.get("place", {}).get("centroid")
        where = f"{place['lat']:.3f}\n{place['lng']:.3f}" if place else ""
        if c.get("reaches_other_side"):
            where += "\nacross"
        table.add_row(
            str(c.get("volume", "")),
            c["kind"],
            with_,
            _window(c.get("time_start"), c.get("time_end")),
            f"{c['altitude_lower_ft']:g}-{c['altitude_upper_ft']:g}"
            if "altitude_lower_ft" in c
            else "",
            f"{c['horizontal_distance_nm']:.2f}"
            if "horizontal_distance_nm" in c
            else "",
            where,
        )
    Console().print(table)


def _window(start: str | None, end: str | None) -> str:
    """The day over the times, or start over end when the end is another day.

    >>> _window("2017-12-13T10:00:00Z", "2017-12-13T12:00:00Z")
    '2017-12-13\\n10:00-12:00'
    >>> _window("2017-12-13T22:00:00Z", "2017-12-14T01:30:00Z")
    '2017-12-13 22:00\\n2017-12-14 01:30'
    """
    if start is None or end is None:
        return ""
    day, clock = start.rstrip("Z").split("T")
    end_day, end_clock = end.rstrip("Z").split("T")
    if end_day == day:
        return f"{day}\n{clock[:5]}-{end_clock[:5]}"
    return f"{day} {clock[:5]}\n{end_day} {end_clock[:5]}"


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command group (``plan check``) to ``app``."""
    plan_app = typer.Typer(
        name="plan",
        help="Strategic deconfliction of planned operations (4D volumes).",
        no_args_is_help=True,
    )
    plan_app.command("check")(check)
    app.add_typer(plan_app, name="plan")
