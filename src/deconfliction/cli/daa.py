"""``deconfliction daa``: DO-365 alerting and manoeuvre bands over a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deconfliction.cli._common import as_option, guarded


@guarded
def daa(
    scenario: Annotated[
        Path,
        typer.Argument(
            exists=False,
            help="A DAIDALUS .daa scenario: states per time step, the first "
            "aircraft of each step the ownship, units on the second header line.",
        ),
    ],
    config: Annotated[
        str,
        typer.Option(
            "--config",
            help="do-365b, do-365a, tcas2, or a DAIDALUS .conf file by path.",
        ),
    ] = "do-365b",
    out: Annotated[
        Path,
        typer.Option(
            file_okay=False, help="Directory for alerting.csv and bands.jsonl."
        ),
    ] = Path("daa-out"),
    ownship: Annotated[
        list[str] | None,
        typer.Option(
            "--ownship",
            help="Take this aircraft as an ownship against all others (repeatable); "
            "default: the first aircraft of each step.",
        ),
    ] = None,
) -> None:
    """Well-clear alerting (preventive, corrective, warning) of every ownship/traffic
    pair and the ownship's direction, speed, vertical-speed and altitude bands with
    the preferred resolution, at every step of SCENARIO: OUT/alerting.csv and
    OUT/bands.jsonl. Guidance is advice: a person decides."""
    from rich.console import Console

    from deconfliction.adapters.daa_files import (
        alerting_rows,
        bands_objects,
        load_config,
        read_daa,
        write_alerting_csv,
        write_bands_jsonl,
    )
    from deconfliction.analysis.daa import run

    with as_option("--config", field="config"):
        cfg = load_config(config)
    steps = read_daa(scenario)
    owns = frozenset(ownship) if ownship else None
    rows: list[list[str]] = []
    objects: list[dict[str, object]] = []
    alerts = 0
    for res in run(cfg, steps, ownships=owns):
        t, names = res.step.time_s, res.step.names
        rows.extend(alerting_rows(t, names, res.result, res.levels))
        objects.extend(bands_objects(cfg, t, names, res.result))
        alerts += int((res.levels > 0).sum())
    out.mkdir(parents=True, exist_ok=True)
    write_alerting_csv(out / "alerting.csv", rows)
    write_bands_jsonl(out / "bands.jsonl", objects)
    Console(highlight=False).print(
        f"{len(steps)} steps, {len(rows)} pair rows, {alerts} with an alert "
        f"({cfg.name}); wrote {out / 'alerting.csv'} and {out / 'bands.jsonl'}"
    )


def register(app: typer.Typer) -> None:
    app.command(name="daa")(daa)
