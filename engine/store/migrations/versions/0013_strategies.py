"""strategies: the user's strategies (rules, category, sharing state, last published results)

Revision ID: 0013_strategies
Revises: 0012_research

One row per strategy: unique name, category, description, the rules as the service's JSON
(entry/exit formulas, sizing, stops, timeframe, universe), its id on the service once
published (``remote_id``) and the service id it was cloned from (``parent_remote_id``), its
visibility there, and the last results (JSON: backtest and live runs, cents).
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_strategies"
down_revision = "0012_research"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "strategies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("rules", sa.Text, nullable=False),
        sa.Column("remote_id", sa.Integer, nullable=True),
        sa.Column("parent_remote_id", sa.Integer, nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False, server_default="private"),
        sa.Column("results", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("strategies")
