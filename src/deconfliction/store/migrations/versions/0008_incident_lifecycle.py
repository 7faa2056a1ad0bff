"""incident lifecycle: compare-and-set and requests to resolve

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-21 10:00:00.000000

``incidents.status_version`` (every status change adds one; a change names the
version it was made from) and ``incidents.resolution_requested_by`` (a JSON list of
the parties that asked to resolve: ``service/incident_lifecycle.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status_version", sa.Integer(), nullable=False, server_default="0"
            )
        )
        batch_op.add_column(
            sa.Column(
                "resolution_requested_by",
                sa.Text(),
                nullable=False,
                server_default="[]",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("resolution_requested_by")
        batch_op.drop_column("status_version")
