"""One verdict everywhere (issue 12).

Revision ID: 0009_verdicts
Revises: 0008_mail_threads
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009_verdicts"
down_revision = "0008_mail_threads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
