"""Helpers for the attacks on the hotline's record: a conversation through a real
server, the party's own checks (``hotline checkpoint`` and ``hotline verify
--against``), and the operator's direct access to the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import Connection, select
from typer.testing import CliRunner, Result

from deconfliction.cli import hotline as hotline_cli
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import events, hotline_log
from tests.conftest import Server, add_party
from tests.integration.helpers import put_in_effect

A, B = "coalition", "russia"
NOT_CROSS = "we will NOT cross the Euphrates north of Tabqa"
WILL_CROSS = "we WILL cross the Euphrates north of Tabqa"


def cli() -> typer.Typer:
    """The ``hotline`` commands as the ``deconfliction`` program has them."""
    app = typer.Typer()
    app.command("noop")(lambda: None)
    hotline_cli.register(app)
    return app


def run(*args: str) -> Result:
    """Run ``deconfliction hotline ARGS``."""
    return CliRunner().invoke(cli(), ["hotline", *args])


@dataclass
class Talk:
    """Two parties' tokens on a server, and a conversation between them."""

    server: Server
    tokens: dict[str, str]
    keys_dir: Path
    message_id: int = 0

    def client(self, party: str) -> Any:
        return self.server.client(self.tokens[party])

    def checkpoint(self, party: str, out: Path) -> Result:
        return run(
            "checkpoint",
            "--server",
            self.server.url,
            "--token",
            self.tokens[party],
            "--out",
            str(out),
        )

    def verify_against(self, party: str, checkpoints: Path | None) -> Result:
        more = [] if checkpoints is None else ["--checkpoints", str(checkpoints)]
        return run(
            "verify",
            "--against",
            self.server.url,
            "--token",
            self.tokens[party],
            *more,
        )

    def verify_database(self) -> Result:
        return run(
            "verify",
            "--database",
            self.server.database_url,
            "--keys-dir",
            str(self.keys_dir),
        )

    @contextmanager
    def database(self) -> Iterator[Connection]:
        """The operator's own connection to the store (committed on exit)."""
        engine = store_engine.make_engine(self.server.database_url)
        try:
            with engine.begin() as conn:
                yield conn
        finally:
            engine.dispose()

    def seq_of(self, event: str, **body: Any) -> int:
        import json

        with self.database() as conn:
            rows = conn.execute(
                select(hotline_log.c.seq, hotline_log.c.body_json).order_by(
                    hotline_log.c.seq
                )
            ).all()
            events = conn.execute(select(hotline_log.c.seq, hotline_log.c.event)).all()
        kinds = dict(events)
        for seq, text in rows:
            found = json.loads(text)
            if kinds[seq] == event and all(found.get(k) == v for k, v in body.items()):
                return int(seq)
        raise AssertionError(f"no {event} entry with {body}")


def talk(server: Server) -> Talk:
    """Coalition tells Russia it will not cross; Russia reads and acknowledges it,
    replies, and the coalition acknowledges the reply."""
    tokens = {
        A: add_party(server.database_url, A, "officer"),
        B: add_party(server.database_url, B, "officer", "ru"),
    }
    put_in_effect(server.url, tokens)
    out = Talk(server, tokens, server.log_path.parent / "keys")
    with out.client(A) as a, out.client(B) as b:
        sent = a.post(
            "/v1/hotline/messages",
            json={
                "to": B,
                "kind": "free_text",
                "text": NOT_CROSS,
                "priority": "urgent",
            },
        )
        assert sent.status_code == 201, sent.text
        out.message_id = sent.json()["id"]
        assert b.get(f"/v1/hotline/messages/{out.message_id}").status_code == 200
        assert b.post(f"/v1/hotline/messages/{out.message_id}/ack").status_code == 200
        reply = b.post(
            "/v1/hotline/messages",
            json={
                "to": A,
                "kind": "free_text",
                "text": "Понял, спасибо.",
                "reply_to": out.message_id,
            },
        )
        assert reply.status_code == 201, reply.text
        assert (
            a.post(f"/v1/hotline/messages/{reply.json()['id']}/ack").status_code == 200
        )
    return out


def rewrite_stream(conn: Connection, hashes: dict[int, str]) -> None:
    """What a thorough operator does after rewriting the chain: the hotline events
    kept for the stream carry the new hashes and say WILL_CROSS too."""
    import json

    rows = conn.execute(
        select(events.c.id, events.c.payload_json).where(
            events.c.type.like("hotline.%")
        )
    ).all()
    for event_id, text in rows:
        payload = json.loads(text.replace(NOT_CROSS, WILL_CROSS))
        payload["record"]["hash"] = hashes[payload["record"]["seq"]]
        conn.execute(
            events.update()
            .where(events.c.id == event_id)
            .values(payload_json=json.dumps(payload))
        )
