"""suspensions per agreement

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 00:20:00.000000

``hotline_suspensions.protocol_id``: the agreement a suspension covers, when its
party named one (a party in several agreements suspends one of them); NULL, as for
every suspension made before, covers every agreement naming the party.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hotline_suspensions") as batch:
        batch.add_column(sa.Column("protocol_id", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hotline_suspensions") as batch:
        batch.drop_column("protocol_id")
