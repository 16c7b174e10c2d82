"""The database schema (SQLAlchemy Core): one definition for SQLite and PostgreSQL.

Alembic migrations in `server/migrations/` create exactly these tables; `tests/test_migrations.py` checks that
the migrated schema and this metadata agree.

Secret-ballot tables are shaped so that a reader of the database cannot link a delegate to a choice:
- `voters` records *that* a delegate voted in a round (the one-ballot guard) and nothing else: no time, no
  autoincrement id (on SQLite no hidden rowid either: WITHOUT ROWID), no choice.
- `tallies` holds one row per open secret round: its counts, sealed with AES-GCM under a key that is not in the
  database (server/sealing.py), re-sealed with a fresh nonce in every transaction that records ballots. Row
  versions — live, dead, or old pages in a write-ahead log — are ciphertexts that say nothing about which option a
  transaction added, so they cannot be joined to the voter row written in the same transaction. The row is
  deleted when the round closes; the result lives on in the `round_closed` event. After each such write the store
  drops older versions (server/database.py `forget_sealed_versions`), so that even with the key they are gone.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# An event-sourced aggregate: a council ("council:<id>") or a session ("session:<id>").
streams = sa.Table(
    "streams",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("council_id", sa.String(100), nullable=False, index=True),
    sa.Column("title", sa.String(500), nullable=False, server_default=""),
    # The highest sequence number written. Writers lock this row (SELECT ... FOR UPDATE on PostgreSQL; SQLite
    # has one writer at a time) and take the next numbers, so numbers are unique and gap-free.
    sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("stream_id", sa.String(200), sa.ForeignKey("streams.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("type", sa.String(60), nullable=False),
    sa.Column("audience", sa.Text, nullable=False),  # JSON of meeting.actors.Audience
    sa.Column("payload", sa.Text, nullable=False),  # JSON of the event, tagged with its type
)

voters = sa.Table(
    "voters",
    metadata,
    sa.Column("stream_id", sa.String(200), primary_key=True),
    sa.Column("round_id", sa.String(100), primary_key=True),
    sa.Column("delegate_id", sa.String(100), primary_key=True),
    # SQLite: stored in primary-key order (WITHOUT ROWID), not under a hidden rowid that counts up in voting order.
    sqlite_with_rowid=False,
)

tallies = sa.Table(
    "tallies",
    metadata,
    sa.Column("stream_id", sa.String(200), primary_key=True),
    sa.Column("round_id", sa.String(100), primary_key=True),
    sa.Column("sealed", sa.Text, nullable=False),  # server/sealing.py: the round's counts, AES-GCM sealed
)

# A command's reply, kept so that a retried command (same account, same stream, same client-made id) gets the
# first answer. The stream is part of the key: an id reused in another session is a new command there.
command_results = sa.Table(
    "command_results",
    metadata,
    sa.Column("account_id", sa.String(100), primary_key=True),
    sa.Column("stream_id", sa.String(200), primary_key=True),
    sa.Column("client_id", sa.String(100), primary_key=True),
    sa.Column("reply", sa.Text, nullable=False),
)

# Append-only, hash-chained: each row's hash covers its content and the previous row's hash in the same chain
# (one chain per stream, so sessions never wait on each other's audit rows).
audit = sa.Table(
    "audit",
    metadata,
    sa.Column("chain", sa.String(200), primary_key=True),
    sa.Column("n", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("command", sa.String(60), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("council_id", sa.String(100), nullable=True, index=True),  # NULL: a system administrator
    sa.Column("roles", sa.String(200), nullable=False),  # comma-separated meeting.actors.Role values
    sa.Column("person_id", sa.String(100), nullable=True),  # delegate or respondent id
    # Bumped to revoke every token issued before (sign out everywhere, lost tablet, disabled account).
    sa.Column("token_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

# Single tokens revoked before they expire (sign out of one device).
revoked_tokens = sa.Table(
    "revoked_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)

# One-time device sign-in codes (server/device_signin.py): the secretariat prints one as a QR code for a tablet;
# only its SHA-256 is kept. Redeeming it marks it used and records the jti of the token it gave, so the
# secretariat can revoke that device later.
device_codes = sa.Table(
    "device_codes",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("council_id", sa.String(100), nullable=False, index=True),
    sa.Column("account_id", sa.String(100), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),  # Unix seconds
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger, nullable=True),
    sa.Column("token_jti", sa.String(64), nullable=True),
    sa.Column("token_expires_at", sa.BigInteger, nullable=True),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)

# What the secretariat types for the record (record/inputs.py): a council's settings (stream "council:<id>", key
# "settings") and a session's settings and draft resolutions (stream "session:<id>", keys "settings" and
# "draft:<item id>"), each the JSON of its struct. Every edit also appends a row to the audit chain
# "record:<stream>" in the same transaction (server/record_store.py), so the archive can show the inputs' history.
record_inputs = sa.Table(
    "record_inputs",
    metadata,
    sa.Column("stream_id", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)

# The petitions registers' search projection (server/petitions_index.py): one row per tracked item, rewritten in
# the transaction that commits the item's events, so a list, filter or text search over 100 000 petitions is one
# indexed query instead of a fold and a Python scan. `folded` is the item's text and area without diacritics,
# lower-cased, whitespace runs as one space (documents/search.py `fold`).
petition_items = sa.Table(
    "petition_items",
    metadata,
    sa.Column("stream_id", sa.String(200), primary_key=True),
    sa.Column("item_id", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("field_id", sa.String(100), nullable=True),
    sa.Column("agency_id", sa.String(100), nullable=True),
    sa.Column("grp", sa.String(20), nullable=True),
    sa.Column("due", sa.Date, nullable=True),
    sa.Column("folded", sa.Text, nullable=False),
    sa.Index("ix_petition_items_agency", "stream_id", "agency_id", "status"),
    sa.Index("ix_petition_items_field", "stream_id", "field_id", "status"),
    sa.Index("ix_petition_items_status", "stream_id", "status", "due"),
)

# A delegate's personal notes on the session's documents (server/routes_notes.py, docs/SECURITY.md "Personal
# notes"). The server only ever holds ciphertext: the tablet encrypts with AES-GCM under a key derived from a
# passphrase only the delegate knows. `note_keys` holds what a second device needs to derive the same key (salt,
# PBKDF2 iterations) and a check blob that tells a wrong passphrase from a right one; `notes` one blob per
# (account, session, document) with a revision that two devices use to notice each other's writes.
note_keys = sa.Table(
    "note_keys",
    metadata,
    sa.Column("account_id", sa.String(100), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),  # JSON of NotesKey: salt, iterations, check_iv, check
    sa.Column("updated_at", sa.String(40), nullable=False),
)

notes = sa.Table(
    "notes",
    metadata,
    sa.Column("account_id", sa.String(100), primary_key=True),
    sa.Column("session_id", sa.String(100), primary_key=True),
    sa.Column("document_id", sa.String(100), primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("iv", sa.String(24), nullable=False),  # base64 of the 12-byte AES-GCM nonce
    sa.Column("ciphertext", sa.Text, nullable=False),  # base64 of the AES-GCM output (the tag included)
    sa.Column("updated_at", sa.String(40), nullable=False),
)
