"""Alembic environment: runs on the connection that engine.store.db.upgrade hands over.

That connection is already inside one ``BEGIN IMMEDIATE`` transaction, so Alembic opens
none of its own (an external transaction): every migration and the ``alembic_version``
stamp commit together when ``upgrade`` commits, or not at all.

Migrations are written by hand (op.create_table ...), so no metadata is needed here.
"""
from alembic import context

connection = context.config.attributes["connection"]
if not connection.in_transaction():  # pragma: no cover - upgrade() always begins one
    raise RuntimeError("migrations must run inside the caller's transaction")
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
