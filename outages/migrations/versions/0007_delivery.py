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
    # Attempts in progress: every drain gives its own back when it ends, `outages status` lists them; without an
    # index each would read the whole (ever-growing) attempt history.
    op.create_index("ix_delivery_attempts_in_progress", "delivery_attempts", ["result", "worker"])


def downgrade() -> None:
    op.drop_index("ix_delivery_attempts_in_progress", table_name="delivery_attempts")
