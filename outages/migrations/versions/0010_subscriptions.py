"""Telegram channel, bot, webhooks and e-mail subscriptions (issue 11).

The outbox becomes the one queue of every medium (a `channel` column, a JSON payload, the peer's reference, a
dependency between rows); residents' subscriptions, pending fan-outs and the bot's handled updates are new tables.

Revision ID: 0010_subscriptions
Revises: 0009_verdicts
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_subscriptions"
down_revision = "0009_verdicts"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="email"))
        batch.add_column(sa.Column("payload", sa.JSON))
        batch.add_column(sa.Column("peer_ref", sa.String(200)))
        batch.add_column(sa.Column("depends_on", sa.Integer))
        batch.add_column(sa.Column("subscription_id", sa.Integer))
    op.create_index("ix_outbox_channel_due", "outbox", ["channel", "status", "next_attempt_at"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("medium", sa.String(16), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("street_key", sa.String(200), nullable=False),
        sa.Column("house", sa.String(50), nullable=False),
        sa.Column("services", sa.JSON, nullable=False),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("confirmed_at", TS),
        sa.Column("disabled_at", TS),
        sa.UniqueConstraint("medium", "target", "address", name="uq_subscriptions_target_address"),
    )
    op.create_index("ix_subscriptions_street", "subscriptions", ["street_key"])
    op.create_table(
        "subscribe_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_subscribe_requests_client", "subscribe_requests", ["client", "at"])
    op.create_table(
        "fanouts",
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), primary_key=True, autoincrement=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("done_at", TS),
    )
    op.create_index("ix_fanouts_pending", "fanouts", ["done_at"])
    op.create_table(
        "bot_updates",
        sa.Column("update_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("chat_id", sa.String(50), nullable=False),
        sa.Column("handled_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_updates")
    op.drop_index("ix_fanouts_pending", table_name="fanouts")
    op.drop_table("fanouts")
    op.drop_index("ix_subscribe_requests_client", table_name="subscribe_requests")
    op.drop_table("subscribe_requests")
    op.drop_index("ix_subscriptions_street", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_outbox_channel_due", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        for name in ("subscription_id", "depends_on", "peer_ref", "payload", "channel"):
            batch.drop_column(name)
