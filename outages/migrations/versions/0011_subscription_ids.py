"""Subscription ids are never reused (issue 22).

SQLite gives a new row the largest id + 1, so after the newest subscriber was forgotten the next sign-up got
that id, and the forgotten person's signed manage/unsubscribe links (and the bot's /remove_N) acted on the new
subscriber. AUTOINCREMENT makes SQLite remember the largest id ever given (sqlite_sequence). PostgreSQL's
sequences never go back: nothing to do there.

Ids forgotten before this migration above the largest one still stored cannot be known any more; the sequence
starts past the largest id any table still names.

Revision ID: 0011_subscription_ids
Revises: 0010_subscriptions
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_subscription_ids"
down_revision = "0010_subscriptions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    # The table is rebuilt as AUTOINCREMENT, rows, indexes and the unique key kept.
    with op.batch_alter_table("subscriptions", recreate="always",
                              table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("id", existing_type=sa.Integer, autoincrement=True)
    highest = bind.execute(sa.text(
        "SELECT max(m) FROM (SELECT max(id) AS m FROM subscriptions"
        " UNION ALL SELECT max(subscription_id) FROM outbox)")).scalar()
    if highest:
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'subscriptions'"))
        bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('subscriptions', :seq)"),
                     {"seq": highest})


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("subscriptions", recreate="always",
                              table_kwargs={"sqlite_autoincrement": False}) as batch:
        batch.alter_column("id", existing_type=sa.Integer, autoincrement=True)
