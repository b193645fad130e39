"""The outbox: one row per (event, recipient), written in the same transaction as the event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from ..settings import Settings


def enqueue(conn: Connection, event_ids: list[int], settings: Settings, now: datetime) -> int:
    """Queue the messages these events cause; returns how many. (Filled in by the notifications work.)"""
    return 0


def deliver_pending(engine, settings: Settings, now: datetime) -> dict[str, int]:  # noqa: ANN001
    """Drain the outbox once: the worker (`outages run`) and `outages send` call this."""
    return {"sent": 0, "failed": 0, "deferred": 0}
