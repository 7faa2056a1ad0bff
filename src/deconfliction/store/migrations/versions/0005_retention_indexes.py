"""retention: indexes to find expired idempotency records and events

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 15:00:00.000000

Pruning (``service/retention.py``) looks for the oldest batches and events in small
batches; without these indexes each look would scan the whole table.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_ingest_batches_received", "ingest_batches", ["received_t_s"], unique=False
    )
    op.create_index("ix_events_created", "events", ["created_t_s"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_created", table_name="events")
    op.drop_index("ix_ingest_batches_received", table_name="ingest_batches")
