"""``deconfliction whatif``: the same traffic under several protocols, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deconfliction.cli._common import guarded


@guarded
def whatif(
    tracks: Annotated[
        Path,
        typer.Argument(
            exists=False,
            help="Tracks: the demo's tracks.csv, or Parquet with the same columns "
            "(id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm).",
        ),
    ],
    protocol: Annotated[
        list[str],
        typer.Option(
            "--protocol",
            help="A protocol file or shipped name; once per protocol to compare.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(file_okay=False, help="Directory for whatif.png and whatif.json."),
    ] = Path("whatif-out"),
) -> None:
    """Replay TRACKS under each protocol (detection at its interval with alerts,
    losses of separation, conformance) and compare conflicts, violations and closest
    approaches: a table here, a chart in OUT/whatif.png, figures in OUT/whatif.json."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from deconfliction.adapters.protocol_file import resolve_protocol
    from deconfliction.analysis.tracks import read_tracks
    from deconfliction.analysis.whatif import (
        compare,
        plot_whatif,
        table_rows,
        write_whatif_json,
    )

    console = Console(highlight=False)
    loaded = []
    seen: set[str] = set()
    for arg in protocol:
        label = Path(arg).stem if Path(arg).exists() else arg
        while label in seen:
            label += "'"
        seen.add(label)
        loaded.append((label, resolve_protocol(arg)))
    table = read_tracks(tracks)
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks = {
            label: bar.add_task(f"Replaying under {label}", total=1)
            for label, _ in loaded
        }

        def progress(label: str, done: int, total: int) -> None:
            bar.update(tasks[label], completed=done, total=max(total, 1))

        result = compare(table, loaded, progress)
    out.mkdir(parents=True, exist_ok=True)
    plot_whatif(out / "whatif.png", result)
    write_whatif_json(out / "whatif.json", result)
    grid = Table(
        title=f"What-if: {len(table)} positions of {tracks.name}", header_style="bold"
    )
    grid.add_column("")
    for label, _ in loaded:
        grid.add_column(label, justify="right")
    for name, cells in table_rows(result):
        grid.add_row(name, *cells)
    console.print(grid)
    console.print(
        f"Wrote [bold]{escape(str(out / 'whatif.png'))}[/] and "
        f"[bold]{escape(str(out / 'whatif.json'))}[/]"
    )


def register(app: typer.Typer) -> None:
    """Add the ``whatif`` command to ``app``."""
    app.command("whatif")(whatif)
