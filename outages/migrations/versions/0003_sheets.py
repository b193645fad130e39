"""Live sync: the worker's lock and the form's push requests.

Revision ID: 0003_sheets
Revises: 0002_notifications
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_sheets"
down_revision = "0002_notifications"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    locks = op.create_table(
        "worker_locks",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("holder", sa.String(200)),
        sa.Column("acquired_at", TS),
        sa.Column("expires_at", TS),
    )
    # The row exists from the start, so taking the lock is always one conditional UPDATE (no insert race).
    op.bulk_insert(locks, [{"name": "sync", "holder": None, "acquired_at": None, "expires_at": None}])
    op.create_table(
        "sync_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("handled_at", TS),
    )
    op.create_index("ix_sync_requests_handled", "sync_requests", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_sync_requests_handled", table_name="sync_requests")
    op.drop_table("sync_requests")
    op.drop_table("worker_locks")
