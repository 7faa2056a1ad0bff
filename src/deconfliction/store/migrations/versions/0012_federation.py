"""federation: signed acceptances of protocol versions, and the outbox to peers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:00:00.000000

``protocol_acceptances.signature``: on a party's node (federation), the Ed25519
signature of the version's digest by the node that accepted it (every node keeps
every node's). ``federation_outbox``: what a node has to send to each peer, in
order, kept until the peer took it (``federation/outbox.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("protocol_acceptances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature", sa.Text(), nullable=True))
    op.create_table(
        "federation_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body_json", sa.Text(), nullable=False),
        sa.Column("created_t_s", sa.Float(), nullable=False),
        sa.Column("sent_t_s", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_outbox")),
    )
    op.create_index(
        "ix_federation_outbox_pending",
        "federation_outbox",
        ["peer", "sent_t_s", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_federation_outbox_pending", table_name="federation_outbox")
    op.drop_table("federation_outbox")
    with op.batch_alter_table("protocol_acceptances", schema=None) as batch_op:
        batch_op.drop_column("signature")
