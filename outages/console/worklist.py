"""The day's work of the contact centre, read from the store for /ops: rejected rows awaiting a fix (emergencies
first; one that a later row filed again waits no more, records/fixes.py), emergencies past their term, relays not
confirmed within the hour, messages that could not be delivered; residents' crowd signals and the reports waiting
for moderation (issue 20).

Each list is a slice: the newest `limit` of it and how many there are, each one or two range reads of an index, so
the page costs the same with 5,000 active records and 50,000 stored as with ten. What is here is private (the
dispatchers' contacts, officials' addresses): only the console shows it. Residents' addresses are never shown,
only the number of their subscription.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from outages.officials.directory import ROLE_UK
from outages.records import fixes, verdict
from outages.records.planner import PARKED, Decision
from outages.records.state import live
from outages.records.views import RecordView, page_records, records_by_number
from outages.schema import outbox, records, relay_confirmations, report_signals, reports, submissions
from outages.settings import Rules
from outages.times import stored_utc

LIMIT = 25
GONE = PARKED + "%"  # a row the sheet no longer holds: nobody can fix it there


@dataclass(frozen=True)
class Slice:
    total: int
    items: list[Any]


@dataclass(frozen=True)
class Rejected:
    id: int
    source: str
    row: int
    verdict: str
    first_seen_at: datetime
    last_seen_at: datetime
    detail: dict[str, Any]  # what the row said and the dispatcher's contact ({} for rows rejected before 0012)

    @property
    def emergency(self) -> bool:
        return self.detail.get("kind") == "emergency"

    @property
    def recorded_at(self) -> datetime | None:
        stamp = self.detail.get("recorded_at")
        return stored_utc(stamp) if stamp else None


@dataclass(frozen=True)
class Overdue:
    record: RecordView
    past_term: timedelta  # since the term to fix passed
    age: timedelta  # since the event: the record's true age


@dataclass(frozen=True)
class Relay:
    outbox_id: int
    record_number: int
    recipient: str
    name: str
    role_uk: str
    sent_at: datetime
    waiting: timedelta
    reminded: bool
    escalated: bool


@dataclass(frozen=True)
class Failed:
    outbox_id: int
    channel: str
    kind: str
    to: str  # an official's address, a channel or webhook's name; a resident only as "підписник №N"
    record_number: int | None
    failed_at: datetime | None
    attempts: int
    error: str


def rejected(conn: Connection, rules: Rules, limit: int = LIMIT) -> Slice:
    """Rejected rows still in the sheet and not fixed by a later row (records/fixes.py), emergencies first, each
    part newest first, with the verdict the dispatcher was given."""
    where = (submissions.c.status == "rejected", submissions.c.row_key.not_like(GONE), fixes.waiting())
    total = conn.execute(select(func.count()).select_from(submissions).where(*where)).scalar() or 0
    query = select(submissions.c.id, submissions.c.source, submissions.c.row_number, submissions.c.verdict,
                   submissions.c.first_seen_at, submissions.c.last_seen_at, submissions.c.detail).where(*where)
    kind = func.coalesce(submissions.c.detail["kind"].as_string(), "")
    # Two reads down the (status, id) index, each stopping at `limit`, rather than one sort of every rejected row.
    rows = conn.execute(query.where(kind == fixes.EMERGENCY).order_by(submissions.c.id.desc()).limit(limit)).all()
    if len(rows) < limit:
        rows += conn.execute(query.where(kind != fixes.EMERGENCY).order_by(submissions.c.id.desc())
                             .limit(limit - len(rows))).all()
    items = []
    for sid, source, row, stored, first, last, detail in rows:
        errors = list((stored or {}).get("errors") or [])
        said = verdict.text(Decision(row=row, key="", content_hash="", status="rejected", change="rejected",
                                     errors=errors), rules)
        items.append(Rejected(sid, source, row, said, first, last, detail or {}))
    return Slice(int(total), items)


def overdue(conn: Connection, now: datetime, limit: int = LIMIT) -> Slice:
    """Emergencies whose term to fix has passed with no update and no resolution (state «overdue»), newest
    record first."""
    total, views = page_records(conn, now, [live(records.c, now), records.c.expected_end < now],
                                status="active", kind="emergency", limit=limit)
    return Slice(total, [Overdue(v, now - v.expected_end, now - v.event_at) for v in views if v.expected_end])


def unconfirmed_relays(conn: Connection, now: datetime, within: timedelta, limit: int = LIMIT) -> Slice:
    """Requests to relay an active record, delivered more than `within` ago (regulation 7.6: an hour) and not
    confirmed, newest first."""
    confirmed = select(relay_confirmations.c.id).where(relay_confirmations.c.outbox_id == outbox.c.id).exists()
    where = (outbox.c.relay.is_(True), outbox.c.status == "sent", outbox.c.sent_at <= now - within, ~confirmed,
             records.c.status == "active")
    joined = outbox.join(records, records.c.number == outbox.c.record_number)
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar() or 0
    rows = conn.execute(select(outbox.c.id, outbox.c.record_number, outbox.c.recipient, outbox.c.recipient_name,
                               outbox.c.role, outbox.c.sent_at, outbox.c.relay_reminded_at,
                               outbox.c.relay_escalated_at)
                        .select_from(joined).where(*where).order_by(outbox.c.sent_at.desc(), outbox.c.id.desc())
                        .limit(limit)).all()
    return Slice(int(total), [Relay(r.id, r.record_number, r.recipient, r.recipient_name, ROLE_UK.get(r.role, r.role),
                                    r.sent_at, now - r.sent_at, r.relay_reminded_at is not None,
                                    r.relay_escalated_at is not None) for r in rows])


@dataclass(frozen=True)
class Gone:
    record: RecordView
    row: int  # the sheet row it was last seen in
    source: str


def gone(conn: Connection, now: datetime, limit: int = LIMIT) -> Slice:
    """Records still active whose own form row has disappeared from the sheet (deleted: perhaps a false alarm the
    dispatcher withdrew the only way the form allows). Nothing in the sheet can close them any more: the operator
    rings the utility and cancels or resolves them here. Read through the active records (ix_records_status) and
    each one's rows (ix_submissions_record), so a year's submissions are never scanned."""
    # `status || ''` is in no index: on a table the planner has no statistics for yet (a fresh import, before
    # autovacuum's ANALYZE), PostgreSQL otherwise ANDs ix_submissions_status (every accepted row) into each active
    # record's probe of ix_submissions_record: 5,000 × 45,000 index entries, 20 s instead of 25 ms; SQLite, given
    # the plain condition, chose that index too (140 ms).
    where = (records.c.status == "active", records.c.source == "form", submissions.c.action == "new",
             (submissions.c.status + "") == "accepted", submissions.c.row_key.like(GONE))
    joined = records.join(submissions, submissions.c.record_number == records.c.number)
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar() or 0
    rows = conn.execute(select(records.c.number, submissions.c.row_number, submissions.c.source)
                        .select_from(joined).where(*where).order_by(records.c.number.desc()).limit(limit)).all()
    views = records_by_number(conn, [r.number for r in rows], now)
    return Slice(int(total), [Gone(views[r.number], r.row_number, r.source) for r in rows if r.number in views])


def failed_counts(conn: Connection) -> dict[str, int]:
    """Messages given up on, per channel (email, telegram, webhook)."""
    rows = conn.execute(select(outbox.c.channel, func.count()).where(outbox.c.status == "failed")
                        .group_by(outbox.c.channel).order_by(outbox.c.channel))
    return {channel: int(count) for channel, count in rows}


def failed(conn: Connection, limit: int = LIMIT) -> Slice:
    """Messages given up on, newest first, with the last error."""
    counts = failed_counts(conn)
    rows = conn.execute(select(outbox.c.id, outbox.c.channel, outbox.c.kind, outbox.c.recipient,
                               outbox.c.recipient_name, outbox.c.subscription_id, outbox.c.record_number,
                               outbox.c.failed_at, outbox.c.attempts, outbox.c.last_error)
                        .where(outbox.c.status == "failed").order_by(outbox.c.id.desc()).limit(limit)).all()
    items = [Failed(r.id, r.channel, r.kind, _to(r), r.record_number, r.failed_at, r.attempts, r.last_error or "")
             for r in rows]
    return Slice(sum(counts.values()), items)


@dataclass(frozen=True)
class Signal:
    """A crowd of residents' reports with no record (outages/reports/crowd.py): perhaps an emergency nobody
    has entered yet."""
    id: int
    service_code: str
    street: str
    reports: int
    raised_at: datetime


def signals(conn: Connection, now: datetime, within: timedelta = timedelta(days=1), limit: int = LIMIT) -> Slice:
    """Crowd signals raised within the last day, newest first. The table holds one row per street, service and
    window at most, a few a day, so reading it by time costs nothing however many reports are stored."""
    where = (report_signals.c.raised_at > now - within,)
    total = conn.execute(select(func.count()).select_from(report_signals).where(*where)).scalar() or 0
    rows = conn.execute(select(report_signals.c.id, report_signals.c.service_code, report_signals.c.street,
                               report_signals.c.reports, report_signals.c.raised_at).where(*where)
                        .order_by(report_signals.c.raised_at.desc(), report_signals.c.id.desc()).limit(limit)).all()
    return Slice(int(total), [Signal(*row) for row in rows])


def reports_waiting(conn: Connection) -> int:
    """Residents' reports waiting for moderation (a range of ix_reports_status)."""
    return int(conn.execute(select(func.count()).select_from(reports).where(reports.c.status == "pending"))
               .scalar() or 0)


def _to(row: Any) -> str:
    if row.subscription_id is not None:
        return f"підписник №{row.subscription_id}"
    return f"{row.recipient_name} <{row.recipient}>" if row.recipient_name else row.recipient
