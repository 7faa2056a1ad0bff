"""positions: one row per (party, aircraft, time)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 17:00:00.000000

Positions sent again under a new batch id were stored twice. The index on (party,
aircraft, time) becomes unique; rows already stored twice keep their first copy
(the lowest id), as ingestion now does (``service/ingest.py``).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM positions WHERE EXISTS (SELECT 1 FROM positions AS first"
        " WHERE first.party_id = positions.party_id"
        " AND first.aircraft_id = positions.aircraft_id"
        " AND first.t_s = positions.t_s AND first.id < positions.id)"
    )
    op.drop_index("ix_positions_aircraft_time", table_name="positions")
    op.create_index(
        "ix_positions_aircraft_time",
        "positions",
        ["party_id", "aircraft_id", "t_s"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_positions_aircraft_time", table_name="positions")
    op.create_index(
        "ix_positions_aircraft_time",
        "positions",
        ["party_id", "aircraft_id", "t_s"],
        unique=False,
    )
