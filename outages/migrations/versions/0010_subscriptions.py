"""Telegram channel, bot, webhooks and e-mail subscriptions (issue 11).

Revision ID: 0010_subscriptions
Revises: 0009_verdicts
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0010_subscriptions"
down_revision = "0009_verdicts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
