"""Messages that come due with time: the planned-works reminder the day before, the weekly digest of
planned-works breaches (regulation 6.2, 7.3) and the monthly report per utility (6.2.3).

Each is queued once through its dedup key ("digest:2026-W47:<email>"), whichever worker gets there first and
however often `deliver_pending` runs. A period before the hub held any data is not reported.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, select

from .. import report
from ..queries import get_record, list_records
from ..record import Kind
from ..schema import events, outbox, records
from ..settings import Settings
from ..text import fold
from ..times import fmt, localize
from .messages import message_id, record_context, render
from .options import MailOptions
from .queue import new_row, queue
from .routing import by_role, recipients_for, routing

MONTHS_UK = ("січень", "лютий", "березень", "квітень", "травень", "червень", "липень", "серпень", "вересень",
             "жовтень", "листопад", "грудень")


def enqueue_due(conn: Connection, settings: Settings, options: MailOptions, now: datetime) -> int:
    rows = planned_reminders(conn, settings, options, now)
    rows += weekly_digest(conn, settings, options, now)
    rows += monthly_report(conn, settings, options, now)
    return queue(conn, rows)


def _at(day: date, hour: int, settings: Settings) -> datetime:
    return localize(datetime.combine(day, time(hour=min(hour, 23))), settings.tz)


def planned_reminders(conn: Connection, settings: Settings, options: MailOptions, now: datetime) -> list[dict]:
    soon = conn.execute(select(records.c.number, records.c.event_at, records.c.first_recorded_at).where(
        records.c.status == "active", records.c.kind == Kind.PLANNED.value,
        records.c.event_at > now, records.c.event_at <= now + timedelta(days=2),
    )).all()
    rows = []
    for number, start, recorded in soon:
        due = _at(start.astimezone(settings.tz).date() - timedelta(days=1), options.planned_reminder_hour, settings)
        if now < due or recorded >= due:
            continue  # not yet; or registered after the reminder's moment, so its first message was the reminder
        record = get_record(conn, number, now)
        if record is None:
            continue
        for recipient in recipients_for("planned_reminder", record, settings):
            context = record_context(record, settings.tz, recipient, options.public_url, settings.city_name)
            context.update(relay_url="", relay_state_url="")
            rows.append(new_row(
                dedup_key=f"planned-reminder:{number}:{start.isoformat()}:{recipient.email.lower()}",
                kind="planned_reminder", recipient=recipient, role=recipient.role,
                rendered=render("planned_reminder", context),
                msg_id=message_id(options.domain, f"r{number}", "reminder", start.strftime("%Y%m%d%H%M"),
                                  recipient=recipient.email),
                now=now, record_number=number,
            ))
    return rows


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
                          "districts": ", ".join(record.districts), "event_at": fmt(record.event_at, settings.tz),
                          "recorded_at": fmt(record.first_recorded_at, settings.tz),
                          "deadline": record.deadline.describe(), "url": f"{options.public_url}/outages/{number}"})
    iso = (monday - timedelta(days=7)).isocalendar()
    period = f"{fmt(since, settings.tz)[:10]}–{fmt(until - timedelta(days=1), settings.tz)[:10]}"
    failed = _failed(conn, since, until)
    rows = []
    roles = routing(settings)["breach_digest"]
    for recipient in by_role("breach_digest", settings, roles):
        mine = items
        if recipient.role == "executor":
            mine = [i for i in items if fold(i["executor"]) == fold(recipient.executor)]
            if not mine:
                continue  # a utility with a clean week gets no mail
        context = {"city": settings.city_name, "period": period, "items": mine,
                   "executor": recipient.executor if recipient.role == "executor" else "",
                   "failed": failed if recipient.role == "control" else []}
        rows.append(new_row(
            dedup_key=f"digest:{iso.year}-W{iso.week:02d}:{recipient.email.lower()}", kind="breach_digest",
            recipient=recipient, role=recipient.role, rendered=render("breach_digest", context),
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
        breaches = [b for b in built.breaches if not own or fold(b.executor) == fold(recipient.executor)]
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
            recipient=recipient, role=recipient.role, rendered=render("monthly_report", context),
            msg_id=message_id(options.domain, "monthly", f"{previous:%Y%m}", recipient=recipient.email), now=now,
        ))
    return rows

