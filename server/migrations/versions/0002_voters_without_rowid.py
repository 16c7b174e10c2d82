"""voters without rowid (SQLite)

SQLite gives an ordinary table a hidden rowid that counts up with every insert, so the `voters` rows of a secret
round sat in voting order. A WITHOUT ROWID table is stored in primary-key order (stream, round, delegate) only.
PostgreSQL has no rowid: nothing to do there (docs/SECURITY.md says what its heap keeps).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_table(
        "voters_rebuilt",
        sa.Column("stream_id", sa.String(length=200), nullable=False),
        sa.Column("round_id", sa.String(length=100), nullable=False),
        sa.Column("delegate_id", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("stream_id", "round_id", "delegate_id"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        "INSERT INTO voters_rebuilt (stream_id, round_id, delegate_id) "
        "SELECT stream_id, round_id, delegate_id FROM voters ORDER BY stream_id, round_id, delegate_id"
    )
    op.drop_table("voters")  # its pages are zeroed as they are freed (secure_delete, server/database.py)
    op.rename_table("voters_rebuilt", "voters")


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
