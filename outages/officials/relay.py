"""Relay confirmation (regulation 7.6–7.7): duty officers and HOA heads relay an emergency within the hour.

Their messages carry a signed link «Інформацію передано»; the hub records who confirmed and when. No confirmation
45 minutes after the message was delivered: a reminder to the same person; none at 60 minutes: an escalation to
the control officers. Timers run from `sent_at` (when the server took the message), not from the event.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, and_, select, update

from outages.db import insert_or_skip
from outages.delivery.queue import new_row, queue
from outages.officials.directory import ROLE_UK
from outages.officials.messages import message_id, record_context, render
from outages.officials.options import MailOptions
from outages.officials.routing import CONTACT_ROLES, recipients_for
from outages.officials.words import reader_day, reader_time
from outages.records.views import get_record
from outages.schema import outbox, relay_confirmations
from outages.settings import Settings
from outages.times import between, minutes

CONFIRM_SALT = "outages.relay.confirm.v2"
STATE_SALT = "outages.relay.state.v2"


class Expired(Exception):
    """A genuine link past its `relay_link_days`."""


def recipient_key(address: str) -> str:
    """What a link carries instead of the address: links travel through mail scanners, proxies and logs, and a
    signed token is only base64 — readable by anyone who holds it."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:20]


def _signer(options: MailOptions, salt: str) -> URLSafeSerializer | None:
    return URLSafeSerializer(options.secret_key, salt=salt) if options.secret_key else None


def links(options: MailOptions, record_number: int, address: str, role: str, *, relay: bool,
          now: datetime) -> dict[str, str]:
    """The confirmation link (for a message that asks for a relay) and the relay-state page (for officials). Both
    are signed, carry the hub's time of issue and expire `relay_link_days` after it, and name the record and a
    hash of the recipient, never the address. Without OUTAGES_SECRET_KEY no links are made: an unsigned link
    would let anyone confirm."""
    out = {"relay_url": "", "relay_state_url": ""}
    issued = int(now.timestamp())  # the hub's clock, not the machine's: the same change renders the same link
    confirm, state_signer = _signer(options, CONFIRM_SALT), _signer(options, STATE_SALT)
    if confirm is not None and relay:
        token = confirm.dumps([record_number, recipient_key(address), issued])
        out["relay_url"] = f"{options.public_url}/relay/confirm/{token}"
    if state_signer is not None and role in CONTACT_ROLES:
        out["relay_state_url"] = f"{options.public_url}/relay/records/{state_signer.dumps([record_number, issued])}"
    return out


def _read(options: MailOptions, salt: str, token: str, size: int, now: datetime) -> list | None:
    """The signed list (without its time of issue), or None for a forged or foreign token (or no secret key);
    raises Expired for a genuine one older than `relay_link_days`."""
    signer = _signer(options, salt)
    try:
        value = signer.loads(token) if signer else None
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == size and _is_int(value[0]) and _is_int(value[-1])):
        return None
    if now.timestamp() - value[-1] > options.relay_link_age.total_seconds():
        raise Expired
    return value[:-1]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_confirm_token(options: MailOptions, token: str, now: datetime) -> tuple[int, str] | None:
    value = _read(options, CONFIRM_SALT, token, 3, now)
    if value is None or not isinstance(value[1], str):
        return None
    return value[0], value[1]


def read_state_token(options: MailOptions, token: str, now: datetime) -> int | None:
    value = _read(options, STATE_SALT, token, 2, now)
    return None if value is None else value[0]


def asked(conn: Connection, numbers: list[int]) -> dict[tuple[int, str], datetime]:
    """(record, address) pairs already asked to relay, with when: a record asks each person once (more requests
    would be noise), and every later message about it carries the link of that request."""
    if not numbers:
        return {}
    rows = conn.execute(select(outbox.c.record_number, outbox.c.recipient, outbox.c.created_at).where(
        outbox.c.record_number.in_(numbers), outbox.c.relay.is_(True)))
    return {(number, recipient.lower()): created for number, recipient, created in rows}


def message_for(conn: Connection, record_number: int, key: str) -> Any:
    """The message that asked this recipient to relay this record (there is one per record and recipient)."""
    rows = conn.execute(select(outbox).where(outbox.c.record_number == record_number, outbox.c.relay.is_(True))
                        .order_by(outbox.c.id)).all()
    return next((row for row in rows if recipient_key(row.recipient) == key), None)


def confirmation(conn: Connection, outbox_id: int) -> Any:
    return conn.execute(select(relay_confirmations).where(relay_confirmations.c.outbox_id == outbox_id)).first()


def confirm(conn: Connection, record_number: int, key: str, now: datetime, remote_addr: str = "",
            user_agent: str = "") -> Any:
    """Record that this recipient relayed this record (the first confirmation counts; it covers every message
    about the record); returns the confirmation row, or None when nobody was asked."""
    message = message_for(conn, record_number, key)
    if message is None:
        return None
    existing = confirmation(conn, message.id)
    if existing is not None:
        return existing
    insert_or_skip(conn, relay_confirmations, dict(
        outbox_id=message.id, record_number=message.record_number, recipient=message.recipient, confirmed_at=now,
        remote_addr=remote_addr[:100], user_agent=user_agent[:300],
    ))
    return confirmation(conn, message.id)


