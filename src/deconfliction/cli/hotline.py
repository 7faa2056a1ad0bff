"""``deconfliction hotline verify|checkpoint|export|verify-transcript``: the signed
record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from deconfliction.cli._common import guarded, stderr
from deconfliction.cli.server import DatabaseOpt
from deconfliction.config_defaults import DEFAULT_DATABASE_URL

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


TokenOpt = Annotated[
    str | None,
    typer.Option(envvar="DECONFLICTION_TOKEN", help="Your party's bearer token."),
]
CheckpointsOpt = Annotated[
    Path | None,
    typer.Option(help="The checkpoints and pinned keys your party kept."),
]


@hotline_app.command("verify")
@guarded
def verify(
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    keys_dir: KeysDirOpt = Path("deconfliction-keys"),
    against: Annotated[
        str | None,
        typer.Option(
            help="A server's URL: check the record it serves your party instead "
            "of a database."
        ),
    ] = None,
    token: TokenOpt = None,
    checkpoints: CheckpointsOpt = None,
    node: Annotated[
        Path | None,
        typer.Option(
            help="A node's directory: check the hotline records it holds in common "
            "with its peers (its store unless --database) and the equivocations it "
            "found."
        ),
    ] = None,
) -> None:
    """Check the whole chain and every signature, and that the messages, receipts
    and suspensions the API serves are what the chain says; name the first entry
    that fails. With --against, a party checks the server's record from outside,
    against the checkpoints and keys it kept. With --node, a node's common records
    with its peers."""
    if against is not None:
        _verify_against(against, _token(token), checkpoints)
        return
    if node is not None:
        _verify_node(node, None if database == DEFAULT_DATABASE_URL else database)
        return
    from deconfliction.hotline import record
    from deconfliction.service import hotline, keys, record_audit
    from deconfliction.store import engine as store_engine

    engine = store_engine.open_existing(database)
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


def _verify_node(directory: Path, database: str | None) -> None:
    from deconfliction.federation import hotline as fed_hotline
    from deconfliction.federation.node_dir import load_node
    from deconfliction.store import engine as store_engine

    node = load_node(directory)
    engine = store_engine.open_existing(database or node.database_url)
    try:
        with engine.connect() as conn:
            found = fed_hotline.audit(conn, node)
    finally:
        engine.dispose()
    for peer, author, report in found.chains:
        if not report.ok:
            _broken(
                f"record with {peer}, chain of {author}, at entry "
                f"{report.first_bad_seq}: {report.reason}",
                exit_now=False,
            )
    for seen in found.equivocations:
        _broken(
            f"equivocation: the node of {seen['peer']} shows entry {seen['seq']} of "
            f"{seen['author']}'s chain otherwise than this node ({seen['reason']}); "
            "both versions kept (GET /v1/federation/hotline/equivocations)",
            exit_now=False,
        )
    if not found.ok:
        raise typer.Exit(EXIT_RECORD_BROKEN)
    total = sum(r.checked for _, _, r in found.chains)
    stderr.print(
        f"common records intact: {total} entries in {len(found.chains)} chains, "
        "every signature valid, no equivocation found",
        markup=False,
    )


def _token(token: str | None) -> str:
    from deconfliction.errors import InputError, Problem

    if not token:
        raise InputError(
            [Problem("command line", None, "--token", "needed to ask the server")]
        )
    return token


def _verify_against(url: str, token: str, checkpoints: Path | None) -> None:
    from deconfliction.cli import _record_client as client

    served = client.fetch(url, token)
    kept = (
        None
        if checkpoints is None
        else client.read_kept(checkpoints, url, served.party)
    )
    outcome = client.check(served, kept)
    _report(outcome)
    if kept is None or not kept.checkpoints:
        stderr.print(
            "warning: no checkpoints kept: this checks the chain with the keys the "
            "server serves now; a record rewritten, cut short or re-signed by the "
            "server's operator shows only against checkpoints "
            "(deconfliction hotline checkpoint)",
            markup=False,
        )
    if not outcome.ok:
        raise typer.Exit(EXIT_RECORD_BROKEN)


def _report(outcome: Any) -> None:
    from deconfliction.hotline.checkpoints import EntryStub

    for change in outcome.key_changes:
        stderr.print(f"key substitution: {change}", markup=False)
    report = outcome.chain
    if not report.ok:
        _broken(
            f"at entry {report.first_bad_seq}: {report.reason} "
            f"({report.checked} entries checked before it)",
            exit_now=False,
        )
        return
    if outcome.key_changes:
        _broken("the server serves other keys than those you pinned", exit_now=False)
        return
    hidden = sum(isinstance(e, EntryStub) for e in outcome.served.entries)
    stderr.print(
        f"record intact as served to {outcome.served.party}: {report.checked} "
        f"entries ({hidden} between other parties, checked by their place in the "
        "chain only)",
        markup=False,
    )


@hotline_app.command("checkpoint")
@guarded
def checkpoint(
    server: Annotated[str, typer.Option(help="The server's URL.")],
    out: Annotated[Path, typer.Option(help="The checkpoint file (made on first use).")],
    token: TokenOpt = None,
) -> None:
    """Check the server's record as your party sees it, then keep its head (seq and
    hash) in --out and pin the keys of new signers (their fingerprints printed, to
    compare out of band). Nothing is kept when the check fails."""
    from deconfliction.cli import _record_client as client

    served = client.fetch(server, _token(token))
    kept = client.read_kept(out, server, served.party) if out.exists() else None
    outcome = client.check(served, kept)
    _report(outcome)
    if not outcome.ok:
        raise typer.Exit(EXIT_RECORD_BROKEN)
    updated = client.kept_after(outcome, kept, server)
    client.write_kept(out, updated)
    for signer in outcome.new_signers:
        stderr.print(
            f"pinned the key of {signer}: {updated.keys[signer].fingerprint}",
            markup=False,
        )
    head = served.head
    kept_what = "nothing (the log is empty)" if head is None else f"entry {head[0]}"
    stderr.print(f"kept {kept_what} in {out}", markup=False)


def _broken(
    what: str, details: list[str] | None = None, *, exit_now: bool = True
) -> None:
    from rich.markup import escape

    # what the store holds is not markup: printed as it is
    stderr.print(f"[bold red]record broken[/] {escape(what)}", markup=True)
    for line in details or []:
        stderr.print(f"  {line}", markup=False)
    if exit_now:
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
    engine = store_engine.open_existing(database)
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
    from deconfliction.adapters.input_files import read_text
    from deconfliction.hotline import record

    public = _read_keys(keys_file) if keys_file is not None else None
    report = record.verify_transcript(
        read_text(transcript), public, source=str(transcript)
    )
    if report.ok:
        stderr.print(f"transcript intact: {report.checked} entries")
        return
    stderr.print(
        f"[bold red]transcript broken[/] at entry {report.first_bad_seq}: "
        f"{report.reason}",
        markup=True,
    )
    raise typer.Exit(EXIT_RECORD_BROKEN)


def _read_keys(path: Path) -> dict[str, Any]:
    """The public keys of a ``--keys`` file: ``{signer: "ed25519:..."}``.

    Raises:
        InputError: for a file that is not such a JSON object, naming the signer.
    """
    import json

    from deconfliction.adapters.input_files import read_text
    from deconfliction.errors import InputError, Problem
    from deconfliction.hotline import record

    source = str(path)
    try:
        raw = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(
            [
                Problem(
                    source, exc.lineno, "", f"not JSON: {exc.msg} (column {exc.colno})"
                )
            ]
        ) from None
    if not isinstance(raw, dict):
        raise InputError(
            [Problem(source, None, "", 'expected {"signer": "ed25519:...", ...}')]
        )
    public: dict[str, Any] = {}
    problems = []
    for signer, text in raw.items():
        try:
            public[signer] = record.public_key_from_text(text)
        except InputError as exc:
            problems += [Problem(source, None, signer, p.message) for p in exc.problems]
    if problems:
        raise InputError(problems)
    return public


def register(app: typer.Typer) -> None:
    """Add the ``hotline`` commands to ``app``."""
    app.add_typer(hotline_app, name="hotline")
