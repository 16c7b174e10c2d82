"""notes: a delegate's personal notes, stored as ciphertext only (server/routes_notes.py)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "note_keys",
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "notes",
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("session_id", sa.String(length=100), nullable=False),
        sa.Column("document_id", sa.String(length=100), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("iv", sa.String(length=24), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "session_id", "document_id"),
    )


def downgrade() -> None:
    op.drop_table("notes")
    op.drop_table("note_keys")
