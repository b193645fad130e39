"""A report reaches the utility that runs its service (seed 000 §5): one mail to each of its `executor` recipients
with the reporter's contact (4.4: for the utility, never published) and a signed «Прийнято в роботу» link; at night
an SOS report also goes to the district's duty officer (4.9.1), marked as not yet checked. Taking it (the link) is
stamped once. Not taken within 30 minutes (SOS) or 2 hours (others; `reports.*take_minutes`) → control is told
once (`late`), and `outages report deadlines` counts it.

Exactly once: every mail's dedup key names the report and the recipient, and the stamps are written in the same
transaction as the mails they stand for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update

from outages.delivery.queue import new_row, queue
from outages.officials.directory import Recipient
from outages.officials.messages import message_id, render
from outages.officials.options import MailOptions, mail_options
from outages.officials.routing import by_role
from outages.officials.words import reader_day, reader_time, tel
from outages.reports.options import Service, report_options
from outages.reports.store import OPEN, change, get, sign_id, signed_id
from outages.schema import reports
from outages.settings import Settings
from outages.text import one_line

TAKE_SALT = "report-take"


def take_token(options: MailOptions, report_id: int) -> str:
    return sign_id(options.secret_key, TAKE_SALT, report_id)


def read_take_token(options: MailOptions, token: str) -> int | None:
    """The report a «Прийнято в роботу» link names; None for a forged one (or no secret key)."""
    return signed_id(options.secret_key, TAKE_SALT, token)


def utility_recipients(service: Service, settings: Settings) -> list[Recipient]:
    """The utility's `executor` entries of the directory; control when the service names no utility (someone must
    act on it)."""
    found = by_role("report_forward", settings, executor=service.utility) if service.utility else []
    return [r for r in found if r.role != "executor" or r.executor == service.utility] or by_role(
        "report_forward", settings, roles=("control",))


def duty_recipients(report: Any, settings: Settings) -> list[Recipient]:
    """The duty officers of the report's districts (all of them when the street's districts are unknown)."""
    duty = by_role("report_night", settings)
    districts = set(report.districts or ())
    return [r for r in duty if not r.districts or not districts or districts & set(r.districts)]


def forward(conn: Connection, settings: Settings, report: Any, now: datetime, *, unmoderated: bool = False) -> Any:
    """Send the report to its utility (and, unmoderated at night, the duty officers); stamp when it must be taken.
    A report already forwarded is left as it is."""
    if report.forwarded_at is not None:
        return report
    options = report_options(settings)
    service = options.service(report.service_code)
    assert service is not None, report.service_code
    due = now + options.take_within(service)
    mail = mail_options(settings)
    told = [(r, "report_forward") for r in utility_recipients(service, settings)]
    if unmoderated:
        told += [(r, "report_night") for r in duty_recipients(report, settings)]
    rows = []
    for recipient, kind in told:
        context = context_for(report, service, settings, mail, now, due=due, unmoderated=unmoderated,
                              take=kind == "report_forward")
        rows.append(_row(kind, report, recipient, context, settings, mail, now, f"report:{report.id}:forward"))
    queue(conn, rows, settings.tz)
    values: dict[str, Any] = {"forwarded_at": now, "take_due_at": due}
    if unmoderated:
        values["unmoderated"] = True
    return change(conn, report.id, now, **values)


def take(conn: Connection, report_id: int, now: datetime) -> tuple[Any, bool]:
    """The utility took the report into work: stamped once. (the report, whether this click stamped it)."""
    done = conn.execute(update(reports).where(reports.c.id == report_id, reports.c.taken_at.is_(None),
                                              reports.c.forwarded_at.is_not(None))
                        .values(taken_at=now, updated_at=now)).rowcount
    return get(conn, report_id), bool(done)


def enqueue_late(conn: Connection, settings: Settings, now: datetime) -> int:
    """Tell control once of each forwarded report not taken by its deadline; returns how many."""
    late = conn.execute(select(reports).where(
        reports.c.taken_at.is_(None), reports.c.take_due_at <= now, reports.c.late_told_at.is_(None),
        reports.c.status == OPEN).order_by(reports.c.id).limit(200)).all()
    options, mail = report_options(settings), mail_options(settings)
    rows = []
    for report in late:
        service = options.service(report.service_code)
        if service is None:
            continue
        for recipient in by_role("report_late", settings):
            context = context_for(report, service, settings, mail, now, due=report.take_due_at,
                                  unmoderated=report.unmoderated, take=False)
            rows.append(_row("report_late", report, recipient, context, settings, mail, now,
                             f"report:{report.id}:late"))
    queue(conn, rows, settings.tz)
    if late:
        conn.execute(update(reports).where(and_(reports.c.id.in_([r.id for r in late]),
                                                reports.c.late_told_at.is_(None))).values(late_told_at=now))
    return len(late)


def context_for(report: Any, service: Service, settings: Settings, mail: MailOptions, now: datetime, *,
                due: datetime | None, unmoderated: bool, take: bool) -> dict[str, Any]:
    today = reader_day(now, settings.tz)
    place = one_line(report.street) + (f", {report.house}{report.suffix}" if report.house is not None else "")
    phone = one_line(report.phone)
    return {
        "city": settings.city_name, "hotline": one_line(mail.hotline), "hotline_tel": tel(mail.hotline),
        "id": report.id, "service": service.name, "sos": service.sos, "utility": service.utility,
        "place": place, "address": one_line(report.address), "districts": ", ".join(report.districts or ()),
        "description": report.description, "created_at": reader_time(report.created_at, settings.tz, today),
        "due": reader_time(due, settings.tz, today, "до"),
        "due_at": reader_time(due, settings.tz, today), "unmoderated": unmoderated,
        "contact": {"name": one_line(report.name), "phone": phone, "tel": tel(phone), "email": one_line(report.email),
                    "erased": report.erased_at is not None},
        "take_url": f"{mail.public_url}/reports/take/{take_token(mail, report.id)}" if take and mail.secret_key else "",
        "ops_url": f"{mail.public_url}/ops/reports/{report.id}",
        "within": int(report_options(settings).take_within(service).total_seconds() // 60),
    }


def _row(kind: str, report: Any, recipient: Recipient, context: dict[str, Any], settings: Settings,
         mail: MailOptions, now: datetime, key: str) -> dict[str, Any]:
    address = recipient.email.lower()
    return new_row(dedup_key=f"{key}:{address}", kind=kind, recipient=recipient, role=recipient.role,
                   rendered=render(kind, context, limit=settings.display_max_chars),
                   msg_id=message_id(mail.domain, "report", report.id, kind, recipient=address), now=now)
