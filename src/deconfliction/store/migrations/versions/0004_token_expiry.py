"""token expiry

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-20 10:00:00.000000

Tokens issued before this revision keep no expiry (``expires_t_s`` null):
``deconfliction party tokens`` lists them as never expiring; rotate them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_t_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_t_s")
