"""Hourly and daily digests, so a busy day is not a flood of mail: one mail listing each record a recipient heard
of in the period, as it stands when the digest is made — not one mail per change.

A change for a recipient who chose a digest is written to `digest_items` instead of the outbox
(`event_mail.enqueue`). When items have come due, each recipient's due items become one outbox row; the items then
name it, so each is carried once. Two workers building the same digest race on that conditional update: the loser
removes its copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, distinct, func, select, update

from outages.delivery.queue import new_row, queue
from outages.officials.directory import Recipient
from outages.officials.messages import message_id, record_context, render
from outages.officials.options import MailOptions
from outages.officials.schedule import overdue_hours
from outages.officials.words import reader_day, reader_time, span, tel
from outages.records.model import Kind
from outages.records.views import records_by_number
from outages.schema import digest_items, outbox
from outages.settings import Settings

KIND_UK = {"created": "нове", "edited": "уточнення", "updated": "оновлення", "resolved": "ліквідовано",
           "corrected": "виправлено контакт-центром", "cancelled": "СКАСОВАНО",
           "planned_reminder": "нагадування: роботи завтра", "overdue": "термін минув"}
# The «term passed» notice and its 3/6/12/24-hour reminders: one mail per recipient of those due together.
REMINDER_KINDS = ("overdue", "overdue_reminder")


def state_line(record, tz, today) -> str:  # noqa: ANN001
    """The record's current state in one phrase, its times relative to the reader's day."""
    emergency = record.kind is Kind.EMERGENCY
    if record.status == "cancelled":
        return "СКАСОВАНО як помилковий" + (f": {record.status_reason}" if record.status_reason else "")
    if record.status == "resolved":
        done = reader_time(record.resolved_at, tz, today)
        return ("ліквідовано" if emergency else "завершено") + (f", {done}" if done else "")
    if emergency:
        if not record.expected_end:
            return "триває"
        return f"триває, термін {reader_time(record.expected_end, tz, today, 'до')}"
    return f"заплановано {span(record.event_at, record.expected_end, tz, today)}"


def _reminded_since(conn: Connection, addresses: list[str], since: datetime) -> set[str]:
    """Those of `addresses` that got a «term passed» mail after `since`: their new items wait."""
    if not addresses:
        return set()
    rows = conn.execute(select(outbox.c.recipient).where(
        outbox.c.kind == "overdue_reminder", outbox.c.created_at > since)).scalars()
    return {r.lower() for r in rows} & set(addresses)


def enqueue_due(conn: Connection, settings: Settings, options: MailOptions, now: datetime) -> int:
    """One mail per recipient and kind of the items that have come due: a digest of records, or one reminder
    listing every record whose term passed without an update."""
    due = conn.execute(select(digest_items).where(digest_items.c.outbox_id.is_(None), digest_items.c.due_at <= now)
                       .order_by(digest_items.c.id)).all()
    groups: dict[tuple[str, str], list[Any]] = {}
    for item in due:
        kind = "overdue_reminder" if item.kind in REMINDER_KINDS else "digest"
        groups.setdefault((item.recipient.lower(), kind), []).append(item)
    for address in _reminded_since(conn, [a for a, kind in groups if kind == "overdue_reminder"],
                                   now - options.reminder_fold):
        del groups[(address, "overdue_reminder")]  # held: folded into the next one
    if not groups:
        return 0
    tz = settings.tz
    today = reader_day(now, tz)
    views = records_by_number(conn, sorted({item.record_number for item in due}), now)
    made = 0
    for (address, kind), items in groups.items():
        first = items[0]
        recipient = Recipient(email=first.recipient, name=first.recipient_name, role=first.role)
        entries = []
        for number in sorted({item.record_number for item in items}):
            record = views.get(number)
            if record is None:
                continue
            context = record_context(record, tz, recipient, options.public_url, settings.city_name, now=now,
                                     hotline=options.hotline)
            happened = [KIND_UK.get(i.kind, i.kind) for i in items if i.record_number == number]
            context.update(state=state_line(record, tz, today), happened=", ".join(dict.fromkeys(happened)),
                           # A notice alone says «минув»; a reminder how long ago (the true hours, not its step).
                           hours=overdue_hours(record.expected_end, now) if record.expected_end and any(
                               i.kind == "overdue_reminder" for i in items if i.record_number == number) else 0)
            entries.append(context)
        if not entries:
            continue
        hourly = all(item.cadence == "hourly" for item in items)
        context = dict(entries[0]) if kind == "overdue_reminder" else {}
        context.update({"city": settings.city_name, "hotline": options.hotline, "hotline_tel": tel(options.hotline),
                        "form_url": options.form_url,
                        "entries": entries, "period_uk": "за годину" if hourly else "за добу",
                        "emergencies": sum(e["emergency"] for e in entries),
                        "planned": sum(not e["emergency"] for e in entries),
                        "recipient_name": recipient.name, "role": recipient.role})
        last = max(item.id for item in items)
        dedup = f"{kind}:{address}:{last}"
        single = entries[0]["number"] if len(entries) == 1 and kind == "overdue_reminder" else None
        inserted = queue(conn, [new_row(dedup_key=dedup, kind=kind, recipient=recipient, role=recipient.role,
                                        rendered=render(kind, context, limit=settings.display_max_chars),
                                        msg_id=message_id(options.domain, kind, last, recipient=recipient.email),
                                        now=now, record_number=single)], tz)
        if not inserted:
            continue  # another worker made this very mail
        mail = conn.execute(select(outbox.c.id).where(outbox.c.dedup_key == dedup)).scalar_one()
        ids = [item.id for item in items]
        taken = conn.execute(update(digest_items).where(digest_items.c.id.in_(ids), digest_items.c.outbox_id.is_(None))
                             .values(outbox_id=mail)).rowcount
        if taken != len(ids):
            # Another worker carried (some of) these items meanwhile: its mail stands, this one goes.
            conn.execute(update(digest_items).where(digest_items.c.outbox_id == mail).values(outbox_id=None))
            conn.execute(delete(outbox).where(outbox.c.id == mail, outbox.c.status == "queued"))
            continue
        made += 1
    return made


def pending(conn: Connection) -> dict[str, Any]:
    """For `outages status`: the changes waiting for an hourly or daily digest (not yet in any mail), how many
    recipients they are for, and when the first of those digests is due."""
    items, recipients, next_due = conn.execute(
        select(func.count(), func.count(distinct(digest_items.c.recipient)), func.min(digest_items.c.due_at))
        .where(digest_items.c.outbox_id.is_(None))).one()
    return {"items": items or 0, "recipients": recipients or 0,
            "next_due": next_due.isoformat() if next_due else None}
