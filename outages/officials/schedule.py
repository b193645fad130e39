"""Messages that come due with time: the planned-works reminder the day before, reminders of records whose term
passed without an update, the weekly digest of planned-works breaches (regulation 6.2, 7.3), the monthly report
per utility (6.2.3), and the recipients' hourly and daily digests (digest.py).

Each is queued once through its dedup key ("digest:2026-W47:<email>"), whichever worker gets there first and
however often `deliver_pending` runs. A period before the hub held any data is not reported.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, select

from outages.db import insert_or_skip
from outages.delivery.queue import new_row, queue
from outages.officials.cadence import cadence, due_at
from outages.officials.messages import message_id, record_context, render
from outages.officials.options import MailOptions
from outages.officials.routing import by_role, in_portfolio, recipients_for, routing
from outages.officials.words import day_before, reader_day
from outages.records import timeliness as report
from outages.records.model import Kind
from outages.records.views import get_record, list_records
from outages.schema import digest_items, events, outbox, records
from outages.settings import Settings
from outages.text import fold
from outages.times import between, fmt, localize

MONTHS_UK = ("січень", "лютий", "березень", "квітень", "травень", "червень", "липень", "серпень", "вересень",
             "жовтень", "листопад", "грудень")


# Hours after a passed term at which the utility and control are reminded of an emergency nobody updated; after the
# last, once a day (every OVERDUE_DAILY_HOURS) until an update or the resolution: overdue until updated, never
# dropped, never more than daily.
OVERDUE_REMINDER_HOURS = (3, 6, 12, 24)
OVERDUE_DAILY_HOURS = 24


def enqueue_due(conn: Connection, settings: Settings, options: MailOptions, now: datetime) -> int:
    rows = planned_reminders(conn, settings, options, now)
    rows += overdue_reminders(conn, settings, options, now)
    rows += weekly_digest(conn, settings, options, now)
    rows += monthly_report(conn, settings, options, now)
    return queue(conn, rows, settings.tz)


def _at(day: date, hour: int, settings: Settings) -> datetime:
    return localize(datetime.combine(day, time(hour=min(hour, 23))), settings.tz)


def planned_reminders(conn: Connection, settings: Settings, options: MailOptions, now: datetime) -> list[dict]:
    """The reminder goes out on the calendar day before the works (from `planned_reminder_hour`), never on the
    day itself; works reported less than a day ahead get none (their first message is fresh enough)."""
    tz = settings.tz
    soon = conn.execute(select(records.c.number, records.c.event_at, records.c.first_recorded_at).where(
        records.c.status == "active", records.c.kind == Kind.PLANNED.value,
        records.c.event_at > now, records.c.event_at <= now + timedelta(days=2),
    )).all()
    rows, items = [], []
    for number, start, recorded in soon:
        eve = day_before(start, tz)
        due = _at(eve, options.planned_reminder_hour, settings)
        if reader_day(now, tz) != eve or now < due:
            continue
        if between(recorded, start) < timedelta(days=1) or recorded >= due:
            continue
        record = get_record(conn, number, now)
        if record is None:
            continue
        for recipient in recipients_for("planned_reminder", record, settings):
            dedup = f"planned-reminder:{number}:{start.isoformat()}:{recipient.email.lower()}"
            how = cadence(recipient, "planned_reminder", record.kind, settings)
            if how != "now":
                items.append({"dedup_key": dedup, "recipient": recipient.email, "recipient_name": recipient.name,
                              "role": recipient.role, "record_number": number, "event_id": None,
                              "kind": "planned_reminder", "cadence": how, "created_at": now,
                              "due_at": due_at(how, now, settings, options.digest_hour)})
                continue
            context = record_context(record, tz, recipient, options.public_url, settings.city_name, now=now,
                                     hotline=options.hotline)
            rows.append(new_row(
                dedup_key=dedup, kind="planned_reminder", recipient=recipient, role=recipient.role,
                rendered=render("planned_reminder", context, limit=settings.display_max_chars),
                msg_id=message_id(options.domain, f"r{number}", "reminder", start.strftime("%Y%m%d%H%M"),
                                  recipient=recipient.email),
                now=now, record_number=number,
            ))
    if items:
        insert_or_skip(conn, digest_items, items)
    return rows


def overdue_reminders(conn: Connection, settings: Settings, options: MailOptions, now: datetime) -> list[dict]:
    """An emergency whose term passed without an update: the utility and control are reminded 3, 6, 12 and 24 hours
    after the term, then every 24 hours for as long as it stays overdue, each step once (only the latest step that
    has come due: a worker that was down does not send the missed ones in a row). A new term (an update) starts
    the count again. Planned works end at their stated end (outages.records.state): nobody is chased about them.
    Each (record, step, recipient) is an item; digest.py makes one mail per recipient of the items due together."""
    forgotten = conn.execute(select(records.c.number, records.c.expected_end).where(
        records.c.status == "active", records.c.kind == Kind.EMERGENCY.value, records.c.expected_end.is_not(None),
        records.c.expected_end <= now - timedelta(hours=min(OVERDUE_REMINDER_HOURS)),
    ).order_by(records.c.number)).all()
    # When the hub noticed (created_at): the overdue event itself is dated when the term passed.
    noticed = dict(conn.execute(select(events.c.record_number, events.c.created_at).where(
        events.c.kind == "overdue", events.c.record_number.in_([n for n, _ in forgotten])).order_by(events.c.id)).all())
    items = []
    for number, end in forgotten:
        step = overdue_step(end, now)
        if noticed.get(number) is not None and noticed[number] >= end + timedelta(hours=step):
            continue  # the hub learnt of it only after this step: its «ПРОСТРОЧЕНО» message said it all
        record = get_record(conn, number, now)
        if record is None:
            continue
        for recipient in recipients_for("overdue_reminder", record, settings):
            items.append({"dedup_key": f"overdue-reminder:{number}:{end.isoformat()}:{step}:{recipient.email.lower()}",
                          "recipient": recipient.email, "recipient_name": recipient.name, "role": recipient.role,
                          "record_number": number, "event_id": None, "kind": "overdue_reminder", "cadence": "now",
                          "created_at": now, "due_at": now})
    if items:
        insert_or_skip(conn, digest_items, items)
    return []


def overdue_step(end: datetime, now: datetime) -> int:
    """The latest reminder step that has passed since the term, in hours (0: none yet): one of
    OVERDUE_REMINDER_HOURS, then 48, 72, … (daily)."""
    passed = between(end, now)
    last = max(OVERDUE_REMINDER_HOURS)
    if passed >= timedelta(hours=last):
        days = int((passed - timedelta(hours=last)) // timedelta(hours=OVERDUE_DAILY_HOURS))
        return last + days * OVERDUE_DAILY_HOURS
    return max((h for h in OVERDUE_REMINDER_HOURS if passed >= timedelta(hours=h)), default=0)


def overdue_hours(end: datetime, now: datetime) -> int:
    """Whole hours since the term passed, as a reminder says them («минув 23 год тому»)."""
    return int(between(end, now) // timedelta(hours=1))


def _has_data_before(conn: Connection, moment: datetime) -> bool:
    return conn.execute(select(events.c.id).where(events.c.created_at < moment).limit(1)).first() is not None


def _failed(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(select(outbox.c.recipient, outbox.c.subject, outbox.c.last_error).where(
        outbox.c.status == "failed", outbox.c.failed_at >= since, outbox.c.failed_at < until,
    ).order_by(outbox.c.id)).all()
    return [{"recipient": r.recipient, "subject": r.subject, "error": r.last_error or ""} for r in rows]


def weekly_digest(conn: Connection, settings: Settings, options: MailOptions, now: datetime) -> list[dict]:
    today = now.astimezone(settings.tz).date()
    monday = today - timedelta(days=today.weekday())
    until = _at(monday, 0, settings)
    if now < _at(monday, options.report_hour, settings):
        return []
    since = _at(monday - timedelta(days=7), 0, settings)
    if not _has_data_before(conn, until):
        return []
    breaches = conn.execute(select(events.c.record_number).join(records, records.c.number == events.c.record_number)
                            .where(events.c.kind == "breach", records.c.kind == Kind.PLANNED.value,
                                   events.c.created_at >= since, events.c.created_at < until)
                            .order_by(events.c.id)).scalars().all()
    items = []
    for number in dict.fromkeys(breaches):
        record = get_record(conn, number, now)
        if record is not None:
            items.append({"number": number, "executor": record.executor, "service": record.service,
                          "districts": ", ".join(record.districts), "district_list": record.districts,
                          "event_at": fmt(record.event_at, settings.tz),
                          "recorded_at": fmt(record.first_recorded_at, settings.tz),
                          "deadline": record.deadline.describe(), "url": f"{options.public_url}/outages/{number}"})
    iso = (monday - timedelta(days=7)).isocalendar()
    period = f"{fmt(since, settings.tz)[:10]}–{fmt(until - timedelta(days=1), settings.tz)[:10]}"
    failed = _failed(conn, since, until)
    rows = []
    roles = routing(settings)["breach_digest"]
    for recipient in by_role("breach_digest", settings, roles):
        mine = [i for i in items if in_portfolio(recipient, i["service"], i["district_list"])]
        if recipient.role == "executor":
            mine = [i for i in items if fold(i["executor"]) == fold(recipient.executor)]
            if not mine:
                continue  # a utility with a clean week gets no mail
        context = {"city": settings.city_name, "period": period, "items": mine,
                   "executor": recipient.executor if recipient.role == "executor" else "",
                   "failed": failed if recipient.role == "control" else []}
        rows.append(new_row(
            dedup_key=f"digest:{iso.year}-W{iso.week:02d}:{recipient.email.lower()}", kind="breach_digest",
            recipient=recipient, role=recipient.role,
            rendered=render("breach_digest", context, limit=settings.display_max_chars),
            msg_id=message_id(options.domain, "digest", f"{iso.year}W{iso.week:02d}", recipient=recipient.email),
            now=now,
        ))
    return rows


def monthly_report(conn: Connection, settings: Settings, options: MailOptions, now: datetime) -> list[dict]:
    today = now.astimezone(settings.tz).date()
    first = today.replace(day=1)
    if now < _at(first, options.report_hour, settings):
        return []
    previous = (first - timedelta(days=1)).replace(day=1)
    since, until = _at(previous, 0, settings), _at(first, 0, settings)
    if not _has_data_before(conn, until):
        return []
    built = report.build(list_records(conn, now, since=since, until=until), since, until)
    month = f"{MONTHS_UK[previous.month - 1]} {previous.year}"
    failed = _failed(conn, since, until)
    rows = []
    for recipient in by_role("monthly_report", settings, routing(settings)["monthly_report"]):
        own = recipient.role == "executor"
        lines = [line for line in built.lines if not own or fold(line.executor) == fold(recipient.executor)]
        breaches = [b for b in built.breaches if (not own or fold(b.executor) == fold(recipient.executor))
                    and in_portfolio(recipient, b.service)]
        context = {
            "city": settings.city_name, "month": month, "executor": recipient.executor if own else "",
            "lines": [{"executor": line.executor, "kind_uk": line.kind.uk, "records": line.records,
                       "on_time": line.on_time, "late": line.late, "median": line.median,
                       "unit_uk": "хв після події" if line.kind is Kind.EMERGENCY else "год до початку"}
                      for line in lines],
            "breaches": [{"number": b.number, "executor": b.executor, "kind_uk": b.kind.uk, "service": b.service,
                          "deadline": b.deadline.describe()} for b in breaches],
            "failed": None if own else failed,
        }
        rows.append(new_row(
            dedup_key=f"monthly:{previous:%Y-%m}:{recipient.email.lower()}", kind="monthly_report",
            recipient=recipient, role=recipient.role,
            rendered=render("monthly_report", context, limit=settings.display_max_chars),
            msg_id=message_id(options.domain, "monthly", f"{previous:%Y%m}", recipient=recipient.email), now=now,
        ))
    return rows

