"""Residents' reports (issue 20): the reports and the crowd signals raised from them.

Revision ID: 0015_reports
Revises: 0014_record_story
"""

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)

revision = "0015_reports"
down_revision = "0014_record_story"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("service_code", sa.String(40), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("street_key", sa.String(200), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("house", sa.Integer),
        sa.Column("suffix", sa.String(20), nullable=False),
        sa.Column("districts", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(100), nullable=False),
        sa.Column("chat_id", sa.String(50), nullable=False),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("email_confirmed_at", TS),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("record_number", sa.Integer, sa.ForeignKey("records.number")),
        sa.Column("unmoderated", sa.Boolean, nullable=False),
        sa.Column("checked_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("forwarded_at", TS),
        sa.Column("take_due_at", TS),
        sa.Column("taken_at", TS),
        sa.Column("late_told_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("erased_at", TS),
        sa.UniqueConstraint("token", name="uq_reports_token"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reports_status", "reports", ["status", "id"])
    op.create_index("ix_reports_public", "reports", ["public", "updated_at"])
    op.create_index("ix_reports_street", "reports", ["street_key", "service_code", "created_at"])
    op.create_index("ix_reports_record", "reports", ["record_number"])
    op.create_index("ix_reports_take_due", "reports", ["taken_at", "take_due_at"])
    op.create_index("ix_reports_client", "reports", ["client", "created_at"])
    op.create_index("ix_reports_email", "reports", ["email"])
    op.create_index("ix_reports_closed", "reports", ["erased_at", "closed_at"])
    op.create_table(
        "report_signals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("street_key", sa.String(200), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("service_code", sa.String(40), nullable=False),
        sa.Column("anchor", sa.Integer, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("reports", sa.Integer, nullable=False),
        sa.Column("raised_at", TS, nullable=False),
        sa.UniqueConstraint("street_key", "service_code", "anchor", name="uq_report_signals_crowd"),
    )
    op.create_index("ix_report_signals_raised", "report_signals", ["street_key", "service_code", "raised_at"])


def downgrade() -> None:
    op.drop_table("report_signals")
    op.drop_table("reports")
