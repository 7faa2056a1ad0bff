"""``deconfliction daa``: DO-365 alerting and manoeuvre bands over a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from deconfliction.cli._common import as_option, guarded
from deconfliction.errors import InputError, Problem


@guarded
def daa(
    scenario: Annotated[
        Path,
        typer.Argument(
            exists=False,
            help="A DAIDALUS .daa scenario (states per time step, the first "
            "aircraft of each step the ownship, units on the second header line), "
            "a states CSV (id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm) or a track table "
            "(CSV or Parquet with a time column).",
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
    party: Annotated[
        str | None,
        typer.Option(
            "--party",
            help="Take every aircraft of this party as an ownship (states or tracks).",
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
    owns = frozenset(ownship) if ownship else None
    if scenario.suffix.lower() == ".daa":
        if party:
            raise InputError(
                [
                    Problem(
                        str(scenario), None, "--party", "a .daa file names no parties"
                    )
                ]
            )
        steps = read_daa(scenario)
    else:
        steps, members = _read_table(scenario, party)
        owns = (owns or frozenset()) | members
        if not owns:
            raise InputError(
                [
                    Problem(
                        str(scenario),
                        None,
                        "--ownship",
                        "a states or track table needs --ownship or --party",
                    )
                ]
            )
    if owns:
        present = {nm for st in steps for nm in st.names}
        missing = sorted(owns - present)
        if missing:
            raise InputError(
                [
                    Problem(str(scenario), None, "--ownship", f"no aircraft {m!r}")
                    for m in missing
                ]
            )
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


def _read_table(path: Path, party: str | None) -> tuple[list[Any], frozenset[str]]:
    """Steps and the ownships of ``party`` from a states CSV or a track table."""
    from deconfliction.adapters.input_files import read_text
    from deconfliction.adapters.states_csv import parse_states
    from deconfliction.analysis.daa import (
        party_members,
        steps_from_states,
        steps_from_tracks,
    )
    from deconfliction.analysis.tracks import is_parquet, read_tracks
    from deconfliction.errors import StatesError

    if is_parquet(path):
        table: Any = read_tracks(path)
        steps = steps_from_tracks(table)
    else:
        text = read_text(path, StatesError)
        header = text.lstrip("\ufeff").splitlines()[0].lower().split(",")
        if "time" in [h.strip() for h in header]:
            table = read_tracks(path)
            steps = steps_from_tracks(table)
        else:
            table = parse_states(text, str(path))
            steps = steps_from_states(table)
    members = party_members(table, party) if party else frozenset()
    if party and not members:
        raise InputError(
            [Problem(str(path), None, "--party", f"no aircraft of {party}")]
        )
    return steps, members


def register(app: typer.Typer) -> None:
    app.command(name="daa")(daa)
