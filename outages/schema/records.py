"""The records, the sheet's rows they came from, their events and addresses, and the sync's own tables."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from outages.schema.base import UTCDateTime, metadata

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
    # Migration 0013: "form" or "phone" (entered by the contact centre, 7.8); who rang (private); the operator's
    # public reason for a cancellation or a resolution entered in the console.
    Column("source", String(16), nullable=False, server_default="form"),
    Column("caller", String(200), nullable=False, server_default=""),
    Column("status_reason", Text, nullable=False, server_default=""),
    Index("ix_records_status", "status"),
    # The public lists (outages/records/views.py): each section is a range of one of these, per status and kind.
    Index("ix_records_list_event", "status", "kind", "event_at"),
    Index("ix_records_list_resolved", "status", "resolved_at"),
    Index("ix_records_first_recorded", "first_recorded_at"),
    Index("ix_records_last_changed", "last_changed_at"),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(500), nullable=False),
    # Identity of the sheet row between reads (row number, or the hub's own column once written back).
    Column("row_key", String(200), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    # parse.raw_fingerprint of the cells last read at row_key: unchanged rows skip parsing and hashing.
    Column("raw_hash", String(32)),
    Column("first_recorded_at", UTCDateTime),
    Column("status", String(16), nullable=False),
    Column("action", String(16)),
    Column("record_number", Integer, ForeignKey("records.number")),
    Column("verdict", JSON, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    # A rejected row's own words, for the console (migration 0012): what it was about and the dispatcher's
    # contact, to ring them about the fix. Never public. NULL for accepted rows (the record holds their data).
    Column("detail", JSON),
    UniqueConstraint("row_key", name="uq_submissions_row_key"),
    Index("ix_submissions_hash", "content_hash"),
    # The console's rejected rows awaiting a fix, newest first.
    Index("ix_submissions_status", "status", "id"),
    # A record's form rows, for its story (migration 0013).
    Index("ix_submissions_record", "record_number", "id"),
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
    # «Дані оновлено» and the feeds' newest changes (outages/records/views.py).
    Index("ix_events_created", "created_at"),
    Index("ix_events_at", "at", "id"),
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


# Leases of the worker (outages/worker.py): one row per lock name. Only the holder of "sync" syncs; a lease that
# expired (its worker died) can be taken over.
worker_locks = Table(
    "worker_locks", metadata,
    Column("name", String(50), primary_key=True),
    Column("holder", String(200)),
    Column("acquired_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
)

# Pushes from the form (POST /hooks/form-submitted): while one is unhandled, the worker syncs at once.
sync_requests = Table(
    "sync_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("origin", String(200), nullable=False, default=""),
    Column("handled_at", UTCDateTime),
    Index("ix_sync_requests_handled", "handled_at"),
)


# ---- Issue 10 (sync at scale, migration 0004_sync_scale): tables and columns go here. ----

# Pushes the hook accepted (web/hooks.py), by the SHA-256 of their signed body: the same body again is a replay.
# Rows older than the hook's time window are deleted, since a body that old is refused by its `at` anyway.
hook_pushes = Table(
    "hook_pushes", metadata,
    Column("digest", String(64), primary_key=True),
    Column("at", UTCDateTime, nullable=False),  # the `at` the body carries
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_hook_pushes_received", "received_at"),
)


# ---- Issue 8 (addresses as data, migration 0005_addresses): tables go here. ----
# Each record's «Адреси» as read by outages/places/addresses.py, for search in SQL: one row per house span (lo..hi,
# hi NULL to the end of the street; parity odd/even; a single house's suffix), one row for a whole street (whole),
# one for a street only named, as in a crossing (lo NULL). Rewritten with the record in the sync's transaction.
record_addresses = Table(
    "record_addresses", metadata,
    Column("id", Integer, primary_key=True),
    Column("record_number", Integer, ForeignKey("records.number"), nullable=False),
    Column("position", Integer, nullable=False),  # the street's place in the cell, for showing it back in order
    Column("street_key", String(200), nullable=False),
    Column("street", String(200), nullable=False),
    Column("known", Boolean, nullable=False),
    Column("whole", Boolean, nullable=False),
    Column("lo", Integer),
    Column("hi", Integer),
    Column("parity", String(4)),
    Column("suffix", String(20), nullable=False, default=""),
    Index("ix_record_addresses_street", "street_key", "lo"),
    Index("ix_record_addresses_record", "record_number"),
    # Search looks up the streets records name that the catalogue lacks: an index-only read, not a table scan.
    Index("ix_record_addresses_unknown", "known", "street_key", "street"),
)


# ---- Issue 8 (public pages at scale, migration 0006_pages): tables go here. ----

# A record's districts one per row (records.districts is a JSON list): the public lists filter by district in SQL,
# the same way on SQLite and PostgreSQL, with an index, instead of loading every record. Written by the sync
# (outages/records/districts.py) whenever a record's districts are written.
record_districts = Table(
    "record_districts", metadata,
    Column("record_number", Integer, ForeignKey("records.number"), primary_key=True),
    Column("district", String(200), primary_key=True),
    Index("ix_record_districts_district", "district", "record_number"),
)
