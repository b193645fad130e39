"""Writing outbox rows, of every medium: the one row shape (`row`), officials' mail with its thread headers
(`new_row`, `queue`), and inserting rows that skip what is already queued (`insert_rows`, `put`).

Every producer of messages shares it (officials' event mail, relay reminders, schedules, digests, residents'
posts, webhooks and subscribers' messages); it imports nothing that could import it back.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from outages.db import insert_or_skip
from outages.officials.directory import Recipient
from outages.schema import outbox


def queue(conn: Connection, rows: list[dict[str, Any]], tz: ZoneInfo) -> int:
    """Insert outbox rows; a row whose (event, recipient) or dedup key is already there is skipped, so queuing the
    same thing twice (two workers, a re-run) never makes a second message. Each row gets its headers here: the
    Date in the city's offset, and the thread it belongs to."""
    if not rows:
        return 0
    _thread(conn, rows, tz)
    return insert_rows(conn, rows)


def _thread(conn: Connection, rows: list[dict[str, Any]], tz: ZoneInfo) -> None:
    """Mails about one record thread for each recipient: the first one's Message-ID starts the thread, every later
    one carries it in In-Reply-To and References (RFC 5322 3.6.4). The Date is when the message was made, in the
    city's offset, so a retry is the same message."""
    numbers = {r["record_number"] for r in rows if r.get("record_number") is not None}
    first: dict[tuple[int, str], str] = {}
    if numbers:
        earlier = conn.execute(select(outbox.c.record_number, outbox.c.recipient, outbox.c.message_id)
                               .where(outbox.c.record_number.in_(numbers)).order_by(outbox.c.id))
        for number, recipient, mid in earlier:
            first.setdefault((number, recipient.lower()), mid)
    for row in rows:
        headers = {"Date": format_datetime(row["created_at"].astimezone(tz))}
        if row.get("record_number") is not None:
            root = first.setdefault((row["record_number"], row["recipient"].lower()), row["message_id"])
            if root != row["message_id"]:
                headers.update({"In-Reply-To": root, "References": root})
        row["headers"] = headers


def new_row(*, dedup_key: str, kind: str, recipient: Recipient | str, role: str, rendered, msg_id: str,  # noqa: ANN001
            now: datetime, event_id: int | None = None, record_number: int | None = None,
            relay_required: bool = False) -> dict[str, Any]:
    """An officials' mail row (its headers are added by `queue`)."""
    email = recipient.email if isinstance(recipient, Recipient) else recipient
    name = recipient.name if isinstance(recipient, Recipient) else ""
    values = row(channel="email", dedup_key=dedup_key, kind=kind, recipient=email, role=role, text=rendered.text,
                 payload=None, now=now, record_number=record_number, event_id=event_id, subject=rendered.subject,
                 html=rendered.html, msg_id=msg_id)
    return values | {"recipient_name": name, "relay": relay_required}


def row(*, channel: str, dedup_key: str, kind: str, recipient: str, role: str, text: str,
        payload: dict[str, Any] | None, now: datetime, record_number: int | None = None, event_id: int | None = None,
        depends_on: int | None = None, subscription_id: int | None = None, subject: str = "",
        html: str = "", msg_id: str = "", not_before: datetime | None = None,
        headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An outbox row of any channel. For Telegram and webhooks the mail columns hold a readable copy for
    `outages outbox`, and `message_id` the dedup key (the idempotency key a webhook receiver sees)."""
    return {
        "dedup_key": dedup_key[:300], "event_id": event_id, "record_number": record_number, "kind": kind,
        "recipient": recipient, "recipient_name": "", "role": role, "subject": subject or kind, "text_body": text,
        "html_body": html, "message_id": (msg_id or dedup_key)[:300], "relay": False, "status": "queued",
        "attempts": 0, "created_at": now, "next_attempt_at": not_before or now, "channel": channel,
        "payload": payload, "depends_on": depends_on, "subscription_id": subscription_id, "headers": headers,
    }


def put(conn: Connection, values: dict[str, Any]) -> tuple[int, bool]:
    """Insert one outbox row unless its dedup key is there; (its id, whether it is new)."""
    new = bool(insert_or_skip(conn, outbox, values).rowcount)
    found = conn.execute(select(outbox.c.id).where(outbox.c.dedup_key == values["dedup_key"])).scalar_one()
    return found, new


def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, skipping any whose dedup key or (event, recipient) is already there."""
    if not rows:
        return 0
    result = insert_or_skip(conn, outbox, rows)
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)
