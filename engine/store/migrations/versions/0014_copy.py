"""copy trading: the leaders and strategies this machine copies, and each mirrored trade

Revision ID: 0014_copy
Revises: 0013_strategies

``copy_relationships``: one per leader (a service user) or published strategy being copied
into a local paper account, with its settings (allocation, size multiplier, copy stop-loss
percent, maximum open positions; decimals as text), its status (active, paused, stopped) and
the id of the last published trade it handled (``cursor``).

``copy_links``: what each published trade became here: the local order it placed (or why
none was: skipped, refused), the original trade as JSON, so the Copy trading dock shows every
copied trade next to its original. Closing orders of a copy stop-loss have no original.
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_copy"
down_revision = "0013_strategies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "copy_relationships",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("leader_id", sa.Integer, nullable=True),
        sa.Column("strategy_id", sa.Integer, nullable=True),
        sa.Column("leader_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("allocation", sa.String(40), nullable=False),
        sa.Column("multiplier", sa.String(40), nullable=False),
        sa.Column("stop_loss_pct", sa.String(40), nullable=False),
        sa.Column("max_open", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("cursor", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("stopped_at", sa.Integer, nullable=True),
    )
    op.create_table(
        "copy_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("relationship_id", sa.Integer, sa.ForeignKey("copy_relationships.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("original_id", sa.Integer, nullable=True),
        sa.Column("original", sa.Text, nullable=False, server_default="{}"),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.UniqueConstraint("relationship_id", "original_id", name="uq_copy_links_original"),
    )
    op.create_index("ix_copy_links_relationship", "copy_links", ["relationship_id", "id"])


def downgrade() -> None:
    op.drop_table("copy_links")
    op.drop_table("copy_relationships")
