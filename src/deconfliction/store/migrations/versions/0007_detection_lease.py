"""detection lease: one process runs live detection

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20 12:00:00.000000

``detection_state.holder``, ``acquired_t_s`` and ``expires_t_s``: the lease of the
process that runs live detection (``service/leadership.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("detection_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("acquired_t_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("expires_t_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("detection_state", schema=None) as batch_op:
        batch_op.drop_column("expires_t_s")
        batch_op.drop_column("acquired_t_s")
        batch_op.drop_column("holder")
