"""protocol withdrawal: a party's notice and when the version ends

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 17:00:00.000000

``protocol_versions.notice_by`` / ``notice_t_s``: the party that gave notice of
withdrawal under the version's ``[termination]`` clause, and when;
``protocol_versions.ends_t_s``: when the version ends (the notice plus the notice
period). See ``service/withdrawal.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("protocol_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_by", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("notice_t_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("ends_t_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("protocol_versions", schema=None) as batch_op:
        batch_op.drop_column("ends_t_s")
        batch_op.drop_column("notice_t_s")
        batch_op.drop_column("notice_by")
