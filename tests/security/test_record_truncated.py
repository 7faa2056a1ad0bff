"""Attack: cut the last entries off the hotline's record.

``hotline verify`` said "record intact" after the last three entries were deleted:
a chain cut short is still a valid chain. Through a real server on SQLite and
PostgreSQL: the party that kept a checkpoint sees the truncation; the server's own
check sees it while the tables still hold what the deleted entries recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from deconfliction.store.tables import (
    events,
    hotline_log,
    hotline_messages,
    hotline_receipts,
)
from tests.conftest import Server
from tests.security.record_world import B, talk

pytestmark = pytest.mark.slow


def test_the_last_three_entries_deleted_show(server: Server, tmp_path: Path) -> None:
    t = talk(server)
    kept = tmp_path / "russia-checkpoints.json"
    first = t.checkpoint(B, kept)
    assert first.exit_code == 0, first.output
    assert "kept entry 5" in first.output
    assert t.verify_database().exit_code == 0

    with t.database() as conn:
        conn.execute(delete(hotline_log).where(hotline_log.c.seq > 2))

    server_side = t.verify_database()
    assert server_side.exit_code == 1, server_side.output
    assert "none on the record" in server_side.output

    party = t.verify_against(B, kept)
    assert party.exit_code == 1, party.output
    assert "at entry 3: truncated" in party.output
    assert "entry 5 was kept earlier" in party.output


def test_a_truncation_covered_up_in_the_tables_shows_to_the_party(
    server: Server, tmp_path: Path
) -> None:
    t = talk(server)
    kept = tmp_path / "russia-checkpoints.json"
    assert t.checkpoint(B, kept).exit_code == 0
    before = kept.read_text(encoding="utf-8")

    # The operator also makes the tables and the stream agree with the shortened
    # chain.
    with t.database() as conn:
        conn.execute(delete(hotline_log).where(hotline_log.c.seq > 2))
        conn.execute(
            update(hotline_receipts)
            .where(hotline_receipts.c.message_id == t.message_id)
            .values(acknowledged_t_s=None, acknowledged_by=None)
        )
        conn.execute(
            delete(hotline_receipts).where(
                hotline_receipts.c.message_id != t.message_id
            )
        )
        conn.execute(
            delete(hotline_messages).where(hotline_messages.c.id != t.message_id)
        )
        kept_for_stream = conn.execute(
            select(events.c.id, events.c.payload_json).where(
                events.c.type.like("hotline.%")
            )
        ).all()
        gone = [i for i, p in kept_for_stream if json.loads(p)["record"]["seq"] > 2]
        conn.execute(delete(events).where(events.c.id.in_(gone)))
    # The server alone can no longer tell (docs/security.md says so) ...
    assert t.verify_database().exit_code == 0
    # ... the party that kept a checkpoint can, and keeps nothing new.
    party = t.verify_against(B, kept)
    assert party.exit_code == 1
    assert "truncated" in party.output
    again = t.checkpoint(B, kept)
    assert again.exit_code == 1
    assert kept.read_text(encoding="utf-8") == before
