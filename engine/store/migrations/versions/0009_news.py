"""news: stored headlines with sentiment and read state, the symbols they are about, feeds

Revision ID: 0009_news
Revises: 0008_options

A headline is stored once: ``url_key`` and ``title_key`` (normalised URL and title,
``engine.news.model``) are unique, so the same story fetched again, for another symbol or
from another outlet, adds only its symbols.
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_news"
down_revision = "0008_options"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "news",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("url_key", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("title_key", sa.Text, nullable=False, unique=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),  # yahoo | rss | demo
        sa.Column("published_at", sa.Integer, nullable=False),  # UTC epoch s
        sa.Column("fetched_at", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False, server_default=""),
        sa.Column("compound", sa.Float, nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("read_at", sa.Integer, nullable=True),
    )
    op.create_index("ix_news_published", "news", ["published_at"])
    op.create_table(
        "news_symbols",
        sa.Column("news_id", sa.Integer, sa.ForeignKey("news.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("symbol", sa.String(32), primary_key=True),
    )
    op.create_index("ix_news_symbols_symbol", "news_symbols", ["symbol"])
    op.create_table(
        "news_feeds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("symbols", sa.Text, nullable=False, server_default=""),  # comma-separated
        sa.Column("added_at", sa.Integer, nullable=False),
        sa.Column("last_ok_at", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("news_feeds")
    op.drop_index("ix_news_symbols_symbol", table_name="news_symbols")
    op.drop_table("news_symbols")
    op.drop_index("ix_news_published", table_name="news")
    op.drop_table("news")
