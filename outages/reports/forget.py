"""Reporters' contacts are kept for the utility and the reporter's own news, never longer than needed (4.4):
erased `reports.keep_contacts_days` after a report is closed or rejected (`purge`, run by the worker), or at once
for one person (`forget`: `outages reports forget EMAIL`). What the report said stays (it is the city's record);
the mails that carried the contact to the reporter are deleted with their delivery records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, delete, func, select, update

from outages.reports.options import report_options
from outages.schema import delivery_attempts, outbox, reports
from outages.settings import Settings

SCRUBBED = "(контакт мешканця стерто після строку зберігання)\n"
ERASED = {"email": "", "name": "", "phone": "", "chat_id": "", "client": ""}


def forget(conn: Connection, email: str, now: datetime) -> int:
    """Erase this address's contacts from every report; how many reports held it."""
    email = email.strip().lower()
    if not email:
        return 0
    ids = conn.execute(select(reports.c.id).where(func.lower(reports.c.email) == email)).scalars().all()
    _drop_mail(conn, email)
    if ids:
        conn.execute(update(reports).where(reports.c.id.in_(ids)).values(erased_at=now, updated_at=now, **ERASED))
        _scrub_forwards(conn, ids)
    return len(ids)


def purge(conn: Connection, settings: Settings, now: datetime) -> int:
    """Erase the contacts of reports closed (or rejected) more than keep_contacts_days ago; how many."""
    before = now - report_options(settings).keep_contacts
    due = conn.execute(select(reports.c.id, reports.c.email).where(
        reports.c.erased_at.is_(None), reports.c.closed_at.is_not(None), reports.c.closed_at < before)
        .limit(1000)).all()
    for _, email in due:
        if email:
            _drop_mail(conn, email.lower())
    if due:
        conn.execute(update(reports).where(reports.c.id.in_([r.id for r in due]))
                     .values(erased_at=now, **ERASED))
        _scrub_forwards(conn, [r.id for r in due])
    return len(due)


def _scrub_forwards(conn: Connection, ids: list[int]) -> None:
    """The hub's copies of the mails that carried the contact to the utility, duty officers and control keep
    their subject (no contact in it) and lose their body; a message not yet sent is not sent."""
    for report_id in ids:
        conn.execute(update(outbox).where(outbox.c.dedup_key.like(f"report:{report_id}:%"),
                                          outbox.c.role != "reporter")
                     .values(text_body=SCRUBBED, html_body=""))


def _drop_mail(conn: Connection, email: str) -> None:
    """The reporter's own mails (confirmation, status news); never an official's mail."""
    rows = conn.execute(select(outbox.c.id).where(and_(
        func.lower(outbox.c.recipient) == email, outbox.c.role == "reporter"))).scalars().all()
    if rows:
        conn.execute(delete(delivery_attempts).where(delivery_attempts.c.outbox_id.in_(rows)))
        conn.execute(update(outbox).where(outbox.c.depends_on.in_(rows)).values(depends_on=None))
        conn.execute(delete(outbox).where(outbox.c.id.in_(rows)))
