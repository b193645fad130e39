"""Addresses as data and the street catalogue (issue 8, search).

Revision ID: 0005_addresses
Revises: 0004_sync_scale
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005_addresses"
down_revision = "0004_sync_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
