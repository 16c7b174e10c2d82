"""petition items: the petitions registers' search projection (server/petitions_index.py)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "petition_items",
        sa.Column("stream_id", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("field_id", sa.String(length=100), nullable=True),
        sa.Column("agency_id", sa.String(length=100), nullable=True),
        sa.Column("grp", sa.String(length=20), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("folded", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("stream_id", "item_id"),
    )
    op.create_index("ix_petition_items_agency", "petition_items", ["stream_id", "agency_id", "status"])
    op.create_index("ix_petition_items_field", "petition_items", ["stream_id", "field_id", "status"])
    op.create_index("ix_petition_items_status", "petition_items", ["stream_id", "status", "due"])


def downgrade() -> None:
    op.drop_table("petition_items")
