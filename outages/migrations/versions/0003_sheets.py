"""Placeholder revision, filled in by its issue's work.

Revision ID: 0003_sheets
Revises: 0002_notifications
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003_sheets"
down_revision = "0002_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
