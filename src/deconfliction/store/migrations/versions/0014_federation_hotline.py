"""federation hotline: the common record between nodes, and evidence of equivocation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 20:00:00.000000

``federation_record``: on a party's node, the hotline record it holds in common with
each peer, as two signed chains (one per author node, ``seq`` per chain).
``federation_equivocations``: the first entry on which a peer's signed checkpoint
and this node's record disagree, with both versions kept as evidence
(``federation/hotline.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "federation_record",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("t_s", sa.Float(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("body_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_record")),
        sa.UniqueConstraint("peer", "author", "seq", name="uq_federation_record_entry"),
    )
    op.create_table(
        "federation_equivocations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("detected_t_s", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ours_json", sa.Text(), nullable=True),
        sa.Column("theirs_json", sa.Text(), nullable=True),
        sa.Column("checkpoint_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_equivocations")),
        sa.UniqueConstraint(
            "peer", "author", "seq", name="uq_federation_equivocations_seq"
        ),
    )


def downgrade() -> None:
    op.drop_table("federation_equivocations")
    op.drop_table("federation_record")
