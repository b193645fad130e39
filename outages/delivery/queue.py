"""Writing outbox rows: the leaf every producer of messages (events, relay reminders, schedules) shares.

It imports nothing else of notify/ that could import it back, so outbox.py, relay.py and schedule.py all use it
at the top of the module.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from outages.officials.directory import Recipient
from outages.schema import outbox


def queue(conn: Connection, rows: list[dict[str, Any]], tz: ZoneInfo) -> int:
    """Insert outbox rows; a row whose (event, recipient) or dedup key is already there is skipped, so queuing the
    same thing twice (two workers, a re-run) never makes a second message. Each row gets its headers here: the
    Date in the city's offset, and the thread it belongs to."""
    if not rows:
        return 0
    _thread(conn, rows, tz)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    result = conn.execute(dialect.insert(outbox).on_conflict_do_nothing(), rows)
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)


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
    email = recipient.email if isinstance(recipient, Recipient) else recipient
    name = recipient.name if isinstance(recipient, Recipient) else ""
    return {
        "dedup_key": dedup_key[:300], "event_id": event_id, "record_number": record_number, "kind": kind,
        "recipient": email, "recipient_name": name, "role": role, "subject": rendered.subject,
        "text_body": rendered.text, "html_body": rendered.html, "message_id": msg_id, "relay": relay_required,
        "status": "queued", "attempts": 0, "created_at": now, "next_attempt_at": now,
    }
