"""The contact centre's console: people, their sessions, and the audit trail."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from outages.schema.base import UTCDateTime, metadata

# ---- Issue 19 (the contact centre's console, migration 0012_console): tables go here. ----

# The people who sign in to /ops: operators, and admins who also manage people. `email` is stored lower-cased (the
# one form every lookup uses), so two spellings of one address cannot be two accounts. Nobody is deleted: a person
# who leaves is disabled, and the audit trail keeps naming them.
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False),
    Column("role", String(16), nullable=False),  # operator | admin
    Column("password_hash", String(200), nullable=False),  # argon2id, in its PHC string form
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    UniqueConstraint("email", name="uq_users_email"),
    sqlite_autoincrement=True,  # an id is never given twice: sessions and the audit name people by it
)

# One row per sign-in on /ops. The browser holds a random token (in the signed session cookie); the store keeps
# only its SHA-256, so a copy of the database opens no session. A session ends at logout, when its person is
# disabled, or after `ops_session_minutes` without a request (checked here, against the hub's clock).
ops_sessions = Table(
    "ops_sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("client", String(100), nullable=False, default=""),
    UniqueConstraint("token_hash", name="uq_ops_sessions_token"),
    Index("ix_ops_sessions_user", "user_id", "ended_at"),
)

# What people did, one row per action (mysociety/fixmystreet's admin_log): who (`actor`: a person's e-mail,
# "cli:<os user>", "anonymous"), what (`action`: login, login_failed, user_add, record_cancel…), to what (`object`:
# "user:<email>", "record:<n>", "outbox:<id>"), why, and the object before and after. Append-only: triggers of
# migration 0012 refuse UPDATE and DELETE, and nothing in the hub deletes a row.
audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(254), nullable=False),
    Column("action", String(40), nullable=False),
    Column("object", String(300), nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("before", JSON),
    Column("after", JSON),
    # A record's story (and a person's sign-in failures), a person's actions, a day: each a range of one index,
    # newest first by id.
    Index("ix_audit_object", "object", "id"),
    Index("ix_audit_actor", "actor", "id"),
    Index("ix_audit_at", "at", "id"),
    sqlite_autoincrement=True,
)
