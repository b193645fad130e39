"""Event rows: every change of a record is written as a row in the same transaction as the change.

Consumers (the notification outbox, feeds) read these rows; nothing is inferred from logs.
Kinds: the record's own changes (model.RECORD_KINDS: created, edited, updated, resolved), and breach and overdue,
raised against its deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text

from outages.db import bulk_insert
from outages.schema import events
from outages.settings import Settings


@dataclass(frozen=True, slots=True)
class NewEvent:
    record_number: int
    kind: str
    at: datetime
    revision: int
    data: dict[str, Any]


def emit(conn: Connection, new: list[NewEvent], now: datetime, settings: Settings) -> list[int]:
    """Insert the events (in order), queue who must be told in the same transaction, and return their ids."""
    if not new:
        return []
    ids: list[int] = []
    # A chunk at a time: a year's first sync makes 100k events, and their parameter rows need not coexist.
    for start in range(0, len(new), CHUNK):
        ids += _insert(conn, new[start:start + CHUNK], now)
    from outages.officials.event_mail import enqueue  # the outbox rows commit or roll back with their events

    enqueue(conn, ids, settings, now)
    # The residents' channels (Telegram, webhooks, subscribers' fan-out) are queued in the same transaction.
    from outages.residents.channels import enqueue as enqueue_channels

    enqueue_channels(conn, ids, settings, now)
    # Residents' reports follow their records: taken by a new record, closed with it (outages/reports/follow.py).
    from outages.reports.follow import on_events

    on_events(conn, ids, settings, now)
    return ids


CHUNK = 5000


def _insert(conn: Connection, new: list[NewEvent], now: datetime) -> list[int]:
    rows = [
        {"record_number": e.record_number, "kind": e.kind, "at": e.at, "created_at": now, "revision": e.revision,
         "data": e.data}
        for e in new
    ]
    if conn.dialect.name == "postgresql":
        # Reserve the ids first, then COPY: RETURNING would make SQLAlchemy build one huge multi-VALUES
        # statement that psycopg parses slowly in Python.
        ids = list(conn.execute(text(
            "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, :n)"
        ), {"n": len(rows)}).scalars())
    else:
        # SQLite: the next ids after the largest. The transaction holds the write lock from its first write (a
        # sync takes it at once), so no other writer can take these; if one ever did, the insert fails on the
        # primary key and the whole transaction rolls back, never a silent mix-up.
        first = (conn.execute(select(func.max(events.c.id))).scalar() or 0) + 1
        ids = list(range(first, first + len(rows)))
    for row, event_id in zip(rows, ids):
        row["id"] = event_id
    bulk_insert(conn, events, rows)
    return ids
