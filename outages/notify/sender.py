"""Draining the outbox: claim a batch, mark the attempts, send over one SMTP connection, store each result.

Claiming is one conditional UPDATE (its row choice `FOR UPDATE SKIP LOCKED` on PostgreSQL), so two workers
never hold the same row. The attempt rows are committed before the SMTP conversation starts and completed after
it, each message in its own small transaction: a crash leaves an attempt marked "sending", which the next claim
after the lease turns into "interrupted" and retries (same Message-ID, so a rare double is recognisable).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic
from typing import Any, Callable

from sqlalchemy import Engine, and_, insert, or_, select, update

from ..schema import delivery_attempts, outbox
from ..settings import Settings
from ..times import UTC, between
from . import relay, schedule
from .options import MailOptions, mail_options
from .transport import Outgoing, SmtpTransport, TransportError

log = logging.getLogger(__name__)


@dataclass
class Claimed:
    id: int
    attempt_id: int
    attempts: int
    created_at: datetime
    message: Outgoing
    worker: str


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}:{uuid.uuid4().hex[:6]}"


def backoff(options: MailOptions, attempts: int) -> timedelta:
    """1, 2, 4 … minutes after the 1st, 2nd, 3rd … temporary failure, at most an hour (by default)."""
    return min(options.retry_first * (2 ** max(0, attempts - 1)), options.retry_max)


def deliver_pending(engine: Engine, settings: Settings, now: datetime, *,
                    transport: SmtpTransport | None = None) -> dict[str, int]:
    options = mail_options(settings)
    # Interval arithmetic (leases, backoff, the relay's 45/60 minutes) in UTC: on a zone's wall clock
    # `now - 45 min` is off by an hour across a DST change.
    now = now.astimezone(UTC)
    with engine.begin() as conn:
        queued = relay.enqueue_due(conn, settings, options, now)
        queued += schedule.enqueue_due(conn, settings, options, now)
    counts = {"sent": 0, "failed": 0, "deferred": 0, "queued": queued}
    worker = worker_name()
    start = monotonic()

    def clock() -> datetime:  # the caller's (possibly pinned) now, moved on by the real time spent sending
        return now + timedelta(seconds=monotonic() - start)

    own = transport is None
    transport = transport or SmtpTransport(options)
    try:
        while True:
            batch = claim(engine, worker, options, now, clock)
            if not batch:
                break
            if not _send_batch(engine, transport, batch, options, clock, counts):
                break  # the server is unreachable: the rest waits for its backoff
    finally:
        if own:
            transport.close()
    return counts


def claim(engine: Engine, worker: str, options: MailOptions, now: datetime,
          clock: Callable[[], datetime]) -> list[Claimed]:
    stamp = clock()
    claimable = or_(
        and_(outbox.c.status == "queued", outbox.c.next_attempt_at <= now),
        and_(outbox.c.status == "sending", outbox.c.claimed_at < now - options.claim_lease),  # its worker died
    )
    with engine.begin() as conn:
        pick = (select(outbox.c.id).where(claimable).order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(options.batch_size))
        if conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        # A CTE runs once; `id IN (subquery)` may be re-run by PostgreSQL's recheck of rows another worker just
        # changed, claiming more than one batch. The repeated condition makes it a conditional update on SQLite.
        picked = pick.cte("picked")
        taken = conn.execute(
            update(outbox).where(outbox.c.id == picked.c.id, claimable)
            .values(status="sending", claimed_by=worker, claimed_at=stamp, attempts=outbox.c.attempts + 1)
            .returning(outbox.c.id)
        ).scalars().all()
        if not taken:
            return []
        conn.execute(update(delivery_attempts)
                     .where(delivery_attempts.c.outbox_id.in_(taken), delivery_attempts.c.result == "sending")
                     .values(result="interrupted", finished_at=stamp, error="the worker stopped during this attempt"))
        rows = conn.execute(select(outbox).where(outbox.c.id.in_(taken)).order_by(outbox.c.id)).all()
        # A plain executemany (no RETURNING: the PostgreSQL engine runs without insertmanyvalues), then the ids:
        # each claimed row has exactly one attempt of this worker still "sending".
        conn.execute(insert(delivery_attempts),
                     [{"outbox_id": r.id, "worker": worker, "started_at": stamp, "result": "sending"} for r in rows])
        attempt_ids = dict(conn.execute(select(delivery_attempts.c.outbox_id, delivery_attempts.c.id).where(
            delivery_attempts.c.outbox_id.in_(taken), delivery_attempts.c.worker == worker,
            delivery_attempts.c.result == "sending")).all())
    return [
        Claimed(id=r.id, attempt_id=attempt_ids[r.id], attempts=r.attempts, created_at=r.created_at,
                message=Outgoing(to=r.recipient, subject=r.subject, text=r.text_body, html=r.html_body,
                                 message_id=r.message_id, to_name=r.recipient_name, headers=r.headers or {}),
                worker=worker)
        for r in rows
    ]


def _send_batch(engine: Engine, transport: SmtpTransport, batch: list[Claimed], options: MailOptions,
                clock: Callable[[], datetime], counts: dict[str, int]) -> bool:
    """Send a claimed batch; False when the server could not be reached (the rest of the batch is deferred)."""
    for index, item in enumerate(batch):
        began = monotonic()
        try:
            answer = transport.send(item.message)
        except TransportError as exc:
            unreachable = exc.unreachable
            _finish(engine, item, options, clock(), monotonic() - began, error=exc, counts=counts)
            if unreachable:
                for rest in batch[index + 1:]:
                    _finish(engine, rest, options, clock(), 0.0, counts=counts,
                            error=TransportError(f"not tried: {exc}"))
                return False
            continue
        _finish(engine, item, options, clock(), monotonic() - began, answer=answer, counts=counts)
    return True


def _finish(engine: Engine, item: Claimed, options: MailOptions, at: datetime, seconds: float, *,
            counts: dict[str, int], answer: str = "", error: TransportError | None = None) -> None:
    values: dict[str, Any]
    if error is None:
        result = "sent"
        values = {"status": "sent", "sent_at": at, "last_answer": answer, "last_error": None}
    elif error.permanent or between(item.created_at, at) >= options.give_up:
        result = "failed"
        values = {"status": "failed", "failed_at": at, "last_answer": error.answer or None, "last_error": str(error)}
    else:
        result = "deferred"
        values = {"status": "queued", "next_attempt_at": at + backoff(options, item.attempts),
                  "last_answer": error.answer or None, "last_error": str(error)}
    counts[result] += 1
    with engine.begin() as conn:
        # Only the claim holder writes the result: a row re-claimed after a lease is not overwritten.
        conn.execute(update(outbox).where(outbox.c.id == item.id, outbox.c.status == "sending",
                                          outbox.c.claimed_by == item.worker)
                     .values(claimed_by=None, claimed_at=None, **values))
        conn.execute(update(delivery_attempts).where(delivery_attempts.c.id == item.attempt_id).values(
            result=result, finished_at=at, answer=answer or (error.answer if error else None) or None,
            error=str(error) if error else None, duration_ms=round(seconds * 1000, 2),
        ))
    if error is not None:
        log.warning("message %s to %s %s: %s", item.id, item.message.to, result, error)
