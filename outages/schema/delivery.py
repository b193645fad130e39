"""Officials' mail: the outbox, each try to send, relay confirmations, digests."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from outages.schema.base import UTCDateTime, metadata

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
