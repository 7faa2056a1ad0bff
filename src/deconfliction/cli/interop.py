"""``deconfliction tracks`` and ``deconfliction replay``: the field's track formats in,
the normalised track stream out, or played into a running server."""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from deconfliction.cli._common import as_option, guarded, stderr

EXIT_INTERRUPTED: int = 130  # 128 + SIGINT, as shells report a Ctrl-C

# Options that tracks and replay share, declared once.
_PartyRules = Annotated[
    Path | None, typer.Option(help="Party rules (TOML, see docs/interop.md).")
]
_RadarSites = Annotated[
    Path | None,
    typer.Option(
        help="ASTERIX radar sites by SAC/SIC (TOML, docs/interop.md), for "
        "CAT048 positions."
    ),
]
MAX_PRINTED_PROBLEMS: int = 12  # the first problems, by reason; the counts say the rest


class InputFormat(StrEnum):
    """What ``--input-format`` accepts."""

    SBS = "sbs"
    AVR = "avr"
    BEAST = "beast"
    COT = "cot"
    OPENSKY = "opensky"
    CSV = "csv"
    PARQUET = "parquet"
    ASTERIX = "asterix"
    BEAST_BINARY = "beast-binary"


class TrackFormat(StrEnum):
    """What ``tracks --format`` writes."""

    CSV = "csv"
    PARQUET = "parquet"
    GEOJSON = "geojson"
    KML = "kml"
    COT = "cot"


def _options(
    party_rules: Path | None,
    sbs_timezone: str,
    reference: str | None,
    start_time: str | None = None,
    radar_sites: Path | None = None,
) -> Any:
    from deconfliction.adapters.sbs import resolve_timezone
    from deconfliction.adapters.track_files import ReadOptions
    from deconfliction.adapters.track_stream import PartyRules
    from deconfliction.errors import InputError, Problem
    from deconfliction.timetext import parse_rfc3339_s

    with as_option("--sbs-timezone"):  # a bad zone is an error before any reading
        resolve_timezone(sbs_timezone)
    start_t_s = None
    if start_time is not None:
        try:
            start_t_s = parse_rfc3339_s(start_time)
        except ValueError as exc:
            raise InputError(
                [Problem("command line", None, "--start-time", str(exc))]
            ) from None
    rules = PartyRules.load(party_rules) if party_rules is not None else None
    radars = None
    if radar_sites is not None:
        from deconfliction.adapters.asterix import RadarSites

        radars = RadarSites.load(radar_sites)
    return ReadOptions(
        rules=rules,
        sbs_timezone=sbs_timezone,
        reference=_reference(reference),
        start_t_s=start_t_s,
        radars=radars,
    )


def _reference(text: str | None) -> tuple[float, float] | None:
    from deconfliction.adapters.modes import parse_reference

    if text is None:
        return None
    with as_option("--reference"):
        return parse_reference(text)


def _report(all_stats: list[Any]) -> None:
    """Per source: read, accepted, ignored and rejected by reason, then examples."""
    printed = 0
    for stats in all_stats:
        stderr.print(stats.summary(), markup=False)
        if stats.ignored:
            ignored = ", ".join(f"{n} {r}" for r, n in stats.ignored.most_common())
            stderr.print(f"  ignored: {ignored}", markup=False)
        for problem in stats.examples:
            if printed >= MAX_PRINTED_PROBLEMS:
                break
            stderr.print(f"  {problem}", markup=False)
            printed += 1


def _read_all(
    sources: list[Path], input_format: InputFormat | None, options: Any
) -> tuple[Any, list[Any]]:
    from deconfliction.adapters.track_files import read_track_file
    from deconfliction.adapters.track_stream import TrackBatch

    batches = []
    all_stats = []
    for path in sources:
        batch, stats = read_track_file(
            path, input_format.value if input_format else None, options
        )
        batches.append(batch)
        all_stats.append(stats)
    return TrackBatch.concat(batches).sorted_by_time(), all_stats


def _garbage(all_stats: list[Any]) -> bool:
    """Nothing usable but something rejected: the input is not what it claims."""
    return all(s.accepted == 0 for s in all_stats) and any(
        s.rejected_total for s in all_stats
    )


def _write(
    batch: Any, output_format: TrackFormat, out: Path | None, cot_options: Any
) -> None:
    if output_format in (TrackFormat.CSV, TrackFormat.PARQUET):
        from deconfliction.adapters.tabular import write_tracks

        write_tracks(out, batch, output_format.value)
        return
    if output_format is TrackFormat.GEOJSON:
        import json

        from deconfliction.adapters.geojson_io import feature_collection, write_geojson

        document = feature_collection(tracks=batch)
        if out is None:
            sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
        else:
            write_geojson(out, document)
        return
    if output_format is TrackFormat.KML:
        import xml.etree.ElementTree as ET

        from deconfliction.adapters.kml import kml_document, write_kml

        root = kml_document(tracks=batch)
        if out is None:
            ET.indent(root, space=" ")
            sys.stdout.write(ET.tostring(root, encoding="unicode") + "\n")
        else:
            write_kml(out, root)
        return
    from deconfliction.adapters.cot import to_bytes, track_event

    data = b"".join(to_bytes(track_event(r, cot_options)) for r in batch.records())
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)


