"""Residents' subscriptions by house, their fan-out, and the bot's updates and conversations."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from outages.schema.base import UTCDateTime, metadata

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
