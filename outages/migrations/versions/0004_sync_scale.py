"""The sync at a year's scale (issue 10).

Revision ID: 0004_sync_scale
Revises: 0003_sheets
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004_sync_scale"
down_revision = "0003_sheets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
