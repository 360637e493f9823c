"""drawings: chart drawings per symbol (engine.charts.drawings.DrawingStore)

Revision ID: 0010_drawings
Revises: 0009_news

One row per drawing: its id, the symbol it belongs to, its place in the drawing order and
its JSON definition (``Drawing.to_dict``). Anchors are (time, price), so a symbol's drawings
show on every timeframe.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_drawings"
down_revision = "0009_news"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chart_drawings",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("definition", sa.Text, nullable=False),  # JSON (Drawing.to_dict)
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_chart_drawings_symbol", "chart_drawings", ["symbol", "seq"])


def downgrade() -> None:
    op.drop_index("ix_chart_drawings_symbol", table_name="chart_drawings")
    op.drop_table("chart_drawings")
