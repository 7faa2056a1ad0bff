"""feed state: which parties' feeds live detection said are stale

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:30:00.000000

``detection_state.feeds_json``: per party, the time of its newest position and
whether ``feed.stale`` was said (``service/feed_watch.py``), so that a new run of
live detection says nothing twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("detection_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feeds_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("detection_state", schema=None) as batch_op:
        batch_op.drop_column("feeds_json")
