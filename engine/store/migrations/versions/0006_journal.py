"""journal: entries (round trips and what the trader added), edit history, attachments, CSV mappings

Revision ID: 0006_journal
Revises: 0005

Money is TEXT (exact ``Decimal`` strings), floats only for R and MFE/MAE. ``key`` makes
entries idempotent: the same round trip (same source, account and legs) never makes two.
``journal_edits`` is the persisted undo stack (each row one undoable step, the fields
before and after as JSON).
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_journal"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("source", sa.String(20), nullable=False),  # paper | manual | import
        sa.Column("account", sa.String(100), nullable=False, server_default=""),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("direction", sa.String(5), nullable=False),  # long | short
        sa.Column("legs", sa.Text, nullable=False),  # JSON {"entries": [[t, qty, price, fee]…], "exits": …}
        sa.Column("qty", sa.String(40), nullable=False),
        sa.Column("gross_pnl", sa.String(40), nullable=False),
        sa.Column("fees", sa.String(40), nullable=False),
        sa.Column("net_pnl", sa.String(40), nullable=False),
        sa.Column("stop", sa.String(40), nullable=True),
        sa.Column("r_multiple", sa.Float, nullable=True),
        sa.Column("entry_ms", sa.BigInteger, nullable=False),
        sa.Column("exit_ms", sa.BigInteger, nullable=False),
        sa.Column("mfe", sa.Float, nullable=True),
        sa.Column("mae", sa.Float, nullable=True),
        sa.Column("fields", sa.Text, nullable=False),  # JSON: the trader's fields
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_journal_entries_exit", "journal_entries", ["exit_ms"])
    op.create_table(
        "journal_edits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("journal_entries.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("before", sa.Text, nullable=False),
        sa.Column("after", sa.Text, nullable=False),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("undone", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_journal_edits_entry", "journal_edits", ["entry_id"])
    op.create_table(
        "journal_attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("journal_entries.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),  # snapshot | screenshot
        sa.Column("path", sa.Text, nullable=True),
        sa.Column("data", sa.LargeBinary, nullable=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_journal_attachments_entry", "journal_attachments", ["entry_id"])
    op.create_table(
        "journal_mappings",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("mapping", sa.Text, nullable=False),  # JSON ColumnMapping
    )


def downgrade() -> None:
    op.drop_table("journal_mappings")
    op.drop_index("ix_journal_attachments_entry", table_name="journal_attachments")
    op.drop_table("journal_attachments")
    op.drop_index("ix_journal_edits_entry", table_name="journal_edits")
    op.drop_table("journal_edits")
    op.drop_index("ix_journal_entries_exit", table_name="journal_entries")
    op.drop_table("journal_entries")
