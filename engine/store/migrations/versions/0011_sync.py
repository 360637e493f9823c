"""sync: the offline outbox of writes to the service, the cache of pulled items, pull cursors

Revision ID: 0011_sync
Revises: 0010_drawings

``sync_outbox``: one row per write not yet delivered, in order (``id``); ``idem_key`` is the
``Idempotency-Key`` it is always sent with, so a retry after a lost answer applies once.
``account`` (service URL + e-mail) keeps one user's writes from being sent as another's.
``sync_cache``: the latest pulled (or locally written) state of each item, readable offline.
``sync_cursors``: where the next pull of an account starts (server time + id tie-break).
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_sync"
down_revision = "0010_drawings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(400), nullable=False),
        sa.Column("idem_key", sa.String(64), nullable=False, unique=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=True),  # JSON, NULL for a DELETE
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try", sa.Float, nullable=False, server_default="0"),  # epoch seconds
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),  # refused for good
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_sync_outbox_account", "sync_outbox", ["account", "id"])
    op.create_table(
        "sync_cache",
        sa.Column("account", sa.String(400), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),  # JSON
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),  # 0 = not yet on the service
        sa.Column("updated_at", sa.String(40), nullable=False, server_default=""),  # the service's ISO time
    )
    op.create_table(
        "sync_cursors",
        sa.Column("account", sa.String(400), primary_key=True),
        sa.Column("updated_after", sa.String(40), nullable=False, server_default=""),
        sa.Column("after_id", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_sync_at", sa.Float, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("sync_cursors")
    op.drop_table("sync_cache")
    op.drop_index("ix_sync_outbox_account", table_name="sync_outbox")
    op.drop_table("sync_outbox")
