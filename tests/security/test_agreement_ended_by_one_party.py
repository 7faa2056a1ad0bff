"""Attack: one party ends an agreement on its own, at once, or for another party
(issue 14, item 3).

A version in effect ends without the consent of all its parties only under the
termination clause its parties wrote into it (``[termination] notice_s``): a party
of the version gives notice, every party is told on its stream and on the signed
record, and the version ends exactly ``notice_s`` later, not a moment sooner.
Nobody else gives that notice: other parties, whatever their role, get the answer
a version that does not exist gets; observers are refused whether or not it exists.
Without the clause, nobody can leave alone.

The notice period is checked at its threshold with the tests' manual clock against
real SQLite and PostgreSQL stores; the routes through a real server on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from deconfliction.cli import hotline as hotline_cli
from deconfliction.errors import ConflictError
from deconfliction.service import auth, hotline, protocols, withdrawal
from deconfliction.service.auth import Principal, Role
from deconfliction.service.clock import ManualClock
from deconfliction.service.keys import KeyRing
from deconfliction.service.live import LiveDetection
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import events, protocol_versions
from tests.conftest import Server
from tests.security import world as w

T0 = 1_800_000_000.0
NOTICE_S = 600.0
PROTOCOL = "coalition-russia"


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    engine = store_engine.make_engine(database_url)
    store_engine.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def test_an_agreement_ends_exactly_at_the_end_of_its_notice(
    store: Engine, tmp_path: Path
) -> None:
    clock = ManualClock(T0 - 60)
    keys = KeyRing(tmp_path / "keys")
    a, b = Principal(w.A, Role.OFFICER), Principal(w.B, Role.ADMIN)
    text = w.agreement_text(PROTOCOL, (w.A, w.B), notice_s=NOTICE_S)
    with store.begin() as conn:
        for party in w.PARTIES:
            auth.ensure_party(conn, party, party.title(), "en", clock.now_t_s())
        protocols.propose(conn, a, text, clock.now_t_s())
        protocols.accept(conn, b, PROTOCOL, 1, clock.now_t_s())
    live = LiveDetection(store, clock, 5.0)
    assert live.tick().protocol == f"{PROTOCOL} v1"
    clock.t_s = T0
    with store.begin() as conn:
        noticed = withdrawal.give_notice(conn, keys, b, PROTOCOL, 1, clock.now_t_s())
        # A second notice, by either party, moves nothing.
        clock.advance(100)
        again = withdrawal.give_notice(conn, keys, a, PROTOCOL, 1, clock.now_t_s())
    assert (noticed.notice_by, noticed.notice_t_s, noticed.ends_t_s) == (
        w.B,
        T0,
        T0 + NOTICE_S,
    )
    assert (again.notice_by, again.ends_t_s) == (w.B, T0 + NOTICE_S)
    assert noticed.status == "in_effect"
    # Just before the end: still in effect, and detection still runs under it.
    clock.t_s = T0 + NOTICE_S - 0.001
    with store.begin() as conn:
        assert withdrawal.end_due(conn, keys, clock.now_t_s()) == 0
    assert live.tick().protocol == f"{PROTOCOL} v1"
    with store.connect() as conn:
        current = protocols.in_effect(conn)
        assert current is not None and current.pk == noticed.pk
    # At the end exactly: ended, as of that time.
    clock.t_s = T0 + NOTICE_S
    with store.begin() as conn:
        assert withdrawal.end_due(conn, keys, clock.now_t_s()) == 1
        assert withdrawal.end_due(conn, keys, clock.now_t_s()) == 0
    assert live.tick().protocol is None
    with store.connect() as conn:
        assert protocols.in_effect(conn) is None
        ended = protocols.load(conn, noticed.pk)
        assert (ended.status, ended.superseded_t_s) == ("superseded", T0 + NOTICE_S)
        # On the signed record: the notice signed by b, the end by the server.
        entries = [e for e in hotline.log_entries(conn) if e.event.startswith("prot")]
        told = conn.execute(
            select(events.c.party_id, events.c.type)
            .where(events.c.type.in_(("protocol.notice", "protocol.ended")))
            .order_by(events.c.id)
        ).all()
    assert [(e.event, e.signer) for e in entries] == [
        ("protocol_notice", w.B),
        ("protocol_ended", "server"),
    ]
    assert entries[0].body["ends_t_s"] == T0 + NOTICE_S
    assert entries[1].body["ended_t_s"] == T0 + NOTICE_S
    assert sorted(audience for e in entries for audience in e.body["audience"]) == [
        w.A,
        w.A,
        w.B,
        w.B,
    ]
    assert sorted(map(tuple, told)) == sorted(
        [(p, t) for p in (w.A, w.B) for t in ("protocol.notice", "protocol.ended")]
    )
    # And the record with them verifies.
    app = typer.Typer()
    app.command("noop")(lambda: None)
    hotline_cli.register(app)
    url = store.url.render_as_string(hide_password=False)
    verified = CliRunner().invoke(
        app, ["hotline", "verify", "--database", url, "--keys-dir", str(keys.directory)]
    )
    assert verified.exit_code == 0, verified.output


def test_an_agreement_without_a_termination_clause_cannot_be_left(
    store: Engine, tmp_path: Path
) -> None:
    keys = KeyRing(tmp_path / "keys")
    a, b = Principal(w.A, Role.ADMIN), Principal(w.B, Role.OFFICER)
    with store.begin() as conn:
        for party in w.PARTIES:
            auth.ensure_party(conn, party, party.title(), "en", T0)
        protocols.propose(conn, a, w.agreement_text(PROTOCOL, (w.A, w.B)), T0)
        protocols.accept(conn, b, PROTOCOL, 1, T0)
    for who in (a, b):
        with store.begin() as conn, pytest.raises(ConflictError) as refused:
            withdrawal.give_notice(conn, keys, who, PROTOCOL, 1, T0 + 1)
        assert "no termination clause" in str(refused.value)
    with store.connect() as conn:
        row = conn.execute(select(protocol_versions)).one()
    assert (row.notice_t_s, row.ends_t_s, row.superseded_t_s) == (None, None, None)


def _withdraw(world: w.World, token: str, protocol_id: str, version: int) -> Any:
    r = httpx.post(
        f"{world.server.url}/v1/protocols/{protocol_id}/versions/{version}/withdraw",
        headers=w.auth(token),
        timeout=30,
    )
    return r.status_code, r.json()


def _answers(world: w.World, token: str) -> dict[str, Any]:
    """What ``token`` gets for each (protocol, version) the test uses, with its
    names replaced so that answers about different versions compare."""
    out = {}
    for protocol_id, version in (
        (PROTOCOL, 1),  # in effect, names a and b
        (PROTOCOL, 9),  # no such version
        (PROTOCOL, 2),  # proposed by b, names b and c; a asked to consent
        ("nothing-here", 1),  # no such protocol
    ):
        status, body = _withdraw(world, token, protocol_id, version)
        text = str(body.get("detail", ""))
        text = text.replace(protocol_id, "P").replace(f"version {version}", "V")
        out[f"{protocol_id}/{version}"] = (status, text)
    return out


def test_only_a_party_of_the_agreement_gives_notice(server: Server) -> None:
    world = w.register(server)
    r = world.propose(w.A, w.agreement_text(PROTOCOL, (w.A, w.B), notice_s=3600))
    assert r.status_code == 201, r.text
    assert world.accept(w.B, PROTOCOL, 1).json()["status"] == "in_effect"
    # The next version of a's agreement, naming b and c only: a must consent to it.
    # (Changed with several agreements in effect: a protocol of its own naming b and
    # c now takes effect beside a's, without asking a.)
    r = world.propose(w.B, w.agreement_text(PROTOCOL, (w.B, w.C), version=2))
    assert r.json()["awaiting"] == [w.C, w.A], r.text
    missing = None
    for party in w.PARTIES:
        for role in w.ROLES:
            token = world.tokens[party][role]
            got = _answers(world, token)
            if role == "observer":
                # Refused alike whether the version exists or not.
                assert len(set(got.values())) == 1, (party, got)
                assert next(iter(got.values()))[0] == 403
                continue
            if party == w.C:
                # Not a party of a's agreement: as if it did not exist.
                assert got[f"{PROTOCOL}/1"] == got[f"{PROTOCOL}/9"], got
                assert got[f"{PROTOCOL}/1"] == got["nothing-here/1"], got
                assert got[f"{PROTOCOL}/1"][0] == 404
                missing = got[f"{PROTOCOL}/1"]
            if party == w.A:
                # Asked to consent to b and c's proposal, but not a party of it.
                assert got[f"{PROTOCOL}/2"] == got["nothing-here/1"], got
    assert missing is not None
    with server.client() as anonymous:
        assert (
            anonymous.post(f"/v1/protocols/{PROTOCOL}/versions/1/withdraw").status_code
            == 401
        )
    # a's admin, the first to ask above, gave notice; it is in effect until it ends.
    with world.client(w.A) as a:
        shown = a.get(f"/v1/protocols/{PROTOCOL}/versions/1").json()
    assert shown["notice_by"] == w.A and shown["notice_s"] == 3600
    assert shown["ends_t_s"] == pytest.approx(shown["notice_t_s"] + 3600)
    assert shown["status"] == "in_effect"
    # The first notice stands: b's changes nothing.
    status, body = _withdraw(world, world.tokens[w.B]["officer"], PROTOCOL, 1)
    assert status == 200 and body["notice_by"] == w.A
    # Every party of the agreement was told, on its stream and the record; c not.
    for party in (w.A, w.B):
        notices = [
            e["data"]
            for e in w.drain_stream(world, party, "observer")
            if e["type"] == "protocol.notice"
        ]
        assert [(n["by"], n["ends_t_s"]) for n in notices] == [
            (w.A, shown["ends_t_s"])
        ], party
        seq = notices[0]["record"]["seq"]
        with world.client(party, "observer") as client:
            log = client.get("/v1/hotline/log").json()
        entry = next(e for e in log["entries"] if e["seq"] == seq)
        assert entry["event"] == "protocol_notice" and entry["signer"] == w.A
    assert not [
        e for e in w.drain_stream(world, w.C) if e["type"].startswith("protocol.notice")
    ]


def test_the_server_ends_the_agreement_when_the_notice_runs_out(
    server: Server,
) -> None:
    """The server's periodic job ends the version by itself (a one-second notice,
    so that the test waits for the job, not for a notice period)."""
    world = w.register(server)
    r = world.propose(w.A, w.agreement_text(PROTOCOL, (w.A, w.B), notice_s=1))
    assert r.status_code == 201, r.text
    assert world.accept(w.B, PROTOCOL, 1).json()["status"] == "in_effect"
    status, noticed = _withdraw(world, world.tokens[w.B]["officer"], PROTOCOL, 1)
    assert status == 200 and noticed["status"] == "in_effect", noticed

    def ended() -> Any:
        with world.client(w.A, "observer") as a:
            shown = a.get(f"/v1/protocols/{PROTOCOL}/versions/1").json()
        return shown if shown["status"] == "superseded" else None

    shown = w.wait_for(ended, what="the end of the notice period")
    assert shown["superseded_t_s"] == shown["ends_t_s"] == noticed["ends_t_s"]
    for party in (w.A, w.B):
        with world.client(party) as client:
            assert client.get("/v1/protocols/current").status_code == 404
        told = [
            e["data"]
            for e in w.drain_stream(world, party)
            if e["type"] == "protocol.ended"
        ]
        assert [(t["by"], t["ended_t_s"]) for t in told] == [
            (w.B, noticed["ends_t_s"])
        ], party
