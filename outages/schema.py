"""The store's tables (SQLAlchemy Core). Alembic migrations in outages/migrations create them; the two must agree,
which tests/test_store.py checks by comparing a migrated database with this metadata."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData()


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; times must be aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def result_processor(self, dialect, coltype):  # noqa: ANN001, ANN201
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return general

        def read(value: str | None) -> datetime | None:
            # SQLite holds what the bind side wrote, «2026-11-30 08:48:28.665106» in UTC: one C call makes the
            # aware datetime, where the general path parsed it naive and then replaced its zone (a feed reads
            # 1,400 of them). Anything else stored there takes the general path, as before.
            if value is not None and len(value) == 26 and value[10] == " ":
                try:
                    return datetime.fromisoformat(value + "+00:00")
                except ValueError:
                    pass
            return general(value)

        return read


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

# Notifications (outages/officials, outages/delivery; migration 0002). One outbox row per message to one recipient,
# rendered when it is queued (in the transaction of the change it tells about), so a retry sends exactly the same
# message.
outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True),
    # What makes a message unique: "event:<id>:<email>", "digest:2026-W47:<email>", "relay-reminder:<id>", …
    Column("dedup_key", String(300), nullable=False),
    Column("event_id", Integer, ForeignKey("events.id")),
    Column("record_number", Integer, ForeignKey("records.number")),
    Column("kind", String(30), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("recipient_name", String(200), nullable=False, default=""),
    Column("role", String(20), nullable=False),
    Column("subject", Text, nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text, nullable=False),
    Column("message_id", String(300), nullable=False),
    # The recipient must confirm relaying it (regulation 7.6–7.7): reminder and escalation run off sent_at.
    Column("relay", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False, default="queued"),  # queued | sending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(100)),
    Column("claimed_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Column("last_answer", Text),
    Column("last_error", Text),
    Column("relay_reminded_at", UTCDateTime),
    Column("relay_escalated_at", UTCDateTime),
    # Issue 11: one queue for every medium. `channel` is email, telegram or webhook; `recipient` holds the address,
    # the chat id or the webhook's name; `payload` what a non-mail transport sends; `peer_ref` what the peer
    # answered that later rows need (a Telegram message id); `depends_on` the row that must be delivered first
    # (an edit or a reply needs its post); `subscription_id` the resident's subscription a row was made for.
    Column("channel", String(16), nullable=False, default="email", server_default="email"),
    Column("payload", JSON),
    Column("peer_ref", String(200)),
    Column("depends_on", Integer),
    Column("subscription_id", Integer),
    # Headers fixed when the message is queued (migration 0008): Date in the city's offset, and In-Reply-To and
    # References naming the first message about the same record to the same recipient, so mail clients thread.
    Column("headers", JSON),
    UniqueConstraint("dedup_key", name="uq_outbox_dedup_key"),
    UniqueConstraint("event_id", "recipient", name="uq_outbox_event_recipient"),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_record", "record_number"),
    Index("ix_outbox_channel_due", "channel", "status", "next_attempt_at"),
    # Requests to relay not yet confirmed (migration 0012): the console's list and the reminders' round.
    Index("ix_outbox_relay", "relay", "status", "sent_at"),
)

# Every try to hand one outbox message to the SMTP server: written before the conversation, completed after it.
delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=False),
    Column("worker", String(100), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("result", String(16), nullable=False),  # sending | sent | deferred | failed | interrupted
    Column("answer", Text),  # the server's final reply, e.g. "250 2.0.0 OK queued as 4F1A"
    Column("error", Text),
    Column("duration_ms", Float),
    Index("ix_delivery_attempts_outbox", "outbox_id"),
    # Attempts in progress (result "sending"): a drain gives its own back at every end, `outages status` lists them.
    Index("ix_delivery_attempts_in_progress", "result", "worker"),
)

# Who confirmed relaying a message (the signed link «Інформацію передано») and when; the first click counts.
relay_confirmations = Table(
    "relay_confirmations", metadata,
    Column("id", Integer, primary_key=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=False),
    Column("record_number", Integer, ForeignKey("records.number")),
    Column("recipient", String(200), nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=False),
    Column("remote_addr", String(100), nullable=False, default=""),
    Column("user_agent", String(300), nullable=False, default=""),
    UniqueConstraint("outbox_id", name="uq_relay_confirmations_outbox"),
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


# ---- Issue 9 (delivery, migration 0007_delivery): tables go here. ----


# ---- Issue 9 (mail words and threads, migration 0008_mail_threads): tables go here. ----
# What a recipient who chose a digest (hourly or daily) will hear of in the next one: one row per change and
# recipient, written instead of an outbox row. The digest mail lists each record's state when it is sent;
# `outbox_id` names that mail, so an item is carried once.
digest_items = Table(
    "digest_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("dedup_key", String(300), nullable=False),  # like the outbox row it stands for: "event:<id>:<email>"
    Column("recipient", String(200), nullable=False),
    Column("recipient_name", String(200), nullable=False, default=""),
    Column("role", String(20), nullable=False),
    Column("record_number", Integer, ForeignKey("records.number"), nullable=False),
    Column("event_id", Integer, ForeignKey("events.id")),
    Column("kind", String(30), nullable=False),
    Column("cadence", String(10), nullable=False),  # hourly | daily
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("outbox_id", Integer, ForeignKey("outbox.id")),
    UniqueConstraint("dedup_key", name="uq_digest_items_dedup_key"),
    Index("ix_digest_items_due", "outbox_id", "due_at"),
)


# ---- Issue 12 (verdicts, migration 0009_verdicts): tables go here. ----


# ---- Issue 11 (subscriptions, migration 0010_subscriptions): tables go here. ----

# Residents' subscriptions by address: medium "email" (target = the address, double opt-in: confirmed_at) or
# "telegram" (target = the chat id, confirmed by the chat itself). `address` is what the resident typed, `street_key`
# and `house` what the city's street matcher made of it. `client` is who signed up (rate limit per client).
subscriptions = Table(
    "subscriptions", metadata,
    Column("id", Integer, primary_key=True),
    Column("medium", String(16), nullable=False),
    Column("target", String(200), nullable=False),
    Column("address", String(300), nullable=False),
    Column("street_key", String(200), nullable=False, default=""),
    Column("house", String(50), nullable=False, default=""),
    Column("services", JSON, nullable=False, default=list),
    Column("client", String(100), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("disabled_at", UTCDateTime),
    UniqueConstraint("medium", "target", "address", name="uq_subscriptions_target_address"),
    Index("ix_subscriptions_street", "street_key"),
    # Ids are never reused (migration 0011): a forgotten subscriber's signed links must not reach the next one.
    sqlite_autoincrement=True,
)

# Sign-ups on /subscribe by client address, for the hourly limit per client (kept 7 days, like unconfirmed ones).
subscribe_requests = Table(
    "subscribe_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("client", String(100), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_subscribe_requests_client", "client", "at"),
)

# Events whose per-subscriber messages are still to be written (outages/residents/fanout.py): the sync writes a row
# here, never the thousand messages, so a popular street cannot lengthen a sync.
fanouts = Table(
    "fanouts", metadata,
    Column("event_id", Integer, ForeignKey("events.id"), primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    Index("ix_fanouts_pending", "done_at"),
)

# Telegram updates the bot has handled, committed with their effects: a crash before the commit replays the
# update, after it never.
bot_updates = Table(
    "bot_updates", metadata,
    Column("update_id", Integer, primary_key=True, autoincrement=False),
    Column("chat_id", String(50), nullable=False, default=""),
    Column("handled_at", UTCDateTime, nullable=False),
)


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


# ---- Issue 20 (residents' reports, migration 0015_reports): tables go here. ----

# A resident's report (seed 002; seed 000 §4–5), through /report, the bot, Open311 or the phone. `token` is the
# reporter's handle before moderation (Open311's token, the status link); `id` is the public service_request_id,
# shown only once `public`. status: pending (awaiting moderation) → open → closed, or rejected (never public,
# 4.4.3); `note` holds the public words of the status («Повідомлення взято до розгляду: №12»). The contact (email,
# name, phone, chat_id, client) is for the utility and the reporter's own news, never public; it is erased
# `reports.keep_contacts_days` after closing (`erased_at`).
reports = Table(
    "reports", metadata,
    Column("id", Integer, primary_key=True),
    Column("token", String(64), nullable=False),
    Column("source", String(16), nullable=False),  # web | bot | open311 | phone
    Column("service_code", String(40), nullable=False),
    Column("address", String(300), nullable=False),  # as typed
    Column("street_key", String(200), nullable=False, default=""),
    Column("street", String(200), nullable=False, default=""),  # its name, as the answer says it
    Column("house", Integer),
    Column("suffix", String(20), nullable=False, default=""),
    Column("districts", JSON, nullable=False, default=list),  # the districts the street runs through
    Column("description", Text, nullable=False, default=""),
    Column("email", String(254), nullable=False, default=""),
    Column("name", String(200), nullable=False, default=""),
    Column("phone", String(100), nullable=False, default=""),
    Column("chat_id", String(50), nullable=False, default=""),
    Column("client", String(100), nullable=False, default=""),
    Column("email_confirmed_at", UTCDateTime),
    Column("status", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("public", Boolean, nullable=False, default=False),
    Column("record_number", Integer, ForeignKey("records.number")),
    Column("unmoderated", Boolean, nullable=False, default=False),  # an SOS report forwarded at night
    # When a person of the contact centre first decided on it: until then a report public through its record
    # (known first, or taken by a later record) shows its status but not the resident's own words.
    Column("checked_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("forwarded_at", UTCDateTime),
    Column("take_due_at", UTCDateTime),  # forwarded and not taken by then: control is told (5.1)
    Column("taken_at", UTCDateTime),
    Column("late_told_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("erased_at", UTCDateTime),
    UniqueConstraint("token", name="uq_reports_token"),
    Index("ix_reports_status", "status", "id"),
    Index("ix_reports_public", "public", "updated_at"),
    Index("ix_reports_street", "street_key", "service_code", "created_at"),
    Index("ix_reports_record", "record_number"),
    Index("ix_reports_take_due", "taken_at", "take_due_at"),
    Index("ix_reports_client", "client", "created_at"),
    Index("ix_reports_email", "email"),
    Index("ix_reports_closed", "erased_at", "closed_at"),
    sqlite_autoincrement=True,  # a service_request_id is never given twice
)

# «Можлива аварія» (reports.crowd_min reports of one service on one street, no record covering them): one row per
# street, service and window, so the signal is raised once; `anchor` is the first report of the crowd.
report_signals = Table(
    "report_signals", metadata,
    Column("id", Integer, primary_key=True),
    Column("street_key", String(200), nullable=False),
    Column("street", String(200), nullable=False),
    Column("service_code", String(40), nullable=False),
    Column("anchor", Integer, ForeignKey("reports.id"), nullable=False),
    Column("reports", Integer, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    UniqueConstraint("street_key", "service_code", "anchor", name="uq_report_signals_crowd"),
    Index("ix_report_signals_raised", "street_key", "service_code", "raised_at"),
)

# ---- Issue 20, the bot's /report (migration 0016_bot_report): tables go here. ----

# A resident's /report conversation in the bot, one row per chat, kept in the store so a worker restart does not
# lose it: the step the bot asked last (service | address | description) and what was answered before it. Deleted
# when the report is taken or the conversation is cancelled; a row idle past the bot's DIALOG_IDLE is forgotten.
bot_dialogs = Table(
    "bot_dialogs", metadata,
    Column("chat_id", String(50), primary_key=True),
    Column("step", String(16), nullable=False),
    Column("service_code", String(40), nullable=False, default=""),
    Column("address", String(300), nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_bot_dialogs_updated", "updated_at"),
)
