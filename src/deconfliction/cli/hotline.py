"""``deconfliction hotline verify|export|verify-transcript``: the signed record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from deconfliction.cli._common import guarded, stderr
from deconfliction.cli.server import DatabaseOpt
from deconfliction.config import DEFAULT_DATABASE_URL

hotline_app = typer.Typer(help="The hotline's signed record.", no_args_is_help=True)

EXIT_RECORD_BROKEN: int = 1
MAX_LISTED: int = 20  # further differences between the store and the record listed


KeysDirOpt = Annotated[
    Path,
    typer.Option(
        envvar="DECONFLICTION_KEYS_DIR",
        help="The server's key files: the registered public keys must be theirs.",
    ),
]


@hotline_app.command("verify")
@guarded
def verify(
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    keys_dir: KeysDirOpt = Path("deconfliction-keys"),
) -> None:
    """Check the whole chain and every signature, and that the messages, receipts
    and suspensions the API serves are what the chain says; name the first entry
    that fails."""
    from deconfliction.hotline import record
    from deconfliction.service import hotline, keys, record_audit
    from deconfliction.store import engine as store_engine

    engine = store_engine.make_engine(database)
    try:
        with engine.connect() as conn:
            entries = hotline.log_entries(conn)
            public = keys.public_keys(conn)
            replaced = keys.key_file_mismatches(conn, keys_dir)
            discrepancies = record_audit.audit_store(conn, entries)
    finally:
        engine.dispose()
    report = record.verify_chain(entries, public)
    if not report.ok:
        _broken(
            f"at entry {report.first_bad_seq}: {report.reason} "
            f"({report.checked} entries checked before it)"
        )
    if replaced:
        _broken(
            "the registered public key of "
            + ", ".join(repr(s) for s in replaced)
            + f" is not the one of its key file in {keys_dir} "
            "(the chain may have been re-signed with other keys)"
        )
    if discrepancies:
        first, others = discrepancies[0], discrepancies[1:]
        where = "" if first.seq is None else f"at entry {first.seq}: "
        details = [
            f"also {'' if d.seq is None else f'entry {d.seq}: '}{d}"
            for d in others[:MAX_LISTED]
        ]
        if len(others) > MAX_LISTED:
            details.append(f"and {len(others) - MAX_LISTED} more")
        _broken(f"{where}the store differs from the record: {first}", details)
    stderr.print(
        f"record intact: {report.checked} entries, every signature valid, "
        "the messages, receipts and suspensions as recorded"
    )


def _broken(what: str, details: list[str] | None = None) -> None:
    from rich.markup import escape

    # what the store holds is not markup: printed as it is
    stderr.print(f"[bold red]record broken[/] {escape(what)}", markup=True)
    for line in details or []:
        stderr.print(f"  {line}", markup=False)
    raise typer.Exit(EXIT_RECORD_BROKEN)


@hotline_app.command("export")
@guarded
def export(
    day: Annotated[str, typer.Option(help="UTC day, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option(help="Directory to write into.")] = Path("."),
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    keys_dir: Annotated[
        Path,
        typer.Option(
            envvar="DECONFLICTION_KEYS_DIR",
            help="The server's keys; with server.pem there the transcript is sealed.",
        ),
    ] = Path("deconfliction-keys"),
) -> None:
    """Write the day's transcript as JSON (verifiable) and as readable text."""
    from deconfliction.errors import InputError, Problem
    from deconfliction.hotline import record
    from deconfliction.service import hotline, keys
    from deconfliction.store import engine as store_engine

    try:
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise InputError(
            [Problem("command line", None, "--day", "expected YYYY-MM-DD")]
        ) from None
    engine = store_engine.make_engine(database)
    try:
        with engine.connect() as conn:
            entries = hotline.log_entries(conn, start, start + 86_400.0)
            public = keys.public_keys(conn)
    finally:
        engine.dispose()
    transcript = record.write_transcript(
        entries, public, title=f"Hotline transcript {day}"
    )
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"hotline-{day}.json"
    text_path = out / f"hotline-{day}.txt"
    json_path.write_text(transcript.json_text, encoding="utf-8")
    text_path.write_text(transcript.readable_text, encoding="utf-8")
    stderr.print(f"{len(entries)} entries: wrote {json_path} and {text_path}")


@hotline_app.command("verify-transcript")
@guarded
def verify_transcript(
    transcript: Annotated[Path, typer.Argument(help="A JSON transcript from export.")],
    keys_file: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="JSON {signer: 'ed25519:...'} with the public keys you hold; "
            "default: the keys in the transcript (weaker: trust your own copy).",
        ),
    ] = None,
) -> None:
    """Verify an exported transcript with public keys alone."""
    import json

    from deconfliction.hotline import record

    public = None
    if keys_file is not None:
        raw = json.loads(keys_file.read_text(encoding="utf-8"))
        public = {k: record.public_key_from_text(v) for k, v in raw.items()}
    report = record.verify_transcript(transcript.read_text(encoding="utf-8"), public)
    if report.ok:
        stderr.print(f"transcript intact: {report.checked} entries")
        return
    stderr.print(
        f"[bold red]transcript broken[/] at entry {report.first_bad_seq}: "
        f"{report.reason}",
        markup=True,
    )
    raise typer.Exit(EXIT_RECORD_BROKEN)


def register(app: typer.Typer) -> None:
    """Add the ``hotline`` commands to ``app``."""
    app.add_typer(hotline_app, name="hotline")
