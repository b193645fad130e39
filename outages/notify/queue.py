"""Writing outbox rows: the leaf every producer of messages (events, relay reminders, schedules) shares.

It imports nothing else of notify/ that could import it back, so outbox.py, relay.py and schedule.py all use it
at the top of the module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from ..schema import outbox
from .directory import Recipient


def queue(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows; a row whose (event, recipient) or dedup key is already there is skipped, so queuing the
    same thing twice (two workers, a re-run) never makes a second message."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    result = conn.execute(dialect.insert(outbox).on_conflict_do_nothing(), rows)
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)


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
