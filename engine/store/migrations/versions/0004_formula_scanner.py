"""formula and scanner: custom indicators, scan presets, scan run history

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_indicators",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("expression", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.String(40), nullable=False),  # ISO-8601 UTC
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "scan_presets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("definition", sa.Text, nullable=False),  # JSON (ScanDefinition.to_json)
        sa.Column("builtin", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "scan_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scan_key", sa.String(2000), nullable=False),  # preset name, or the formula
        sa.Column("universe", sa.String(200), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),  # the formula text that ran
        sa.Column("ran_at", sa.String(40), nullable=False),  # ISO-8601 UTC
        sa.Column("symbols", sa.Text, nullable=False),  # JSON list of matching symbols
    )
    op.create_index("ix_scan_runs_key_universe_time", "scan_runs", ["scan_key", "universe", "ran_at"])


def downgrade() -> None:
    op.drop_index("ix_scan_runs_key_universe_time", table_name="scan_runs")
    op.drop_table("scan_runs")
    op.drop_table("scan_presets")
    op.drop_table("custom_indicators")
