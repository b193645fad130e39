"""Residents' reports (seed 002) and the crowd signals they raise."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from outages.schema.base import UTCDateTime, metadata

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
