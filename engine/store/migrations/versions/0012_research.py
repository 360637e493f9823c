"""research: strategies saved from the Optimizer ("Use these parameters")

Revision ID: 0012_research
Revises: 0011_sync

One row per saved strategy: its unique name, the entry/exit formulas with the chosen
parameter values written in, the parameters (JSON), the universe and portfolio rules it was
optimised on, the objective and the metrics it reached (JSON), and when it was saved.
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_research"
down_revision = "0011_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "research_strategies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("entry", sa.Text, nullable=False),
        sa.Column("exit", sa.Text, nullable=True),
        sa.Column("entry_template", sa.Text, nullable=False),
        sa.Column("exit_template", sa.Text, nullable=True),
        sa.Column("params", sa.Text, nullable=False),  # JSON {name: value}
        sa.Column("universe", sa.String(200), nullable=False, server_default=""),
        sa.Column("rules", sa.Text, nullable=False, server_default="{}"),  # JSON: sizing, max_positions, qty, cash
        sa.Column("objective", sa.String(200), nullable=False, server_default=""),
        sa.Column("metrics", sa.Text, nullable=False, server_default="{}"),  # JSON
        sa.Column("created_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("research_strategies")