def state(conn: Connection, record_number: int) -> list[dict[str, Any]]:
    """Everyone asked to relay the record (one request per person), with their confirmation (the officials'
    page)."""
    query = (select(outbox, relay_confirmations.c.confirmed_at)
             .select_from(outbox.outerjoin(relay_confirmations, relay_confirmations.c.outbox_id == outbox.c.id))
             .where(outbox.c.record_number == record_number, outbox.c.relay.is_(True))
             .order_by(outbox.c.id))
    out = []
    for row in conn.execute(query):
        if row.confirmed_at is not None:
            label = "підтверджено"
        elif row.status != "sent":
            label = {"failed": "не доставлено"}.get(row.status, "очікує надсилання")
        elif row.relay_escalated_at is not None:
            label = "не підтверджено — передано контролю"
        elif row.relay_reminded_at is not None:
            label = "не підтверджено — надіслано нагадування"
        else:
            label = "очікує підтвердження"
        out.append({"recipient": row.recipient, "name": row.recipient_name, "role": row.role,
                    "role_uk": ROLE_UK.get(row.role, row.role), "kind": row.kind, "status": row.status,
                    "sent_at": row.sent_at, "confirmed_at": row.confirmed_at, "reminded_at": row.relay_reminded_at,
                    "escalated_at": row.relay_escalated_at, "label": label, "confirmed": row.confirmed_at is not None})
    return out


def _unconfirmed(stamp_column, older_than: datetime):  # noqa: ANN001, ANN202
    confirmed = select(relay_confirmations.c.id).where(relay_confirmations.c.outbox_id == outbox.c.id).exists()
    return and_(outbox.c.relay.is_(True), outbox.c.status == "sent", stamp_column.is_(None),
                outbox.c.sent_at <= older_than, ~confirmed)


def enqueue_due(conn: Connection, settings: Settings, options: MailOptions, now: datetime) -> int:
    """Queue the reminders and escalations that have come due; returns how many messages."""
    rows: list[dict[str, Any]] = []
    tz = settings.tz
    # Reminders, unless the escalation is already due (then the escalation says it all).
    due = conn.execute(select(outbox).where(
        _unconfirmed(outbox.c.relay_reminded_at, now - options.relay_reminder),
        outbox.c.relay_escalated_at.is_(None), outbox.c.sent_at > now - options.relay_escalation,
    ).order_by(outbox.c.id)).all()
    for message in due:
        record = get_record(conn, message.record_number, now)
        if record is None or record.status != "active":
            continue  # over or cancelled: chasing the relay of an emergency that has ended is noise
        context = record_context(record, tz, None, options.public_url, settings.city_name, now=now,
                                 hotline=options.hotline)
        # The very link of the first message (issued when it was queued).
        context.update(links(options, record.number, message.recipient, message.role, relay=True,
                             now=message.created_at))
        context.update(minutes=round(minutes(between(message.sent_at, now))),
                       deadline_at=reader_time(message.sent_at + options.relay_escalation, tz, reader_day(now, tz),
                                               "до"),
                       role=message.role)
        rows.append(new_row(
            dedup_key=f"relay-reminder:{message.id}", kind="relay_reminder", recipient=message.recipient,
            role=message.role, rendered=render("relay_reminder", context, limit=settings.display_max_chars),
            msg_id=message_id(options.domain, "relay", message.id, "reminder", recipient=message.recipient),
            now=now, record_number=record.number,
        ))
        rows[-1]["recipient_name"] = message.recipient_name
        conn.execute(update(outbox).where(outbox.c.id == message.id).values(relay_reminded_at=now))
    # Escalations: one message per control officer per round, listing for each record within their portfolio
    # everyone who has not confirmed (a record that has ended meanwhile is left out).
    late = conn.execute(select(outbox).where(
        _unconfirmed(outbox.c.relay_escalated_at, now - options.relay_escalation),
        outbox.c.sent_at > now - options.relay_link_age).order_by(outbox.c.id)).all()
    groups: dict[int, list[Any]] = {}
    for message in late:
        groups.setdefault(message.record_number, []).append(message)
    today = reader_day(now, tz)
    per_control: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    escalated: list[int] = []
    for number, messages in groups.items():
        record = get_record(conn, number, now)
        if record is None or record.status != "active":
            continue
        missing = [{"name": m.recipient_name, "email": m.recipient, "role_uk": ROLE_UK.get(m.role, m.role),
                    "sent_at": reader_time(m.sent_at, tz, today)} for m in messages]
        escalated += [m.id for m in messages]
        for control in recipients_for("relay_escalation", record, settings):
            context = record_context(record, tz, control, options.public_url, settings.city_name, now=now,
                                     hotline=options.hotline)
            context.update(links(options, record.number, control.email, control.role, relay=False, now=now))
            context.update(missing=missing, minutes=round(minutes(between(messages[0].sent_at, now))))
            per_control.setdefault(control.email.lower(), (control, []))[1].append(context)
    last = max(escalated, default=0)
    for address, (control, entries) in per_control.items():
        context = dict(entries[0], entries=entries, missing_total=sum(len(e["missing"]) for e in entries))
        rows.append(new_row(
            dedup_key=f"relay-escalation:{last}:{address}", kind="relay_escalation",
            recipient=control, role=control.role,
            rendered=render("relay_escalation", context, limit=settings.display_max_chars),
            msg_id=message_id(options.domain, "relay", last, "escalation", recipient=control.email),
            now=now, record_number=entries[0]["number"] if len(entries) == 1 else None,
        ))
    if escalated:
        conn.execute(update(outbox).where(outbox.c.id.in_(escalated)).values(relay_escalated_at=now))
    return queue(conn, rows, tz)
