"""Attack: change what a message says in the table the API serves it from.

After ``hotline_messages.text`` was edited, the API served "we WILL cross" for "we
will NOT cross" and ``hotline verify`` still said "record intact". Through a real
server on SQLite and PostgreSQL: ``hotline verify`` names the ``sent`` entry the
store now contradicts, and the party finds the words as sent on the log.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from deconfliction.store.tables import hotline_messages
from tests.conftest import Server
from tests.security.record_world import NOT_CROSS, WILL_CROSS, B, talk

pytestmark = pytest.mark.slow


def test_an_edited_message_text_is_named(server: Server) -> None:
    t = talk(server)
    with t.database() as conn:
        conn.execute(
            update(hotline_messages)
            .where(hotline_messages.c.id == t.message_id)
            .values(text=WILL_CROSS)
        )
    with t.client(B) as b:
        served = b.get(f"/v1/hotline/messages/{t.message_id}").json()
        log = b.get("/v1/hotline/log").json()
    assert served["text"] == WILL_CROSS  # what the issue saw

    broken = t.verify_database()
    assert broken.exit_code == 1, broken.output
    sent_seq = t.seq_of("sent", message_id=t.message_id)
    assert f"at entry {sent_seq}:" in broken.output
    assert "hotline_messages.text" in broken.output and NOT_CROSS in broken.output

    # The party reads the words as they were signed on the log, and the chain holds.
    (entry,) = [e for e in log["entries"] if e["seq"] == sent_seq]
    assert entry["body"]["text"] == NOT_CROSS
    assert t.verify_against(B, None).exit_code == 0
