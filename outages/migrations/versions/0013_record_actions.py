"""The console's record actions (issue 19): a record knows where it came from and why it was closed.

`records.source` is "form" (a row of the response sheet) or "phone" (entered by the contact centre, regulation
7.8); `records.caller` is who rang in a phone report (private, like the dispatcher's contact); `records.status_reason`
is the operator's public reason for a cancellation or a resolution entered in the console.

Revision ID: 0013_record_actions
Revises: 0012_console
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_record_actions"
down_revision = "0012_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="form"))
        batch.add_column(sa.Column("caller", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("status_reason", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("status_reason")
        batch.drop_column("caller")
        batch.drop_column("source")
