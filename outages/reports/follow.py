"""Reports follow the records (issue 20): called from `records/events.emit` in the sync's (or the console's)
transaction, so what it changes commits with the events.

- A record created (or corrected) of a service takes the open or waiting reports of that service whose house its
  addresses cover, reported up to `reports.follow_hours` before: «Повідомлення взято до розгляду: №N».
- A record resolved closes the reports that follow it: «Роботу виконано».
- A record cancelled lets its reports go back to the contact centre's queue (the record was a false alarm, the
  residents' problem may not be).
The reporter is told of each change (tell.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from outages.places.addresses import AddressQuery, covers, parse_addresses
from outages.reports import tell
from outages.reports.options import report_options
from outages.reports.store import CLOSED, DONE, OPEN, PENDING, change, taken_words
from outages.schema import events, records, reports
from outages.settings import Settings

TAKES = ("created", "corrected", "edited", "updated")


def on_events(conn: Connection, event_ids: list[int], settings: Settings, now: datetime) -> int:
    """Move the reports these events concern; how many moved."""
    if not event_ids:
        return 0
    options = report_options(settings)
    if not options.services:
        return 0
    rows = conn.execute(select(events.c.record_number, events.c.kind).where(events.c.id.in_(event_ids))
                        .where(events.c.kind.in_((*TAKES, "resolved", "cancelled")))).all()
    if not rows:
        return 0
    last: dict[int, str] = {}
    for number, kind in rows:
        last[number] = kind
    moved = 0
    for number, kind in last.items():
        record = conn.execute(select(records).where(records.c.number == number)).first()
        if record is None:
            continue
        if record.status == "resolved":
            moved += _close(conn, settings, number, now)
        elif record.status == "cancelled":
            moved += _release(conn, settings, number, now)
        else:
            moved += _take(conn, settings, record, now)
    return moved


def _take(conn: Connection, settings: Settings, record: Any, now: datetime) -> int:
    options = report_options(settings)
    service = options.by_name(record.service)
    if service is None:
        return 0
    since = min(record.event_at, record.first_recorded_at) - options.follow
    parsed = parse_addresses(record.addresses or "", settings.streets).items
    where = [reports.c.service_code == service.code, reports.c.status.in_((PENDING, OPEN)),
             reports.c.record_number.is_(None), reports.c.created_at >= since]
    if parsed:  # only the streets the record names (ix_reports_street)
        where.append(reports.c.street_key.in_({item.street_key for item in parsed}))
    moved = 0
    for report in conn.execute(select(reports).where(*where).order_by(reports.c.id)).all():
        if not _covers(record, parsed, report):
            continue
        report = change(conn, report.id, now, status=OPEN, public=True, record_number=record.number,
                        note=taken_words(record.number))
        tell.status_changed(conn, settings, report, now)
        moved += 1
    return moved


def _covers(record: Any, parsed: tuple, report: Any) -> bool:
    """The record's addresses cover the report's house (an empty «Адреси»: every house of its districts)."""
    if not parsed:
        return bool(set(record.districts or ()) & set(report.districts or ()))
    query = AddressQuery(text="", street_keys=(report.street_key,), house=report.house, suffix=report.suffix)
    return any(covers(item, query) for item in parsed)


def _close(conn: Connection, settings: Settings, number: int, now: datetime) -> int:
    ids = conn.execute(select(reports.c.id).where(reports.c.record_number == number,
                                                  reports.c.status == OPEN)).scalars().all()
    for report_id in ids:
        report = change(conn, report_id, now, status=CLOSED, note=DONE, closed_at=now)
        tell.status_changed(conn, settings, report, now)
    return len(ids)


def _release(conn: Connection, settings: Settings, number: int, now: datetime) -> int:
    ids = conn.execute(select(reports.c.id).where(reports.c.record_number == number,
                                                  reports.c.status == OPEN)).scalars().all()
    for report_id in ids:
        change(conn, report_id, now, status=PENDING, public=False, record_number=None, note="")
    return len(ids)
