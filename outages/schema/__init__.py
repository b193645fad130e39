"""The store's tables (SQLAlchemy Core), one module per concern; every table belongs to one `metadata`. Alembic
migrations in outages/migrations create them; the two must agree, which tests/test_store.py checks by comparing a
migrated database with this metadata."""

from outages.schema.base import UTCDateTime, metadata
from outages.schema.console import audit, ops_sessions, users
from outages.schema.delivery import delivery_attempts, digest_items, outbox, relay_confirmations
from outages.schema.records import (
    events,
    hook_pushes,
    record_addresses,
    record_districts,
    records,
    submissions,
    sync_requests,
    sync_runs,
    worker_locks,
)
from outages.schema.reports import report_signals, reports
from outages.schema.residents import bot_dialogs, bot_updates, fanouts, subscribe_requests, subscriptions

__all__ = [
    "UTCDateTime", "metadata", "records", "submissions", "events", "sync_runs", "worker_locks", "sync_requests",
    "hook_pushes", "record_addresses", "record_districts", "outbox", "delivery_attempts", "relay_confirmations",
    "digest_items", "subscriptions", "subscribe_requests", "fanouts", "bot_updates", "bot_dialogs", "users",
    "ops_sessions", "audit", "reports", "report_signals",
]
