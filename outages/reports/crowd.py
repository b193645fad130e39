"""A blackout's first signal is many residents at once: `reports.crowd_min` reports of one service on one street
within `reports.crowd_window_minutes`, none of them covered by a record, raise one «Можлива аварія» message to the
utility's executor and control, and a line on /ops — once per street, service and window.

Once: a signal is not raised again for the street and service within a window of the last one, and its row is
unique by the crowd's first report (`anchor`), so two intakes racing on PostgreSQL write one row; the mails'
dedup keys name the signal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from outages.db import insert_or_skip
from outages.delivery.queue import new_row, queue
from outages.officials.messages import message_id, render
from outages.officials.options import mail_options
from outages.officials.routing import by_role
from outages.officials.words import reader_day, reader_time
from outages.reports.options import report_options
from outages.reports.store import REJECTED
from outages.schema import report_signals, reports
from outages.settings import Settings
from outages.text import plural_word


def check(conn: Connection, settings: Settings, report: Any, now: datetime) -> int | None:
    """Raise the signal if this report completes a crowd; the signal's id, or None."""
    options = report_options(settings)
    since = now - options.crowd_window
    if conn.execute(select(report_signals.c.id).where(
            report_signals.c.street_key == report.street_key, report_signals.c.service_code == report.service_code,
            report_signals.c.raised_at > since).limit(1)).first():
        return None
    crowd = conn.execute(select(reports.c.id, reports.c.house, reports.c.suffix, reports.c.created_at).where(
        reports.c.street_key == report.street_key, reports.c.service_code == report.service_code,
        reports.c.created_at > since, reports.c.record_number.is_(None), reports.c.status != REJECTED,
    ).order_by(reports.c.id)).all()
    if len(crowd) < options.crowd_min:
        return None
    row = {"street_key": report.street_key, "street": report.street, "service_code": report.service_code,
           "anchor": crowd[0].id, "reports": len(crowd), "raised_at": now}
    if not insert_or_skip(conn, report_signals, row).rowcount:
        return None
    signal_id = conn.execute(select(report_signals.c.id).where(
        report_signals.c.street_key == report.street_key, report_signals.c.service_code == report.service_code,
        report_signals.c.anchor == crowd[0].id)).scalar_one()
    _mail(conn, settings, report, signal_id, crowd, now)
    return signal_id


def _mail(conn: Connection, settings: Settings, report: Any, signal_id: int, crowd: list[Any],
          now: datetime) -> None:
    options, mail = report_options(settings), mail_options(settings)
    service = options.service(report.service_code)
    assert service is not None
    today = reader_day(now, settings.tz)
    houses = sorted({f"{r.house}{r.suffix}" for r in crowd if r.house is not None}, key=lambda h: (len(h), h))
    context = {
        "city": settings.city_name, "hotline": mail.hotline, "service": service.name, "street": report.street,
        "count": len(crowd),
        "reports_word": plural_word(len(crowd), "повідомлення", "повідомлення", "повідомлень"),
        "residents_word": plural_word(len(crowd), "мешканець", "мешканці", "мешканців"),
        "window": int(options.crowd_window.total_seconds() // 60),
        "houses": ", ".join(houses) or "не вказано", "first": reader_time(crowd[0].created_at, settings.tz, today),
        "last": reader_time(crowd[-1].created_at, settings.tz, today), "ops_url": f"{mail.public_url}/ops/reports",
    }
    rows = []
    recipients = [r for r in by_role("report_signal", settings, executor=service.utility or None)
                  if r.role != "executor" or (service.utility and r.executor == service.utility)]
    for recipient in recipients:
        address = recipient.email.lower()
        rows.append(new_row(dedup_key=f"signal:{signal_id}:{address}", kind="report_signal", recipient=recipient,
                            role=recipient.role, rendered=render("report_signal", context,
                                                                 limit=settings.display_max_chars),
                            msg_id=message_id(mail.domain, "signal", signal_id, recipient=address), now=now))
    queue(conn, rows, settings.tz)
