"""Relay confirmation (regulation 7.6–7.7): duty officers and HOA heads relay an emergency within the hour.

Their messages carry a signed link «Інформацію передано»; the hub records who confirmed and when. No confirmation
45 minutes after the message was delivered: a reminder to the same person; none at 60 minutes: an escalation to
the control officers. Timers run from `sent_at` (when the server took the message), not from the event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, and_, select, update

from ..queries import get_record
from ..schema import outbox, relay_confirmations
from ..settings import Settings
from ..times import between, fmt, minutes
from .directory import ROLE_UK
from .messages import message_id, record_context, render
from .options import MailOptions
from .queue import new_row, queue
from .routing import CONTACT_ROLES, recipients_for

CONFIRM_SALT = "outages.relay.confirm"
STATE_SALT = "outages.relay.state"


def _signer(options: MailOptions, salt: str) -> URLSafeSerializer | None:
    return URLSafeSerializer(options.secret_key, salt=salt) if options.secret_key else None


def links(options: MailOptions, dedup_key: str | None, record_number: int, role: str) -> dict[str, str]:
    """The confirmation link (for a message that needs relaying) and the relay-state page (for officials).
    Without OUTAGES_SECRET_KEY no links are made: an unsigned link would let anyone confirm."""
    out = {"relay_url": "", "relay_state_url": ""}
    confirm, state = _signer(options, CONFIRM_SALT), _signer(options, STATE_SALT)
    if confirm is not None and dedup_key:
        out["relay_url"] = f"{options.public_url}/relay/confirm/{confirm.dumps(dedup_key)}"
    if state is not None and role in CONTACT_ROLES:
        out["relay_state_url"] = f"{options.public_url}/relay/records/{state.dumps(record_number)}"
    return out


def _read(options: MailOptions, salt: str, token: str, kind: type) -> Any:
    """The signed value, or None for a forged, foreign or wrongly typed token (or no secret key)."""
    signer = _signer(options, salt)
    try:
        value = signer.loads(token) if signer else None
    except BadSignature:
        return None
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def read_confirm_token(options: MailOptions, token: str) -> str | None:
    return _read(options, CONFIRM_SALT, token, str)


def read_state_token(options: MailOptions, token: str) -> int | None:
    return _read(options, STATE_SALT, token, int)


def message_for(conn: Connection, dedup_key: str) -> Any:
    return conn.execute(select(outbox).where(outbox.c.dedup_key == dedup_key, outbox.c.relay.is_(True))).first()


def confirmation(conn: Connection, outbox_id: int) -> Any:
    return conn.execute(select(relay_confirmations).where(relay_confirmations.c.outbox_id == outbox_id)).first()


def confirm(conn: Connection, dedup_key: str, now: datetime, remote_addr: str = "", user_agent: str = "") -> Any:
    """Record the confirmation of one message (the first one counts); returns the confirmation row, or None
    when no such message needs relaying."""
    message = message_for(conn, dedup_key)
    if message is None:
        return None
    existing = confirmation(conn, message.id)
    if existing is not None:
        return existing
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(relay_confirmations).on_conflict_do_nothing().values(
        outbox_id=message.id, record_number=message.record_number, recipient=message.recipient, confirmed_at=now,
        remote_addr=remote_addr[:100], user_agent=user_agent[:300],
    ))
    return confirmation(conn, message.id)


def state(conn: Connection, record_number: int) -> list[dict[str, Any]]:
    """Every message about the record that asked for a relay, with its confirmation (the officials' page)."""
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
        if record is None:
            continue
        context = record_context(record, tz, None, options.public_url, settings.city_name)
        context.update(links(options, message.dedup_key, record.number, message.role))
        context.update(minutes=round(minutes(between(message.sent_at, now))),
                       deadline_at=fmt(message.sent_at + options.relay_escalation, tz))
        rows.append(new_row(
            dedup_key=f"relay-reminder:{message.id}", kind="relay_reminder", recipient=message.recipient,
            role=message.role, rendered=render("relay_reminder", context),
            msg_id=message_id(options.domain, "relay", message.id, "reminder", recipient=message.recipient),
            now=now, record_number=record.number,
        ))
        rows[-1]["recipient_name"] = message.recipient_name
        conn.execute(update(outbox).where(outbox.c.id == message.id).values(relay_reminded_at=now))
    # Escalations: one message per control officer per event, listing everyone who has not confirmed.
    late = conn.execute(select(outbox).where(
        _unconfirmed(outbox.c.relay_escalated_at, now - options.relay_escalation)).order_by(outbox.c.id)).all()
    groups: dict[tuple[int, Any], list[Any]] = {}
    for message in late:
        groups.setdefault((message.record_number, message.event_id), []).append(message)
    for (number, _event), messages in groups.items():
        record = get_record(conn, number, now)
        if record is None:
            continue
        missing = [{"name": m.recipient_name, "email": m.recipient, "role_uk": ROLE_UK.get(m.role, m.role),
                    "sent_at": fmt(m.sent_at, tz)} for m in messages]
        first = messages[0]
        for control in recipients_for("relay_escalation", record, settings):
            context = record_context(record, tz, control, options.public_url, settings.city_name)
            context.update(links(options, None, record.number, control.role))
            context.update(missing=missing, minutes=round(minutes(between(first.sent_at, now))))
            rows.append(new_row(
                dedup_key=f"relay-escalation:{first.id}:{control.email.lower()}", kind="relay_escalation",
                recipient=control, role=control.role, rendered=render("relay_escalation", context),
                msg_id=message_id(options.domain, "relay", first.id, "escalation", recipient=control.email),
                now=now, record_number=number,
            ))
        conn.execute(update(outbox).where(outbox.c.id.in_([m.id for m in messages]))
                     .values(relay_escalated_at=now))
    return queue(conn, rows)

