"""``deconfliction demo``: fly the reference scenario and write results and a map."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deconfliction.cli._common import guarded, stage_bars

if TYPE_CHECKING:
    from rich.console import Console

    from deconfliction.analysis.demo import DemoResult

_STAGE_LABELS: dict[str, str] = {
    "simulate": "Simulating traffic",
    "detect": "Detecting conflicts",
    "conformance": "Checking conformance",
    "write": "Writing results and map",
}


@guarded
def demo(
    hours: Annotated[
        float,
        typer.Option(min=0.01, max=24.0 * 14, help="Simulated hours of traffic."),
    ] = 24.0,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed: the same seed gives the same run.")
    ] = 2017,
    out: Annotated[
        Path,
        typer.Option(file_okay=False, help="Directory for the results (created)."),
    ] = Path("demo-out"),
    protocol: Annotated[
        str,
        typer.Option(help="Protocol file, or the name of a shipped one."),
    ] = "euphrates-2017",
    excursions_per_day: Annotated[
        float,
        typer.Option(min=0.0, help="Mean excursions across the line per 24 hours."),
    ] = 5.0,
    encounters_per_day: Annotated[
        float,
        typer.Option(min=0.0, help="Mean deliberate close encounters per 24 hours."),
    ] = 2.0,
    whatif: Annotated[
        bool,
        typer.Option(
            "--whatif",
            help="Also replay the day under the three options of 2015 (zones of "
            "responsibility, coordination, partnership) into whatif-options-2015.*",
        ),
    ] = False,
    federated: Annotated[
        bool,
        typer.Option(
            "--federated",
            help="Run a federation on loopback instead: a node per party (and a "
            "referee under conflicts), each party's traffic posted to its own node "
            "(docs/federation.md). Writes nothing to OUT.",
        ),
    ] = False,
    sharing: Annotated[
        str | None,
        typer.Option(
            help="With --federated: the sharing level (full, plans, conflicts, "
            "zones; default: the protocol's).",
        ),
    ] = None,
    minutes: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=24.0 * 60,
            help="With --federated: simulated minutes flown, from a minute before "
            "the first planned close encounter.",
        ),
    ] = 10.0,
    speed: Annotated[
        float,
        typer.Option(
            min=0.1, max=1000.0, help="With --federated: times faster than real time."
        ),
    ] = 10.0,
    nodes_dir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="With --federated: keep the nodes' directories (keys, stores, "
            "logs) here instead of a temporary directory.",
        ),
    ] = None,
) -> None:
    """Fly simulated traffic under a protocol; write results and a map to OUT.

    The reference scenario (Euphrates, 2017): coalition and Russian sorties on
    tracks 39 NM apart either side of the line, with excursions across it and close
    encounters. Writes summary.json, conflicts.csv/.geojson, violations.csv/.geojson,
    tracks.csv and map.png.
    """
    from rich.console import Console
    from rich.markup import escape

    from deconfliction.adapters.protocol_file import resolve_protocol
    from deconfliction.analysis.demo import DemoConfig, run_demo, write_demo_outputs

    started = time.perf_counter()
    console = Console(highlight=False)
    loaded = resolve_protocol(protocol)
    config = DemoConfig(
        hours=hours,
        seed=seed,
        excursions_per_day=excursions_per_day,
        encounters_per_day=encounters_per_day,
    )
    if federated:
        from deconfliction.cli._federated_demo import federated_demo

        federated_demo(
            console,
            protocol,
            loaded,
            config,
            sharing=sharing,
            minutes=minutes,
            speed=speed,
            nodes_dir=nodes_dir,
        )
        return
    with stage_bars(console) as bar:
        tasks = {
            stage: bar.add_task(label, total=1)
            for stage, label in _STAGE_LABELS.items()
        }

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        result = run_demo(loaded, config, progress)
        paths = write_demo_outputs(result, out, progress)
    elapsed_s = time.perf_counter() - started
    _print_summary(console, result, elapsed_s)
    console.print(
        f"Wrote {len(paths)} files to [bold]{escape(str(out))}[/]: " + ", ".join(paths)
    )
    if whatif:
        from deconfliction.analysis.whatif import run_options_whatif, table_rows

        options = run_options_whatif(result.traffic, out)
        for name, cells in table_rows(options):
            console.print(f"{name:34} " + " | ".join(cells))


def _print_summary(console: Console, result: DemoResult, elapsed_s: float) -> None:
    from rich.table import Table

    from deconfliction.timetext import rfc3339

    by_party = result.violations_by_party()
    hours_hdr = [f"{h:02d}" for h in range(24)]
    table = Table(
        title=(
            f"{result.protocol.id} v{result.protocol.version}, "
            f"{result.config.hours:g} h, seed {result.config.seed}"
        ),
        show_header=True,
        header_style="bold",
    )
    table.add_column("what")
    table.add_column("figures")
    table.add_row(
        "sorties",
        ", ".join(f"{p} {n}" for p, n in result.sorties_by_party().items()),
    )
    table.add_row(
        "conflict alerts (highest level)",
        ", ".join(f"{lvl} {n}" for lvl, n in result.conflicts_by_level().items()),
    )
    for party, entry in by_party.items():
        busy = " ".join(
            f"{h}h:{entry['by_hour'][h]}" for h in hours_hdr if entry["by_hour"][h]
        )
        table.add_row(
            f"violations, {party}",
            f"{entry['total']}" + (f"  (by UTC hour of entry: {busy})" if busy else ""),
        )
    ca = result.closest_approach
    miss_nm = result.smallest_predicted_miss_nm()
    table.add_row(
        "smallest predicted miss",
        "no alert" if miss_nm is None else f"{miss_nm:.2f} NM (an alert's prediction)",
    )
    table.add_row(
        "closest actual approach",
        "none within the vertical minimum"
        if ca is None
        else (
            f"{ca.horizontal_nm:.2f} NM, {ca.vertical_ft:.0f} ft apart: "
            f"{ca.a_id} ({ca.party_a}) and {ca.b_id} ({ca.party_b}) "
            f"at {rfc3339(ca.t_s)}"
        ),
    )
    table.add_row("run time", f"{elapsed_s:.1f} s ({result.traffic.n_steps} steps)")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app``."""
    app.command("demo")(demo)
