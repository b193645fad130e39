"""A record's whole story (issue 19, `outages record N`, later /ops/records/<n>): the form rows that made or changed
a record are read by its number (`ix_submissions_record`). Without this index that read was a scan of every
submission a year's sheet left.

Revision ID: 0014_record_story
Revises: 0013_record_actions
"""

from alembic import op

revision = "0014_record_story"
down_revision = "0013_record_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submissions_record", "submissions", ["record_number", "id"])


def downgrade() -> None:
    op.drop_index("ix_submissions_record", table_name="submissions")
