"""Rejected emergencies are chased (issue 19): a form row of kind «Аварійна ситуація» that the hub rejected reaches
control (routing kind `rejected_emergency`) in the next send, with the verdict the dispatcher's sheet shows, what
the row said and the dispatcher's contact, so someone rings the utility while the water is still off.

Without this such a row reaches nobody: it makes no record and no event, and the mail to the form's own e-mail
(OUTAGES_MAIL_REPORTERS) is off by default. The sync calls it beside `enqueue_verdicts`, in its transaction, from
the plan.

One mail per row content and recipient (dedup `rejected:<content_hash>:<address>`): a re-sync of the unchanged
sheet, or of rows that only moved, queues nothing again; an edit that leaves the row rejected is new content and
is mailed again, since the verdict may have changed and control learns the dispatcher tried. Not chased: a
repeat of another row (it has nothing of its own), planned works (the rules give days, not minutes, and /ops
lists them), a row the hub once accepted (its record exists and was told; the broken edit left it unchanged), and
a row older than `notify.news_max_hours` when first seen (a first import of a year's sheet).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from outages.delivery.queue import new_row, queue
from outages.display import clip
from outages.officials.directory import Recipient
from outages.officials.messages import message_id, render
from outages.officials.options import MailOptions, mail_options
from outages.officials.routing import CONTACT_ROLES, by_role, in_portfolio
from outages.officials.words import reader_day, reader_time, tel
from outages.records.model import Action, Kind
from outages.records.planner import Decision, Plan
from outages.settings import Settings
from outages.text import one_line
from outages.times import between

KIND = "rejected_emergency"
SAID = ("executor", "service", "districts", "addresses", "summary", "event_at", "expected_end", "recorded_at")
WHAT = {Action.NEW: "повідомлення про аварійну ситуацію", Action.UPDATE: "оновлення аварійної ситуації",
        Action.RESOLVE: "повідомлення про ліквідацію аварійної ситуації"}


def chased(decision: Decision) -> bool:
    """Whether this row's rejection is news for control: a rejected emergency row, new or changed in this sync,
    of its own content (not a repeat), never accepted before."""
    prior = decision.prior
    return (decision.status == "rejected" and decision.change == "rejected" and decision.submission is not None
            and decision.kind is Kind.EMERGENCY and decision.record is None
            and (prior is None or (prior.status != "accepted" and prior.record_number is None)))


def enqueue_rejected(conn: Connection, plan: Plan, settings: Settings, now: datetime) -> int:
    """Queue the mails of this sync's rejected emergency rows; returns how many were new."""
    options = mail_options(settings)
    rows: list[dict[str, Any]] = []
    for decision in plan.decisions:
        if not chased(decision):
            continue
        sub = decision.submission
        assert sub is not None
        if sub.recorded_at is not None and between(sub.recorded_at, now) > options.news_max_age:
            continue  # old news: /ops still lists it
        for recipient in recipients(sub.executor, sub.service, sub.districts, settings):
            address = recipient.email.lower()
            context = _context(decision, plan, settings, options, recipient, now)
            rows.append(new_row(
                dedup_key=f"rejected:{decision.content_hash}:{address}", kind=KIND, recipient=recipient,
                role=recipient.role, rendered=render(KIND, context, limit=settings.display_max_chars),
                msg_id=message_id(options.domain, "row", decision.row, "rejected", decision.content_hash[:10],
                                  recipient=address),
                now=now,
            ))
    return queue(conn, rows, settings.tz)


def recipients(executor: str, service: str, districts: tuple[str, ...], settings: Settings) -> list[Recipient]:
    """Whom `[routing] rejected_emergency` names (control by default), within their portfolio. A row has no
    record, so the portfolio is read from what the row said; a district the hub refused is no district, so a
    row naming only unknown districts reaches every control officer of its service."""
    return [r for r in by_role(KIND, settings, executor=executor) if in_portfolio(r, service, districts)]


def _context(decision: Decision, plan: Plan, settings: Settings, options: MailOptions, recipient: Recipient,
             now: datetime) -> dict[str, Any]:
    sub = decision.submission
    assert sub is not None
    tz = settings.tz
    today = reader_day(now, tz)
    contact = {}
    if recipient.role in CONTACT_ROLES:  # officials; an ОСББ head routed here by a city would not see it
        phone = one_line(sub.contact_phone)
        contact = {"name": one_line(sub.contact_name), "phone": phone, "tel": tel(phone),
                   "email": one_line(sub.reporter_email)}
        contact["known"] = any(contact.values())
    return {
        "city": settings.city_name, "hotline": one_line(options.hotline), "hotline_tel": tel(options.hotline),
        "row": decision.row,
        "verdict": plan.verdict(decision),  # word for word what the sheet's «Статус обробки» shows
        "executor": one_line(sub.executor), "service": one_line(sub.service),
        "what": WHAT[sub.action or Action.NEW], "action_uk": sub.action.uk if sub.action else "",
        "reference": sub.reference or "",
        # A follow-up names itself in the subject («Оновлення №42»): its record may be known, the row was not.
        "follow_up": "" if sub.action in (None, Action.NEW) else " ".join(
            [sub.action.uk] + ([f"№{sub.reference}"] if sub.reference else [])),
        "districts": ", ".join(sub.districts),
        # What the body says of an empty field: left blank, or refused (a district the city lacks, a time that
        # cannot be read: the status names it, and the hub keeps no value for it).
        "missing": {name: "не прийнято, див. статус" if name in sub.invalid else "не вказано" for name in SAID},
        "addresses": sub.addresses, "place": _place(sub.addresses), "summary": sub.summary, "cause": sub.cause,
        "impact": sub.impact,
        "event_at": reader_time(sub.event_at, tz, today), "expected_end": reader_time(sub.expected_end, tz, today),
        "recorded_at": reader_time(sub.recorded_at, tz, today),
        "contact": contact, "ops_url": f"{options.public_url}/ops#rejected",
    }


def _place(addresses: str) -> str:
    """The first address, short, for the subject (the whole cell is in the body)."""
    first = one_line(re.split(r"[;\n]", addresses.strip(), maxsplit=1)[0]) if addresses.strip() else ""
    if not first:
        return ""
    more = "…" if len(first) > 48 or len(one_line(addresses)) > len(first) else ""
    return clip(first, 48).rstrip("…") + more
