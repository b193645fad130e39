"""Mail delivery that cannot stall the hub (issue 9, delivery).

Revision ID: 0007_delivery
Revises: 0006_pages
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007_delivery"
down_revision = "0006_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
