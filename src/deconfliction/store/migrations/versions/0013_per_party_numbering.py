"""per-party numbering of stream events

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:30:00.000000

Stream event ids were one sequence over every party's events: the gaps in a party's
own ids counted the events of the others, hidden ones included (issue 14, item 6).
``events.seq`` numbers each party's events on its own (``event_counters`` holds the
last number given to each party, so that pruned events never make a number come
back). Events already stored keep their id as their number, and every party's
numbering goes on above the highest id, so that a client resuming with an id it
kept misses nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_counters",
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_event_counters")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute("UPDATE events SET seq = id")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_party_seq", ["party_id", "seq"], unique=True)
    op.execute(
        "INSERT INTO event_counters (party_id, last_seq) "
        "SELECT p.party_id, (SELECT COALESCE(MAX(id), 0) FROM events) FROM "
        "(SELECT id AS party_id FROM parties UNION SELECT party_id FROM events) AS p"
    )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_party_seq")
        batch_op.drop_column("seq")
    op.drop_table("event_counters")