@guarded
def tracks(
    sources: Annotated[
        list[Path], typer.Argument(help="Recorded files (any supported format).")
    ],
    input_format: Annotated[
        InputFormat | None,
        typer.Option(help="Format of the sources (default: detected from content)."),
    ] = None,
    output_format: Annotated[
        TrackFormat, typer.Option("--format", help="Output format.")
    ] = TrackFormat.CSV,
    out: Annotated[
        Path | None,
        typer.Option(help="Output file (default: standard output; Parquet needs one)."),
    ] = None,
    party_rules: _PartyRules = None,
    sbs_timezone: Annotated[
        str,
        typer.Option(help="Zone of SBS times: UTC, local or a name (Asia/Damascus)."),
    ] = "UTC",
    reference: Annotated[
        str | None,
        typer.Option(
            help="LAT,LON of the receiver, for Mode-S positions from one message "
            "(within 180 NM of every aircraft)."
        ),
    ] = None,
    start_time: Annotated[
        str | None,
        typer.Option(
            help="Time of the first MLAT-timed Beast line (@...), or a time on the "
            "within 12 h of the start of a raw ASTERIX file, RFC 3339 (default: "
            "the time of reading)."
        ),
    ] = None,
    radar_sites: _RadarSites = None,
    own_party: Annotated[
        str | None,
        typer.Option(
            help="For --format cot: this party's aircraft are friends; the others' "
            "take the rules' \\[cot] other_affiliation (unknown by default)."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 2 if any message was rejected.")
    ] = False,
) -> None:
    """Read track files and write the normalised track stream, one row per position.

    Columns: id,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm,party,callsign,icao24,
    squawk,source (time RFC 3339 UTC; an unknown value is empty). Standard error
    gets what was read, accepted and rejected, by reason.
    """
    from deconfliction.errors import InputError, Problem

    if output_format is TrackFormat.PARQUET and out is None:
        raise InputError(
            [Problem("command line", None, "--out", "Parquet needs a file")]
        )
    options = _options(party_rules, sbs_timezone, reference, start_time, radar_sites)
    batch, all_stats = _read_all(sources, input_format, options)
    _report(all_stats)
    if _garbage(all_stats):
        raise InputError(
            [Problem(str(s.source), None, "", "no valid message") for s in all_stats]
        )
    from deconfliction.adapters.cot import CotOptions
    from deconfliction.adapters.track_stream import PartyRules

    cot_options = CotOptions.from_rules(options.rules or PartyRules(), own_party)
    _write(batch, output_format, out, cot_options)
    if strict and any(s.rejected_total for s in all_stats):
        raise typer.Exit(2)


@guarded
def replay(
    source: Annotated[
        Path, typer.Argument(help="A recorded file (any supported format).")
    ],
    speed: Annotated[
        float,
        typer.Option(
            help="Times real time; 0 for as fast as the server takes it.", min=0.0
        ),
    ] = 1.0,
    to: Annotated[
        str, typer.Option(help="The server's base URL.")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(envvar="DECONFLICTION_TOKEN", help="Bearer token of an officer."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Most positions per batch.", min=1, max=50_000)
    ] = 500,
    retime: Annotated[
        bool,
        typer.Option(
            help="Send the time of playing (so replayed traffic is live), not the "
            "recorded time (history)."
        ),
    ] = True,
    flush_s: Annotated[
        float,
        typer.Option(
            help="Shortest time between two posts while positions come.", min=0.01
        ),
    ] = 1.0,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(help="Format of the source (default: detected from content)."),
    ] = None,
    party_rules: _PartyRules = None,
    party: Annotated[
        str | None,
        typer.Option(
            help="Send only this party's aircraft (from --party-rules, or the "
            "source's party column); it must be the token's party. Default: the "
            "token's party's aircraft and those of no party."
        ),
    ] = None,
    sbs_timezone: Annotated[str, typer.Option(help="Zone of SBS times.")] = "UTC",
    reference: Annotated[
        str | None, typer.Option(help="LAT,LON of the receiver (Mode-S).")
    ] = None,
    start_time: Annotated[
        str | None,
        typer.Option(
            help="Time of the first MLAT-timed Beast line, or a time on the day a "
            "raw ASTERIX file's start (within 12 h), RFC 3339."
        ),
    ] = None,
    radar_sites: _RadarSites = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            help="Batch ids are replay-RUN-000001...: the same run id is "
            "stored once (default: random)."
        ),
    ] = None,
) -> None:
    """Play a recorded file into a running server, keeping its timing.

    Posts batches to URL/v1/tracks with client-chosen batch ids (retries are
    idempotent). With --retime (the default) positions carry the time they are
    played at, so they appear in the live picture; --no-retime sends the recorded
    times. Ends with what was read, sent, accepted and rejected, and why; Ctrl-C
    stops it with the same count, what was in flight and what is left (exit 130).
    """

    from deconfliction.errors import InputError, Problem

    if not token:
        raise InputError(
            [
                Problem(
                    "command line", None, "--token", "needed (or DECONFLICTION_TOKEN)"
                )
            ]
        )
    options = _options(party_rules, sbs_timezone, reference, start_time, radar_sites)
    batch, all_stats = _read_all([source], input_format, options)
    _report(all_stats)
    if _garbage(all_stats):
        raise InputError([Problem(str(source), None, "", "no valid message")])
    _play(
        batch,
        to,
        token,
        party,
        speed=speed,
        batch_size=batch_size,
        flush_s=flush_s,
        retime=retime,
        run_id=run_id or uuid.uuid4().hex[:12],
    )


