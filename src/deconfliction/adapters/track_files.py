"""Any supported track file in, one :class:`TrackBatch` out: format detection and the
one entry point the command line, the bench and the services use.

Formats: ``sbs`` (SBS-1 / BaseStation), ``avr`` and ``beast`` (raw Mode-S hex lines:
both read by the same decoder, which accepts every line form), ``cot``
(Cursor-on-Target XML), ``opensky`` (CSV or Parquet), ``csv`` and ``parquet`` (the
normalised track table, see ``adapters/tabular.py``), ``beast-binary`` (Beast
binary frames, port 30005), ``asterix`` (raw ASTERIX blocks
or a pcap/pcapng capture of them over UDP, see ``adapters/asterix.py``).

Detection looks at the first 64 kB: Parquet's magic bytes (then its columns tell
OpenSky from a track table), a capture's magic bytes or binary ASTERIX blocks, XML,
the first word of the first lines (``MSG,`` ..., ``*``, ``@``, a time followed by
hex) or a CSV header.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deconfliction.adapters.track_stream import (
    LineDecoder,
    PartyRules,
    ReadStats,
    TrackBatch,
    decode_file,
)
from deconfliction.errors import InputError, Problem

if TYPE_CHECKING:
    from deconfliction.adapters.asterix import RadarSites
    from deconfliction.adapters.cot import CotDecoder

INPUT_FORMATS: tuple[str, ...] = (
    "sbs",
    "avr",
    "beast",
    "cot",
    "opensky",
    "csv",
    "parquet",
    "asterix",
    "beast-binary",
)
SNIFF_BYTES: int = 64 * 1024
_SBS_HEADS = ("MSG,", "SEL,", "ID,", "AIR,", "STA,", "CLK,")
_TIMED_HEX_RE = re.compile(r"\d+(\.\d+)?[\s,]+\*?[0-9A-Fa-f]{14,28};?")


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Per-feed settings of the readers.

    Attributes:
        rules: party rules.
        sbs_timezone: zone of SBS times.
        reference: receiver position for single-message Mode-S positions.
        clock: the time of untimed AVR lines (the machine's clock by default).
        start_t_s: the time of the first MLAT-timed Beast line, if known; for a raw
            ASTERIX file, a time within 12 hours of its start (ASTERIX gives times
            of day).
        radars: radar sites by SAC/SIC, for ASTERIX CAT048 positions.
    """

    rules: PartyRules | None = None
    sbs_timezone: str = "UTC"
    reference: tuple[float, float] | None = None
    clock: Callable[[], float] = time.time
    start_t_s: float | None = None
    radars: RadarSites | None = None


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of a track file, from its content.

    Raises:
        InputError: for an empty file or one no reader recognises.
        FileNotFoundError: if the file does not exist.
    """
    source = str(path)
    head = _head(path)
    if head.startswith(b"PAR1"):
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        from deconfliction.adapters.input_files import parquet_errors
        from deconfliction.adapters.opensky import looks_like_opensky

        with parquet_errors(source):
            names = pq.read_schema(path).names
        return "opensky" if looks_like_opensky(names) else "parquet"
    from deconfliction.adapters.asterix import is_capture, looks_like_asterix

    if is_capture(head) or looks_like_asterix(head):
        return "asterix"
    if len(head) > 1 and head[0] == 0x1A and head[1] in (0x31, 0x32, 0x33):
        return "beast-binary"
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    if text.lstrip().startswith("<"):
        return "cot"
    lines = [ln.strip() for ln in text.splitlines()[:50] if ln.strip()]
    for line in lines[:20]:
        if line.startswith(_SBS_HEADS):
            return "sbs"
        if line.startswith("*") and line.endswith(";"):
            return "avr"
        if line.startswith("@") or _TIMED_HEX_RE.fullmatch(line):
            return "beast"
    header = [h.strip().lower() for h in lines[0].split(",")] if lines else []
    from deconfliction.adapters.opensky import looks_like_opensky

    if looks_like_opensky(header):
        return "opensky"
    if {"id", "time", "lat", "lon"} <= set(header):
        return "csv"
    raise InputError(
        [
            Problem(
                source,
                1,
                "",
                "cannot tell the format from the content; pass --input-format "
                f"({'|'.join(INPUT_FORMATS)})",
            )
        ]
    )


def _head(path: str | os.PathLike[str]) -> bytes:
    """The first bytes of a file that holds something.

    Raises:
        InputError: for an empty file (or one of white space only).
        FileNotFoundError: if the file does not exist.
    """
    with Path(path).open("rb") as f:
        head = f.read(SNIFF_BYTES)
        if not head.strip() and not f.read(1):
            raise InputError([Problem(str(path), None, "", "the file is empty")])
    return head


def read_track_file(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    options: ReadOptions | None = None,
) -> tuple[TrackBatch, ReadStats]:
    """Read every position of a file, in the file's order.

    Args:
        path: the file.
        fmt: one of :data:`INPUT_FORMATS`, or None to detect it.
        options: per-feed settings.

    Raises:
        InputError: for an unknown format, or a file the reader refuses as a whole
            (bad rows and messages are counted in the stats instead).
        FileNotFoundError: if the file does not exist.
    """
    options = options or ReadOptions()
    source = str(path)
    if fmt is None:
        fmt = detect_format(path)
    else:
        _head(path)
    if fmt not in INPUT_FORMATS:
        raise InputError(
            [
                Problem(
                    source,
                    None,
                    "format",
                    f"unknown format {fmt!r} ({'|'.join(INPUT_FORMATS)})",
                )
            ]
        )
    if fmt == "opensky":
        from deconfliction.adapters.opensky import read_opensky

        return read_opensky(path, options.rules)
    if fmt in ("csv", "parquet"):
        from deconfliction.adapters.track_tables import read_track_table

        # Feeds and replays keep the good rows and count the bad ones.
        return read_track_table(path, "count", options.rules)
    if fmt == "asterix":
        return _read_asterix(path, options)
    decoder: LineDecoder | CotDecoder
    if fmt == "sbs":
        from deconfliction.adapters.sbs import SbsDecoder

        decoder = SbsDecoder(source, options.sbs_timezone, options.rules)
    elif fmt == "cot":
        from deconfliction.adapters.cot import CotDecoder

        decoder = CotDecoder(source, options.rules)
    else:
        from deconfliction.adapters.modes import BeastBinaryDecoder, ModeSDecoder

        decoder = (BeastBinaryDecoder if fmt == "beast-binary" else ModeSDecoder)(
            source,
            reference=options.reference,
            clock=options.clock,
            start_t_s=options.start_t_s,
            rules=options.rules,
        )
    batches = [TrackBatch.from_records(chunk) for chunk in decode_file(path, decoder)]
    stats: ReadStats = decoder.stats
    return TrackBatch.concat(batches), stats


def _read_asterix(
    path: str | os.PathLike[str], options: ReadOptions
) -> tuple[TrackBatch, ReadStats]:
    from deconfliction.adapters.asterix import (
        AsterixDecoder,
        is_capture,
        read_capture,
    )

    decoder = AsterixDecoder(
        str(path),
        radars=options.radars,
        rules=options.rules,
        clock=options.clock,
        start_t_s=options.start_t_s,
    )
    chunks = (
        read_capture(path, decoder)
        if is_capture(_head(path))
        else decode_file(path, decoder)
    )
    batches = [TrackBatch.from_records(chunk) for chunk in chunks]
    return TrackBatch.concat(batches), decoder.stats
