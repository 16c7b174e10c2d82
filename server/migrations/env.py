"""Alembic environment: runs on the connection `server.database.Database.migrate` hands over."""

from __future__ import annotations

from alembic import context

from server.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through server.database.Database.migrate (or `kyhop migrate`)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
