"""alerts: templates, per-(alert, symbol) trigger state, trigger history, deliveries

Revision ID: 0007_alerts
Revises: 0006_journal

The state table is what makes a restart resume without a duplicate notification: the last
bar each (alert, symbol) fired on and its cooldown are written in the same transaction as
the history row and its pending deliveries (``engine.alerts.store.AlertStore.record``).
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_alerts"
down_revision = "0006_journal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),  # JSON (AlertTemplate.to_json)
        sa.Column("done_at", sa.Integer, nullable=True),  # a "once" alert that triggered (epoch s)
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "alert_state",
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("last_fired_at", sa.Integer, nullable=True),
        sa.Column("last_bar_time", sa.Integer, nullable=True),
        sa.Column("cooldown_until", sa.Integer, nullable=True),
        sa.Column("snoozed_until", sa.Integer, nullable=True),
    )
    op.create_table(
        "alert_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("alert_name", sa.String(200), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("fired_at", sa.Integer, nullable=False),
        sa.Column("bar_time", sa.Integer, nullable=False),
        sa.Column("values_json", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("acknowledged_at", sa.Integer, nullable=True),
        sa.Column("snoozed_until", sa.Integer, nullable=True),
    )
    op.create_index("ix_alert_history_fired", "alert_history", ["fired_at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("history_id", sa.Integer, sa.ForeignKey("alert_history.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),  # app | webhook | email | sms
        sa.Column("status", sa.String(16), nullable=False),  # pending | sent | failed
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_alert_deliveries_status", "alert_deliveries", ["status", "next_try_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_status", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alert_history_fired", table_name="alert_history")
    op.drop_table("alert_history")
    op.drop_table("alert_state")
    op.drop_table("alerts")
