"""The contact centre's console (issue 19): people, their sessions, the audit trail; rejected rows keep their words.

`users` (operators and admins), `ops_sessions` (one per sign-in; the store keeps the token's hash only) and
`audit` (one row per action, append-only: triggers refuse UPDATE, DELETE and, on PostgreSQL, TRUNCATE).
Two indexes serve the console's lists (rejected rows, unconfirmed relays).
`submissions.detail` keeps what a rejected row said and the dispatcher's contact, for the console to ring them;
rows rejected before this migration have none until they are read again changed.

Revision ID: 0012_console
Revises: 0011_subscription_ids
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_console"
down_revision = "0011_subscription_ids"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

APPEND_ONLY = "audit is append-only: rows are never changed or deleted"


def upgrade() -> None:
    op.add_column("submissions", sa.Column("detail", sa.JSON))
    op.create_index("ix_submissions_status", "submissions", ["status", "id"])
    op.create_index("ix_outbox_relay", "outbox", ["relay", "status", "sent_at"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("disabled_at", TS),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "ops_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("client", sa.String(100), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_ops_sessions_token"),
    )
    op.create_index("ix_ops_sessions_user", "ops_sessions", ["user_id", "ended_at"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("object", sa.String(300), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_object", "audit", ["object", "id"])
    op.create_index("ix_audit_actor", "audit", ["actor", "id"])
    op.create_index("ix_audit_at", "audit", ["at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
                   f" $$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$")
        op.execute("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit"
                   " FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
        op.execute("CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
                   " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_no_{verb.lower()} BEFORE {verb} ON audit"
                       f" BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")


def downgrade() -> None:
    op.drop_table("audit")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    op.drop_index("ix_ops_sessions_user", table_name="ops_sessions")
    op.drop_table("ops_sessions")
    op.drop_table("users")
    op.drop_index("ix_outbox_relay", table_name="outbox")
    op.drop_index("ix_submissions_status", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("detail")
