"""detection state: what a restart resumes from

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-20 10:00:00.000000

``alerts.last_seen_t_s`` (the tracker's hysteresis state; existing alerts take their
``updated_t_s``) and ``detection_state`` (the positions live detection has read).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_t_s", sa.Float(), nullable=True))
    op.execute("UPDATE alerts SET last_seen_t_s = updated_t_s")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("last_seen_t_s", existing_type=sa.Float(), nullable=False)
    op.create_table(
        "detection_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_row_id", sa.BigInteger(), nullable=False),
        sa.Column("tick_t_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_detection_state")),
    )


def downgrade() -> None:
    op.drop_table("detection_state")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("last_seen_t_s")
