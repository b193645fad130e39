"""The contact centre's decisions on a report (POST /ops/reports/<id>/moderate, `outages reports moderate`), each
in one transaction with its audit row. Statuses, pinned by seed 002:
accept → open, «Повідомлення взято до розгляду», forwarded to the utility (unless it was, at night);
done → closed, «Роботу виконано»; explain → closed, «Роз'яснення надано: <note>»; attach → follows record N
(«Повідомлення взято до розгляду: №N», closed when N is resolved); reject → never public (4.4.3).
Any decision marks the report checked (`checked_at`): only then are the resident's own words public — a report
made public by its record alone shows its status, not its text (seed 002: premoderation); accepting such a report
only checks it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from outages.console import audit
from outages.reports import forward, tell
from outages.reports.store import (
    CLOSED,
    DONE,
    EXPLAINED,
    OPEN,
    PENDING,
    REJECTED,
    TAKEN,
    as_json,
    change,
    get,
    taken_words,
)
from outages.schema import records
from outages.settings import Settings
from outages.text import clean

ACTIONS = ("accept", "reject", "explain", "done", "attach")


class NotAllowed(Exception):
    """The action cannot be done to this report; the message says why (Ukrainian, for the operator)."""


def report_object(report_id: int) -> str:
    return f"report:{report_id}"


def moderate(conn: Connection, settings: Settings, report_id: int, action: str, *, actor: str, now: datetime,
             note: str = "", record: int | None = None) -> Any:
    """Do `action` to the report; the report as it now is. NotAllowed names what is wrong."""
    if action not in ACTIONS:
        raise NotAllowed(f"Невідома дія «{action}»: можна {', '.join(ACTIONS)}.")
    report = get(conn, report_id)
    if report is None:
        raise NotAllowed(f"Повідомлення №{report_id} немає.")
    note = clean(note).strip()
    if report.status in (CLOSED, REJECTED) and action != "attach":
        raise NotAllowed(f"Повідомлення №{report_id} вже закрите ({report.note or report.status}).")
    before = as_json(report)
    if report.checked_at is None:  # a person has now read the resident's words: they may be shown
        report = change(conn, report_id, now, checked_at=now)
    if action == "accept":
        if report.status == OPEN and before["checked_at"] is not None:
            raise NotAllowed(f"Повідомлення №{report_id} вже взято до розгляду.")
        if report.status != OPEN:  # a report open through its record was the utility's already: only checked
            report = change(conn, report_id, now, status=OPEN, public=True, note=TAKEN)
            report = forward.forward(conn, settings, report, now)
    elif action == "reject":
        if report.public:
            raise NotAllowed(f"Повідомлення №{report_id} вже опубліковане: закрийте його з роз'ясненням.")
        report = change(conn, report_id, now, status=REJECTED, note="", closed_at=now)
    elif action == "explain":
        if not note:
            raise NotAllowed("Напишіть роз'яснення: його побачить мешканець і всі на сторінці повідомлень.")
        report = change(conn, report_id, now, status=CLOSED, public=True, note=f"{EXPLAINED}: {note}", closed_at=now)
    elif action == "done":
        report = change(conn, report_id, now, status=CLOSED, public=True, note=DONE, closed_at=now)
    else:
        report = attach(conn, report, record, now)
    audit.write(conn, at=now, actor=actor, action="report_moderate", object=report_object(report_id),
                reason=f"{action}: {note}" if note else action, before=before, after=as_json(report))
    tell.status_changed(conn, settings, report, now)
    return report


def attach(conn: Connection, report: Any, number: int | None, now: datetime) -> Any:
    """Make the report follow record `number`: open while it is, closed «Роботу виконано» once it is resolved."""
    if not number:
        raise NotAllowed("Вкажіть номер запису, до якого додати повідомлення.")
    found = conn.execute(select(records.c.status).where(records.c.number == number)).first()
    if found is None:
        raise NotAllowed(f"Запису №{number} немає.")
    if found.status == "cancelled":
        raise NotAllowed(f"Запис №{number} скасовано: додайте повідомлення до іншого запису або роз'ясніть.")
    if found.status == "resolved":
        return change(conn, report.id, now, status=CLOSED, public=True, record_number=number, note=DONE,
                      closed_at=report.closed_at or now)
    return change(conn, report.id, now, status=OPEN, public=True, record_number=number, note=taken_words(number),
                  closed_at=None)


__all__ = ["ACTIONS", "NotAllowed", "moderate", "attach", "PENDING"]
