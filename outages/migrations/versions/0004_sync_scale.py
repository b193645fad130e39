"""The sync at a year's scale (issue 10): raw-row fingerprints of submissions, and the pushes the hook has seen.

Revision ID: 0004_sync_scale
Revises: 0003_sheets
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_sync_scale"
down_revision = "0003_sheets"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Empty for submissions stored before: their first sync after the upgrade hashes them once and fills it in.
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("raw_hash", sa.String(32)))
    op.create_table(
        "hook_pushes",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index("ix_hook_pushes_received", "hook_pushes", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_hook_pushes_received", table_name="hook_pushes")
    op.drop_table("hook_pushes")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("raw_hash")
