"""Public pages at scale (issue 8, pages).

Revision ID: 0006_pages
Revises: 0005_addresses
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006_pages"
down_revision = "0005_addresses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
