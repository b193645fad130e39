"""The core: records, the submissions that made them, their events, and sync runs.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("executor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("districts", sa.JSON, nullable=False),
        sa.Column("addresses", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("cause", sa.Text, nullable=False),
        sa.Column("impact", sa.Text, nullable=False),
        sa.Column("event_at", TS, nullable=False),
        sa.Column("expected_end", TS),
        sa.Column("first_recorded_at", TS, nullable=False),
        sa.Column("last_changed_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolved_at", TS),
        sa.Column("deadline_met", sa.Boolean, nullable=False),
        sa.Column("delay_minutes", sa.Float),
        sa.Column("lead_hours", sa.Float),
        sa.Column("contact_name", sa.String(200), nullable=False),
        sa.Column("contact_phone", sa.String(100), nullable=False),
        sa.Column("reporter_email", sa.String(200), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("overdue_for", TS),
    )
    op.create_index("ix_records_status", "records", ["status"])
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("row_key", sa.String(200), nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("first_recorded_at", TS),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16)),
        sa.Column("record_number", sa.Integer, sa.ForeignKey("records.number")),
        sa.Column("verdict", sa.JSON, nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.UniqueConstraint("row_key", name="uq_submissions_row_key"),
    )
    op.create_index("ix_submissions_hash", "submissions", ["content_hash"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_number", sa.Integer, sa.ForeignKey("records.number"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_events_record", "events", ["record_number", "id"])
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("ok", sa.Boolean),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("sync_runs")
    op.drop_table("events")
    op.drop_table("submissions")
    op.drop_table("records")
