"""Mail words, portfolios, digests, threads (issue 9, words).

Revision ID: 0008_mail_threads
Revises: 0007_delivery
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008_mail_threads"
down_revision = "0007_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
