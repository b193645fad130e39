"""The store's tables (SQLAlchemy Core). Alembic migrations in outages/migrations create them; the two must agree,
which tests/test_store.py checks by comparing a migrated database with this metadata."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
    TypeDecorator, UniqueConstraint,
)

metadata = MetaData()


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; times must be aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


records = Table(
    "records", metadata,
    # The record number dispatchers type into «Номер повідомлення»: assigned by the hub, 1, 2, 3…
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("executor", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("service", String(100), nullable=False),
    Column("districts", JSON, nullable=False),
    Column("addresses", Text, nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("cause", Text, nullable=False, default=""),
    Column("impact", Text, nullable=False, default=""),
    Column("event_at", UTCDateTime, nullable=False),
    Column("expected_end", UTCDateTime),
    # Regulation 7.4.5: the moment of entry. The first one counts: an edit later does not make a record late.
    Column("first_recorded_at", UTCDateTime, nullable=False),
    Column("last_changed_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("resolved_at", UTCDateTime),
    Column("deadline_met", Boolean, nullable=False),
    Column("delay_minutes", Float),
    Column("lead_hours", Float),
    # Never public: for officials and the contact centre only.
    Column("contact_name", String(200), nullable=False, default=""),
    Column("contact_phone", String(100), nullable=False, default=""),
    Column("reporter_email", String(200), nullable=False, default=""),
    Column("revision", Integer, nullable=False, default=1),
    # The expected end for which "overdue" was already raised, so it is raised once per expected end.
    Column("overdue_for", UTCDateTime),
    Index("ix_records_status", "status"),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(500), nullable=False),
    # Identity of the sheet row between reads (row number, or the hub's own column once written back).
    Column("row_key", String(200), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("first_recorded_at", UTCDateTime),
    Column("status", String(16), nullable=False),
    Column("action", String(16)),
    Column("record_number", Integer, ForeignKey("records.number")),
    Column("verdict", JSON, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("row_key", name="uq_submissions_row_key"),
    Index("ix_submissions_hash", "content_hash"),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True),
    Column("record_number", Integer, ForeignKey("records.number"), nullable=False),
    # created, edited, updated, resolved, breach, overdue
    Column("kind", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_events_record", "record_number", "id"),
)

sync_runs = Table(
    "sync_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(500), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("ok", Boolean),
    Column("counts", JSON, nullable=False),
    Column("error", Text),
)
