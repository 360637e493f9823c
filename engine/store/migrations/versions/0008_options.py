"""options: cached option chains (one row per underlying, the raw quotes as JSON columns)

Revision ID: 0008_options
Revises: 0007_alerts

A chain is written whole, in one statement, with the time it was fetched: the dock shows a
cached chain with its age when the network is down. IVs and Greeks are not stored; they are
recomputed from the quotes (``engine.options.yahoo``).
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_options"
down_revision = "0007_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "option_chains",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),  # "yahoo"
        sa.Column("fetched_at", sa.Integer, nullable=False),  # epoch seconds (UTC)
        sa.Column("as_of", sa.String(10), nullable=False),  # ISO date the quotes belong to
        sa.Column("spot", sa.Float, nullable=False),
        sa.Column("dividend", sa.Float, nullable=False),
        sa.Column("quotes", sa.Text, nullable=False),  # JSON: column name -> list
    )


def downgrade() -> None:
    op.drop_table("option_chains")
