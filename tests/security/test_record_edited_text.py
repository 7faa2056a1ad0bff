"""Attack: change what a message says in the table the API serves it from.

After ``hotline_messages.text`` was edited, the API served "we WILL cross" for "we
will NOT cross" and ``hotline verify`` still said "record intact". Through a real
server on SQLite and PostgreSQL: the API serves the words of the signed ``sent``
entry, not the table's (issue 14, item 5: serve only what the chain covers);
``hotline verify`` names the entry the store now contradicts, and the party finds
the words as sent on the log. An entry edited too, without the keys, no longer
verifies: the API then withholds the content rather than serve it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from deconfliction.store.tables import hotline_log, hotline_messages
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
    assert served["text"] == NOT_CROSS, "served from the table, not the record"
    assert served["signed"] is True

    broken = t.verify_database()
    assert broken.exit_code == 1, broken.output
    sent_seq = t.seq_of("sent", message_id=t.message_id)
    assert f"at entry {sent_seq}:" in broken.output
    assert "hotline_messages.text" in broken.output and NOT_CROSS in broken.output

    # The party reads the words as they were signed on the log, and the chain holds.
    (entry,) = [e for e in log["entries"] if e["seq"] == sent_seq]
    assert entry["body"]["text"] == NOT_CROSS
    assert t.verify_against(B, None).exit_code == 0

    # The entry edited as well (its hash and signature left as they were).
    with t.database() as conn:
        body = conn.execute(
            select(hotline_log.c.body_json).where(hotline_log.c.seq == sent_seq)
        ).scalar_one()
        conn.execute(
            update(hotline_log)
            .where(hotline_log.c.seq == sent_seq)
            .values(body_json=body.replace(NOT_CROSS, WILL_CROSS))
        )
    with t.client(B) as b:
        served = b.get(f"/v1/hotline/messages/{t.message_id}").json()
        listed = b.get("/v1/hotline/messages").json()
    assert served["signed"] is False and WILL_CROSS not in served["text"], served
    assert all(WILL_CROSS not in m["text"] for m in listed), listed
