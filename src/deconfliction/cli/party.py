"""``deconfliction party``: the operator registers parties and manages their tokens.

Only the server's operator (whoever can run this against the database) registers
parties; over the API a party's admin manages the tokens of its own party only. A
token is printed once, when issued; listings show its id, role, label and times,
never the token or its hash.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from deconfliction.cli._common import guarded, stderr
from deconfliction.cli.server import DatabaseOpt, KeysDirOpt, NodeOpt
from deconfliction.config_defaults import DEFAULT_DATABASE_URL
from deconfliction.errors import InputError, Problem
from deconfliction.service.token_days import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS

if TYPE_CHECKING:
    from sqlalchemy import Connection

ExpiresOpt = Annotated[
    int,
    typer.Option(
        "--expires-in-days",
        help=f"Days the new token is valid (1 to {MAX_TOKEN_DAYS}).",
    ),
]
LANGUAGES: tuple[str, ...] = ("en", "ru", "ar")
PARTY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

party_app = typer.Typer(
    help="Register parties and manage their tokens (the operator's commands).",
    no_args_is_help=True,
)


@contextmanager
def _store(database: str) -> Iterator[Connection]:
    """A transaction on the migrated database."""
    from deconfliction.store import engine as store_engine

    engine = store_engine.make_engine(database)
    try:
        store_engine.upgrade(engine)
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _utc(t_s: float | None, never: str = "never") -> str:
    if t_s is None:
        return never
    return datetime.fromtimestamp(t_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_days(days: int) -> None:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--expires-in-days",
                    f"{days}: a token is valid for 1 to {MAX_TOKEN_DAYS} days",
                )
            ]
        )


@party_app.command("add")
@guarded
def party_add(
    party_id: Annotated[
        str, typer.Argument(metavar="NAME", help="Party id, e.g. coalition.")
    ],
    role: Annotated[str, typer.Option(help="officer, observer or admin.")] = "officer",
    name: Annotated[
        str | None, typer.Option(help="Full name (new party: default NAME).")
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="en, ru or ar (new party: default en).")
    ] = None,
    label: Annotated[str, typer.Option(help="Who the token is for.")] = "",
    expires_in_days: ExpiresOpt = DEFAULT_TOKEN_DAYS,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            envvar="DECONFLICTION_DATABASE_URL",
            help="SQLAlchemy URL (default deconfliction.db, or the node's store "
            "with --node).",
        ),
    ] = None,
    keys_dir: KeysDirOpt = "deconfliction-keys",
    node: NodeOpt = None,
) -> None:
    """Register a party (or update its --name and --language) and print a new
    bearer token for it, once, and the fingerprint of its signing key, to compare
    with the other parties out of band. With --node, users of that node's own
    party only, in the node's store, signed with the node's key."""
    from deconfliction.service import auth, keys

    problems = []
    if node is not None:
        from deconfliction.federation.node_dir import load_node

        loaded = load_node(node)
        if party_id != loaded.party:
            raise InputError(
                [
                    Problem(
                        "command line",
                        None,
                        "NAME",
                        f"the node in {node} is {loaded.party!r}'s: it has users "
                        f"of {loaded.party!r} only, not of {party_id!r}",
                    )
                ]
            )
        database = database or loaded.database_url
        keys_dir = str(loaded.keys_dir)
    database = database or DEFAULT_DATABASE_URL
    if not PARTY_ID.fullmatch(party_id):
        problems.append(
            Problem(
                "command line", None, "NAME", "lower-case letters, digits, - and _ only"
            )
        )
    if role not in {r.value for r in auth.Role}:
        problems.append(
            Problem("command line", None, "--role", f"unknown role {role!r}")
        )
    if language is not None and language not in LANGUAGES:
        problems.append(
            Problem("command line", None, "--language", f"unknown {language!r}")
        )
    if problems:
        raise InputError(problems)
    _check_days(expires_in_days)
    now = time.time()
    with _store(database) as conn:
        created = auth.ensure_party(
            conn, party_id, name or party_id, language or "en", now
        )
        changes = {} if created else auth.update_party(conn, party_id, name, language)
        issued = auth.issue(
            conn, party_id, auth.Role(role), now, label, expires_in_days
        )
        fingerprint = keys.ensure_signing_key(conn, keys_dir, party_id, now)
    for field, (old, new) in changes.items():
        stderr.print(f"party {party_id!r}: {field} changed from {old!r} to {new!r}")
    stderr.print(
        f"{'registered party' if created else 'party'} {party_id!r}; new {role} token "
        f"id {issued.info.id}, valid until {_utc(issued.info.expires_t_s)} "
        "(shown once, keep it safe):"
    )
    typer.echo(issued.token)
    stderr.print(f"fingerprint: {fingerprint}")


@party_app.command("list")
@guarded
def party_list(database: DatabaseOpt = DEFAULT_DATABASE_URL) -> None:
    """The registered parties, with their number of active tokens."""
    from sqlalchemy import select

    from deconfliction.service import auth
    from deconfliction.store.tables import parties

    now = time.time()
    with _store(database) as conn:
        rows = conn.execute(select(parties).order_by(parties.c.id)).all()
        tokens = auth.list_tokens(conn)
    active: dict[str, int] = {}
    for t in tokens:
        if t.status(now) == "active":
            active[t.party_id] = active.get(t.party_id, 0) + 1
    typer.echo("party\tlanguage\tactive_tokens\tregistered\tname")
    for r in rows:
        typer.echo(
            f"{r.id}\t{r.language}\t{active.get(r.id, 0)}\t"
            f"{_utc(r.created_t_s)}\t{r.name}"
        )


@party_app.command("tokens")
@guarded
def party_tokens(
    party_id: Annotated[
        str | None, typer.Argument(metavar="[NAME]", help="Only this party's.")
    ] = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Every token (of one party): id, party, role, status, created, expires,
    revoked, label; never the token itself."""
    from deconfliction.service import auth

    now = time.time()
    with _store(database) as conn:
        listed = auth.list_tokens(conn, party_id)
    typer.echo("id\tparty\trole\tstatus\tcreated\texpires\trevoked\tlabel")
    for t in listed:
        typer.echo(
            f"{t.id}\t{t.party_id}\t{t.role.value}\t{t.status(now)}\t"
            f"{_utc(t.created_t_s)}\t{_utc(t.expires_t_s)}\t"
            f"{_utc(t.revoked_t_s, '-')}\t{t.label}"
        )


