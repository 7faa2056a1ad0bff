"""Attack: move the times a message was delivered and acknowledged.

Edited receipt times left ``hotline verify`` saying "record intact". Through a real
server on SQLite and PostgreSQL: each edit names the entry that recorded the time.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from deconfliction.store.tables import hotline_receipts
from tests.conftest import Server
from tests.security.record_world import B, talk

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("column", "event"),
    [("acknowledged_t_s", "acknowledged"), ("delivered_t_s", "delivered")],
)
def test_an_edited_receipt_time_is_named(
    server: Server, column: str, event: str
) -> None:
    t = talk(server)
    receipt = (
        hotline_receipts.c.message_id == t.message_id,
        hotline_receipts.c.party_id == B,
    )
    with t.database() as conn:
        recorded = conn.execute(
            select(hotline_receipts.c[column]).where(*receipt)
        ).scalar_one()
        # acknowledged "in time": an hour earlier than it was
        conn.execute(
            update(hotline_receipts).where(*receipt).values({column: recorded - 3600})
        )
    broken = t.verify_database()
    assert broken.exit_code == 1, broken.output
    seq = t.seq_of(event, message_id=t.message_id)
    assert f"at entry {seq}:" in broken.output
    assert f"hotline_receipts.{column}" in broken.output