def _play(
    batch: Any,
    to: str,
    token: str,
    party: str | None,
    *,
    speed: float,
    batch_size: int,
    flush_s: float,
    retime: bool,
    run_id: str,
) -> None:
    """Post the token's party's rows with a progress bar, then say what happened.

    Raises:
        typer.Exit: interrupted (Ctrl-C), with :data:`EXIT_INTERRUPTED`.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from deconfliction.adapters.track_poster import HttpPoster
    from deconfliction.cli._replay import SERVER_HINTS, Replayer

    with (
        HttpPoster(to, token, hints=SERVER_HINTS) as poster,
        Progress(
            TextColumn("replay"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=stderr,
            transient=False,
        ) as progress,
    ):
        own = poster.own_party()
        batch, others = own_rows(batch, own, party)
        task = progress.add_task("replay", total=len(batch))
        replayer = Replayer(
            poster,
            speed=speed,
            batch_size=batch_size,
            flush_s=flush_s,
            retime=retime,
            run_id=run_id,
            on_posted=lambda done: progress.update(task, completed=done),
        )
        started = time.monotonic()
        try:
            result = replayer.run(batch)
        except KeyboardInterrupt:
            progress.stop()
            result = replayer.stats
            result.elapsed_s = time.monotonic() - started
            interrupted = True
        else:
            interrupted = False
    result.retries = poster.retries
    _replay_summary(result, others, own, interrupted)
    if interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


def _replay_summary(
    result: Any, others: Counter[str], own: str, interrupted: bool
) -> None:
    """What was read, sent, accepted, rejected and not sent, and why; after an
    interrupt also what was in flight and what is left."""
    rejected = result.sent - result.accepted
    counts = (
        f"in {result.batches} batches, {result.accepted} accepted, "
        f"{rejected} rejected by the server"
    )
    if interrupted:
        line = (
            f"interrupted after {result.elapsed_s:.1f} s: {result.sent} of "
            f"{result.positions} positions sent {counts}"
        )
    else:
        line = (
            f"replayed {result.positions} positions in {result.elapsed_s:.1f} s: "
            f"{result.sent} sent {counts}"
        )
    if result.retries:
        line += f", {result.retries} retries"
    stderr.print(line, markup=False)
    if interrupted:
        stderr.print(
            f"  not acknowledged: {result.in_flight} in the batch being posted (the "
            f"server may have stored it); left: {result.left} not yet sent",
            markup=False,
        )
    if result.rejected:
        reasons = ", ".join(f"{n} {r}" for r, n in result.rejected.most_common())
        stderr.print(f"  rejected: {reasons}", markup=False)
        for problem in result.examples[:MAX_PRINTED_PROBLEMS]:
            stderr.print(f"  {problem}", markup=False)
    not_sent = dict(result.not_sent)
    for other, n in sorted(others.items()):
        not_sent[f"of party {other or '(none)'} (this token posts {own}'s)"] = n
    if not_sent:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(not_sent.items()))
        stderr.print(f"  not sent: {reasons}", markup=False)


def own_rows(batch: Any, own: str, party: str | None) -> tuple[Any, Counter[str]]:
    """The rows a party may post: its own aircraft, and by default also those of no
    party (which the server files under the token's party); with ``party``, that
    party's only. Returns them and the count of rows left out, by their party.

    Raises:
        InputError: if ``party`` is not the token's party.
    """
    import numpy as np

    check_party(own, party)
    keep = batch.party == own
    if party is None:
        keep |= batch.party == ""
    left_out = Counter(batch.party[~keep].tolist())
    return batch.take(np.flatnonzero(keep)), left_out


def check_party(own: str, party: str | None) -> None:
    """A ``--party`` option, which must be the token's party when given.

    Raises:
        InputError: if it is another party.
    """
    from deconfliction.errors import InputError, Problem

    if party is not None and party != own:
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--party",
                    f"{party!r}: the token is {own!r}'s, and a party posts its own "
                    "aircraft only",
                )
            ]
        )


def register(app: typer.Typer) -> None:
    """Add the ``tracks`` and ``replay`` commands to ``app``."""
    app.command("tracks")(tracks)
    app.command("replay")(replay)
