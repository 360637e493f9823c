"""bars: the bar cache (series + packed column chunks) and the symbol directory

Revision ID: 0002
Revises: 0001

Bars are stored in chunks, not one row per bar: ``bar_chunks.data`` holds up to
``engine.data.bar_store.CHUNK_BARS`` bars as packed little-endian columns (int64 time,
then float64 open, high, low, close, volume). Loading a million bars is then a handful
of blob reads and ``numpy.frombuffer`` calls instead of a million Python row objects.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "symbols",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("exchange", sa.String(50), nullable=False, server_default=""),
        sa.Column("sector", sa.String(100), nullable=False, server_default=""),
        sa.Column("source", sa.String(20), nullable=False, server_default=""),
    )
    op.create_table(
        "bar_series",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("first_ts", sa.BigInteger, nullable=False),
        sa.Column("last_ts", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("symbol", "timeframe", name="uq_bar_series_symbol_timeframe"),
    )
    op.create_table(
        "bar_chunks",
        sa.Column(
            "series_id",
            sa.Integer,
            sa.ForeignKey("bar_series.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("first_ts", sa.BigInteger, nullable=False),
        sa.Column("last_ts", sa.BigInteger, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("series_id", "seq", name="pk_bar_chunks"),
    )


def downgrade() -> None:
    op.drop_table("bar_chunks")
    op.drop_table("bar_series")
    op.drop_table("symbols")
