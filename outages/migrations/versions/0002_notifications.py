"""Notifications: the outbox, delivery attempts and relay confirmations.

Revision ID: 0002_notifications
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_notifications"
down_revision = "0001_core"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedup_key", sa.String(300), nullable=False),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id")),
        sa.Column("record_number", sa.Integer, sa.ForeignKey("records.number")),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text, nullable=False),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("relay", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_at", TS),
        sa.Column("sent_at", TS),
        sa.Column("failed_at", TS),
        sa.Column("last_answer", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("relay_reminded_at", TS),
        sa.Column("relay_escalated_at", TS),
        sa.UniqueConstraint("dedup_key", name="uq_outbox_dedup_key"),
        sa.UniqueConstraint("event_id", "recipient", name="uq_outbox_event_recipient"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_record", "outbox", ["record_number"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id"), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("answer", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Float),
    )
    op.create_index("ix_delivery_attempts_outbox", "delivery_attempts", ["outbox_id"])
    op.create_table(
        "relay_confirmations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id"), nullable=False),
        sa.Column("record_number", sa.Integer, sa.ForeignKey("records.number")),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("confirmed_at", TS, nullable=False),
        sa.Column("remote_addr", sa.String(100), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=False),
        sa.UniqueConstraint("outbox_id", name="uq_relay_confirmations_outbox"),
    )


def downgrade() -> None:
    op.drop_table("relay_confirmations")
    op.drop_index("ix_delivery_attempts_outbox", table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    op.drop_index("ix_outbox_record", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
