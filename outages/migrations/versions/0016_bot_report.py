"""The bot's /report conversation (issue 20): one row per chat in the middle of a report.

Revision ID: 0016_bot_report
Revises: 0015_reports
"""

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)

revision = "0016_bot_report"
down_revision = "0015_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_dialogs",
        sa.Column("chat_id", sa.String(50), primary_key=True),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("service_code", sa.String(40), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_bot_dialogs_updated", "bot_dialogs", ["updated_at"])


def downgrade() -> None:
    op.drop_table("bot_dialogs")
