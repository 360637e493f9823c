"""Alembic environment: runs on the connection that engine.store.db.upgrade hands over.

Migrations are written by hand (op.create_table ...), so no metadata is needed here.
"""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
