"""The outbox: one row per (event, recipient), written in the same transaction as the event.

Each row holds the finished message (subject, text, HTML, Message-ID), rendered from the record as it is at that
change, so a retry hours later sends exactly what was true when it was queued.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from outages.db import insert_or_skip
from outages.delivery.queue import new_row, queue
from outages.officials import relay
from outages.officials.cadence import cadence, due_at
from outages.officials.directory import Recipient, check_address
from outages.officials.messages import message_id, record_context, render, short_time
from outages.officials.options import MailOptions, mail_options
from outages.officials.routing import RELAY_ROLES, recipients_for
from outages.officials.words import reader_day, reader_time
from outages.records.history import fold, states
from outages.records.model import RECORD_KINDS, Kind
from outages.records.views import EventView, RecordView, histories, records_by_number
from outages.schema import digest_items, events, outbox
from outages.settings import Settings
from outages.text import clean, one_line
from outages.times import between, instant

log = logging.getLogger(__name__)

# Fields an official cares about when a record is edited or updated, with the short label a mail's list of
# changes gives each; the rest (contacts, flags) are not news. (A verdict names the form's questions instead:
# parse.FORM_FIELD_UK.)
NEWS_FIELD_UK = {
    "executor": "виконавець", "service": "послуга", "districts": "райони", "addresses": "адреси",
    "summary": "коротко", "cause": "причини", "impact": "наслідки для мешканців", "event_at": "час події",
    "expected_end": "термін ліквідації", "kind": "тип", "status": "стан",
}


def enqueue(conn: Connection, event_ids: list[int], settings: Settings, now: datetime) -> int:
    """Queue the messages these events cause (or note them for the recipients' digests); returns how many
    messages."""
    if not event_ids:
        return 0
    options = mail_options(settings)
    rows: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    recent = [e for e in _events(conn, event_ids, now - options.news_max_age)
              if between(_news_time(e), now) <= options.news_max_age]
    recent = fold(recent)  # one message per record of a backlog, in its current state
    numbers = sorted({e.record_number for e in recent})
    views = records_by_number(conn, numbers, now)
    past = histories(conn, numbers, RECORD_KINDS)
    asked = relay.asked(conn, numbers)  # (record, address) already asked to relay: asked once per record
    for event in recent:
        record = views.get(event.record_number)
        if record is not None:
            state = _as_of(record, past.get(event.record_number, []), event.id)
            # An emergency that has ended by now (a late sync, a first import) is told, but nobody is asked to relay
            # it any more.
            ended = record.status != "active"
            event_rows, event_items = _event_rows(conn, event, state, settings, options, now, asked, ended)
            rows.extend(event_rows)
            items.extend(event_items)
    if items:
        insert_or_skip(conn, digest_items, items)
    return queue(conn, rows, settings.tz)


def _as_of(record: RecordView, changes: list[EventView], event_id: int) -> RecordView:
    """The record right after this event (for a breach or overdue: after the last change before it). A sync that
    brings a new record and its update together must not announce the new record with the updated end."""
    state = record
    for event, after in states(record, changes):
        if event.id <= event_id:
            state = after
    return state


def _news_time(event) -> datetime:  # noqa: ANN001
    # "Overdue" is raised when a sync notices it; as news it dates from the expected end that passed.
    if event.kind == "overdue":
        return instant((event.data or {}).get("expected_end")) or event.at
    return event.at


def _events(conn: Connection, ids: list[int], since: datetime) -> list[Any]:
    """The events among `ids` that happened since `since` (one query: a sync's events have adjacent ids)."""
    wanted = set(ids)
    query = select(events).where(events.c.id.between(min(ids), max(ids)), events.c.at >= since).order_by(events.c.id)
    return [e for e in conn.execute(query) if e.id in wanted]


def _event_rows(conn: Connection, event, record: RecordView, settings: Settings, options: MailOptions,  # noqa: ANN001
                now: datetime, asked: dict[tuple[int, str], datetime],
                ended: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The outbox rows of one event, and the digest items of the recipients who chose a digest."""
    kind = event.kind
    data = event.data or {}
    changes = _changes(data.get("changed", {}), settings, now)
    districts = set(record.districts)
    if kind in ("edited", "corrected"):
        if not changes:
            return [], []  # only contacts or flags changed: not news for officials
        old = data.get("changed", {}).get("districts", [None])[0]
        districts |= set(old or [])  # a district dropped by the edit hears that it no longer applies
    if kind == "breach" and record.kind is not Kind.EMERGENCY:
        return [], []  # planned-works breaches go into the weekly digest (regulation 6.2)
    if kind not in RECORD_KINDS + ("breach", "overdue"):
        return [], []
    extra = _extra(kind, data, record, settings, now)
    rows, items = [], []
    recipients = recipients_for(kind, record, settings, districts=sorted(districts))
    if kind == "cancelled":
        # Everyone told of the record hears that it is void, exactly once (control and the utility of a breach,
        # an official whose district a correction dropped); nobody not told hears of it at all.
        recipients = told_of(conn, record.number, recipients)
    told = [r.name for r in recipients if r.role == "hoa_head"]  # the ОСББ heads the hub reaches itself (7.7)
    for recipient in recipients:
        dedup = f"event:{event.id}:{recipient.email.lower()}"
        relay_role = record.kind is Kind.EMERGENCY and kind in RECORD_KINDS and recipient.role in RELAY_ROLES
        pair = (record.number, recipient.email.lower())
        needs_relay = relay_role and not ended and pair not in asked  # one request per (record, recipient)
        relay_role = relay_role and (needs_relay or pair in asked)
        how = cadence(recipient, kind, record.kind, settings, relay=needs_relay)
        if kind == "overdue":
            # «Term passed» is the first of the reminders (schedule.overdue_reminders): it joins them, so what
            # comes due for one recipient in the same round, or within `reminder_fold_hours`, is one mail.
            items.append({"dedup_key": dedup, "recipient": recipient.email, "recipient_name": recipient.name,
                          "role": recipient.role, "record_number": record.number, "event_id": event.id,
                          "kind": kind, "cadence": "now", "created_at": now, "due_at": now})
            continue
        if how != "now":
            items.append({"dedup_key": dedup, "recipient": recipient.email, "recipient_name": recipient.name,
                          "role": recipient.role, "record_number": record.number, "event_id": event.id,
                          "kind": kind, "cadence": how, "created_at": now,
                          "due_at": due_at(how, now, settings, options.digest_hour)})
            continue
        if needs_relay:
            asked[pair] = now
        context = record_context(record, settings.tz, recipient, options.public_url, settings.city_name, now=now,
                                 hotline=options.hotline)
        context.update(extra, changes=changes, told_directly=told if recipient.role == "hoa_department" else [])
        context.update(relay.links(options, record.number, recipient.email, recipient.role, relay=relay_role,
                                   now=asked.get(pair, now)))
        rows.append(new_row(
            dedup_key=dedup, kind=kind, recipient=recipient, role=recipient.role,
            rendered=render(kind, context, limit=settings.display_max_chars),
            msg_id=message_id(options.domain, f"r{record.number}", f"v{event.revision}", kind,
                              recipient=recipient.email),
            now=now, event_id=event.id, record_number=record.number, relay_required=needs_relay,
        ))
    return rows, items


def told_of(conn: Connection, number: int, routed: list[Recipient]) -> list[Recipient]:
    """Everyone already told of the record by mail (its messages, and the digests that will carry it), once each
    by address. Those told by a message hear at once whatever cadence they chose: they may be acting on it."""
    by_address: dict[str, Recipient] = {}
    routed_by = {r.email.lower(): r for r in routed}
    sent = conn.execute(select(outbox.c.recipient, outbox.c.recipient_name, outbox.c.role).where(
        outbox.c.record_number == number, outbox.c.channel == "email", outbox.c.role != "reporter"))
    for email, name, role in sent:
        known = routed_by.get(email.lower())
        by_address.setdefault(email.lower(), replace(known, delivery="now") if known else
                              Recipient(email=email, name=name, role=role, delivery="now"))
    noted = conn.execute(select(digest_items.c.recipient, digest_items.c.recipient_name, digest_items.c.role)
                         .where(digest_items.c.record_number == number))
    for email, name, role in noted:
        by_address.setdefault(email.lower(), routed_by.get(email.lower())
                              or Recipient(email=email, name=name, role=role))
    return list(by_address.values())


def _extra(kind: str, data: dict[str, Any], record: RecordView, settings: Settings,
           now: datetime) -> dict[str, Any]:
    tz = settings.tz
    today = reader_day(now, tz)
    old = instant(data.get("old_expected_end"))
    new = instant(data.get("new_expected_end"))
    return {
        # An update's or resolution's own words («Замінено 12 м трубопроводу…»): the record keeps its first summary.
        "said": clean(data.get("text") or data.get("reason") or "")
        if kind in ("updated", "resolved", "corrected", "cancelled") else "",
        "old_end": reader_time(old, tz, today), "new_end": reader_time(new, tz, today) if new else "",
        # «до завтра 09:00 (було 20:00)»: the old time names its day only when it differs from the new one's.
        "new_end_short": reader_time(new, tz, today, "до") if new else "—",
        "old_end_short": short_time(old, tz, new) if new else reader_time(old, tz, today),
    }


def _changes(changed: dict[str, Any], settings: Settings, now: datetime) -> list[dict[str, str]]:
    out = []
    for name, pair in changed.items():
        if name not in NEWS_FIELD_UK or not isinstance(pair, list) or len(pair) != 2:
            continue
        out.append({"label": NEWS_FIELD_UK[name], "old": _show(pair[0], settings, now),
                    "new": _show(pair[1], settings, now)})
    return out


def _show(value: Any, settings: Settings, now: datetime) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    moment = instant(value) if isinstance(value, str) and len(value) >= 19 and value[4] == "-" else None
    if moment is not None:
        return reader_time(moment, settings.tz, reader_day(now, settings.tz))
    return {"emergency": "аварійна ситуація", "planned": "планові роботи", "active": "активний",
            "resolved": "ліквідовано"}.get(str(value), one_line(value))


def enqueue_verdicts(conn: Connection, plan, settings: Settings, now: datetime) -> int:  # noqa: ANN001
    """When OUTAGES_MAIL_REPORTERS is on: tell the form's e-mail address the record number, or why its row was
    rejected. Rejected rows make no event, so this reads the sync's plan; one message per row content."""
    options = mail_options(settings)
    if not options.reporters:
        return 0
    rows = []
    for decision in plan.decisions:
        sub = decision.submission
        if decision.change == "unchanged" or sub is None or not sub.reporter_email:
            continue
        try:
            address = check_address(sub.reporter_email)
        except ValueError:
            continue
        accepted = decision.status == "accepted"
        kind = "reporter_accepted" if accepted else "reporter_rejected"
        context = {
            "city": settings.city_name, "row": decision.row, "number": decision.record or "",
            "action_uk": decision.action.uk if decision.action else "", "service": one_line(sub.service),
            "deadline": decision.deadline.describe() if decision.deadline else "",
            "errors": list(decision.errors),
            "verdict": plan.verdict(decision),  # word for word what the sheet's «Статус обробки» shows
        }
        dedup = f"reporter:{decision.content_hash}:{decision.status}:{address.lower()}"
        rows.append(new_row(
            dedup_key=dedup, kind=kind, recipient=address, role="reporter",
            rendered=render(kind, context, limit=settings.display_max_chars),
            msg_id=message_id(options.domain, "row", decision.row, decision.status, decision.content_hash[:10],
                              recipient=address),
            now=now, record_number=decision.record if accepted else None,
        ))
    return queue(conn, rows, settings.tz)
