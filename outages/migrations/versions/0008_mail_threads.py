"""Mail words, portfolios, digests, threads (issue 9, words).

Revision ID: 0008_mail_threads
Revises: 0007_delivery
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_mail_threads"
down_revision = "0007_delivery"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("outbox", sa.Column("headers", sa.JSON))
    op.create_table(
        "digest_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedup_key", sa.String(300), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("record_number", sa.Integer, sa.ForeignKey("records.number"), nullable=False),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id")),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("cadence", sa.String(10), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id")),
        sa.UniqueConstraint("dedup_key", name="uq_digest_items_dedup_key"),
    )
    op.create_index("ix_digest_items_due", "digest_items", ["outbox_id", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_digest_items_due", table_name="digest_items")
    op.drop_table("digest_items")
    with op.batch_alter_table("outbox") as batch:  # SQLite drops a column by rebuilding the table
        batch.drop_column("headers")
