"""paper broker: accounts, orders, append-only order events, fills, equity snapshots

Revision ID: 0003
Revises: 0002

Money is stored as decimal TEXT (exact), times as epoch milliseconds. ``paper_order_events``
is the source of truth for orders (replayed on start-up); ``paper_orders`` is a snapshot
kept in the same transaction for quick queries. ``paper_fills.fill_id`` is the primary key,
so a fill can never be booked twice.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),  # cash | margin
        sa.Column("initial_cash", sa.Text, nullable=False),
        sa.Column("config", sa.Text, nullable=False, server_default="{}"),  # fill model, JSON
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "paper_orders",
        sa.Column("order_id", sa.String(40), primary_key=True),
        sa.Column(
            "account_id", sa.Integer,
            sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"), nullable=False,
        ),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("tif", sa.String(4), nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("filled_qty", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("parent_id", sa.String(40)),
        sa.Column("oco_group", sa.String(48)),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_paper_orders_account_state", "paper_orders", ["account_id", "state"])
    op.create_table(
        "paper_order_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "order_id", sa.String(40),
            sa.ForeignKey("paper_orders.order_id", ondelete="CASCADE"), nullable=False,
        ),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),  # JSON of the event's fields
    )
    op.create_index("ix_paper_order_events_order", "paper_order_events", ["order_id", "seq"])
    op.create_index("ix_paper_order_events_account", "paper_order_events", ["account_id", "seq"])
    op.create_table(
        "paper_fills",
        sa.Column("fill_id", sa.String(40), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),  # booking order within the account
        sa.Column(
            "order_id", sa.String(40),
            sa.ForeignKey("paper_orders.order_id", ondelete="CASCADE"), nullable=False,
        ),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("price", sa.Text, nullable=False),
        sa.Column("fee", sa.Text, nullable=False),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.CheckConstraint("qty > 0", name="ck_paper_fills_qty_positive"),
    )
    op.create_index("ix_paper_fills_account", "paper_fills", ["account_id", "seq"])
    op.create_table(
        "paper_equity",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("paper_accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("cash", sa.Text, nullable=False),
        sa.Column("equity", sa.Text, nullable=False),
    )
    op.create_index("ix_paper_equity_account_time", "paper_equity", ["account_id", "time_ms"])


def downgrade() -> None:
    op.drop_table("paper_equity")
    op.drop_table("paper_fills")
    op.drop_table("paper_order_events")
    op.drop_table("paper_orders")
    op.drop_table("paper_accounts")
