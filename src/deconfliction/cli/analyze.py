"""``deconfliction analyze``: conflicts, losses of separation and violations in
recorded tracks of any size, on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from deconfliction.cli._common import guarded

_STAGES: dict[str, str] = {
    "plan": "Reading time spans",
    "windows": "Searching windows",  # (and cells, with --region-deg)
    "violations": "Joining violations",
}


@guarded
def analyze(
    tracks: Annotated[
        list[Path], typer.Argument(help="Parquet track files (the demo's columns).")
    ],
    protocol: Annotated[
        str, typer.Option(help="Protocol file, or the name of a shipped one.")
    ] = "euphrates-2017",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of a running Dask scheduler (tcp://HOST:8786); default: a "
            "local cluster of one worker process per core."
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            file_okay=False,
            help="Directory for conflicts/, losses/, violations.parquet and "
            "summary.json (every worker must be able to write there).",
        ),
    ] = Path("analyze-out"),
    workers: Annotated[
        int | None, typer.Option(min=1, help="Workers of the local cluster.")
    ] = None,
    partition_s: Annotated[
        float | None,
        typer.Option(
            min=1.0,
            help="Window length in seconds (rounded up to the protocol's max_gap_s); "
            "default: about 250,000 positions a window.",
        ),
    ] = None,
    region_deg: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            max=180.0,
            help="Also cut each window by region, in cells of this many degrees "
            "(one conflict task per window and cell): for instants with more "
            "aircraft than a worker should take at once.",
        ),
    ] = None,
) -> None:
    """Find every conflict (at each detection instant), loss of separation and
    violation in TRACKS, in windows of time on a Dask cluster, with the result of
    the single-machine engine."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from deconfliction.adapters.protocol_file import resolve_protocol
    from deconfliction.analysis import analyze as engine
    from deconfliction.analysis.tracks import row_groups

    console = Console(highlight=False)
    loaded = resolve_protocol(protocol)
    for path in tracks:  # a file that is no Parquet track file: before anything starts
        row_groups(path)
    client, cluster = engine.start_cluster(scheduler, workers)
    try:
        link = engine.dashboard_link(client, local=scheduler is None)
        n_workers = len(client.scheduler_info().get("workers", {}))
        where = scheduler or "a local cluster"
        console.print(f"Dask: {where}, {n_workers} workers")
        if link:
            console.print(f"Dashboard: [bold]{link}[/]")
        else:
            console.print("Dashboard: none (Dask serves it only with bokeh installed)")
        with Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            tasks = {k: bar.add_task(label, total=None) for k, label in _STAGES.items()}

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(tasks[stage], completed=done, total=max(total, 1))

            summary = engine.analyze(
                tracks,
                loaded,
                out,
                client,
                partition_s=partition_s,
                progress=progress,
                region_deg=region_deg,
            )
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()
    console.print(_summary_table(summary))
    console.print(
        f"Wrote [bold]{escape(str(out))}[/]: conflicts/, losses/, "
        "violations.parquet, summary.json"
    )


def _summary_table(summary: Any) -> Any:
    """The figures of an analysis, as a rich table."""
    from rich.table import Table

    doc = summary.document()
    table = Table(title=f"analyze: {summary.protocol}", header_style="bold")
    table.add_column("what")
    table.add_column("figures")
    table.add_row(
        "positions", f"{summary.positions:,} ({doc['start']} to {doc['end']})"
    )
    tasks = summary.extra.get("tasks", summary.windows)
    table.add_row(
        "windows, tasks, instants",
        f"{summary.windows:,}, {tasks:,}, {summary.instants:,}",
    )
    table.add_row(
        "conflicts (instant rows)",
        ", ".join(f"{k} {v:,}" for k, v in summary.conflicts_by_level.items())
        + f"; {summary.conflict_pairs:,} pairs",
    )
    table.add_row(
        "losses of separation", f"{summary.losses:,} rows; {summary.loss_pairs:,} pairs"
    )
    table.add_row(
        "violations",
        f"{summary.violations:,}: "
        + ", ".join(f"{p} {n:,}" for p, n in summary.violations_by_party.items()),
    )
    table.add_row(
        "closest",
        f"predicted {doc['closest_predicted_nm']} NM, "
        f"in a loss {doc['closest_loss_nm']} NM",
    )
    table.add_row(
        "time",
        f"{summary.seconds:.1f} s, {summary.positions_per_s:,.0f} positions/s "
        f"on {summary.workers} workers",
    )
    return table


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` command to ``app``."""
    app.command("analyze")(analyze)