@party_app.command("revoke")
@guarded
def party_revoke(
    token_ids: Annotated[
        list[int], typer.Argument(metavar="TOKEN_ID...", help="Ids from party tokens.")
    ],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Revoke tokens at once: requests with them get 401 and their open streams
    close (within seconds)."""
    from deconfliction.errors import NotFoundError
    from deconfliction.service import auth

    now = time.time()
    with _store(database) as conn:
        try:
            revoked = [auth.revoke(conn, token_id, now) for token_id in token_ids]
        except NotFoundError as exc:
            raise InputError(
                [Problem("command line", None, "TOKEN_ID", str(exc))]
            ) from None
    for t in revoked:
        stderr.print(f"revoked token {t.id} ({t.party_id} {t.role.value})")


@party_app.command("rotate")
@guarded
def party_rotate(
    token_id: Annotated[int, typer.Argument(metavar="TOKEN_ID")],
    expires_in_days: ExpiresOpt = DEFAULT_TOKEN_DAYS,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Replace a token: print a new one with the same party, role and label, and
    revoke the old one at once."""
    from deconfliction.errors import NotFoundError
    from deconfliction.service import auth

    _check_days(expires_in_days)
    with _store(database) as conn:
        try:
            issued = auth.rotate(conn, token_id, time.time(), expires_in_days)
        except NotFoundError as exc:
            raise InputError(
                [Problem("command line", None, "TOKEN_ID", str(exc))]
            ) from None
    stderr.print(
        f"revoked token {token_id}; new {issued.info.role.value} token for "
        f"{issued.info.party_id!r} id {issued.info.id}, valid until "
        f"{_utc(issued.info.expires_t_s)} (shown once, keep it safe):"
    )
    typer.echo(issued.token)
