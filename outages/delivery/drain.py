"""Draining the outbox through one transport: claim a batch, renew the claim before each delivery, record each
result. The drain knows no medium: the transport (delivery.Transport) hands a delivery to its peer.

- **Claim**: one conditional UPDATE (its row choice `FOR UPDATE SKIP LOCKED` on PostgreSQL), so two drains never
  hold the same row. A row still `sending` after the lease belonged to a drain that died: it is taken over and
  that drain's attempt is marked `interrupted`. Claims are stamped and judged by the database's clock, never a
  sender's own: a sender whose clock runs 20 minutes ahead would otherwise see every live claim as lapsed.
- **Renew**: before each delivery the drain renews its claim on the rest of its batch, in the transaction that
  writes the attempt row. A batch may take far longer than the lease; one delivery never does (the lease
  exceeds `transport.longest()`, a total deadline per call, checked when the settings are read and by the
  tests), so a live drain never loses a row.
- **In order** (`policy.in_order`, Telegram and webhooks): a row waits while an older row to the same target is
  being sent or waiting for the peer, so after an outage the backlog goes out in the order it was queued, and
  only the oldest row of a target probes a peer that is down.
- **Only the holder marks a result**: the result is written on the condition that this drain still holds the
  claim. A drain that lost its claim records its attempt as `lost` and leaves the row to its new holder.
- **Budget and stop**: before each delivery the drain checks its time budget and the stop event; what it has
  not started goes back to the queue at once (`release`). A delivery cut short because the worker is stopping
  is `interrupted` and queued again with no backoff.
- **Outcome unknown**: an attempt cut off after the peer had the request (a killed worker, a deadline passed, a
  dropped connection: `TransportError.unanswered`) is recorded `interrupted`; one whose drain lost its claim
  while it talked to the peer, `lost`. Either may mean the message went twice: `outages outbox` flags such a
  Telegram message «МОЖЛИВО ДВІЧІ», whatever its state.
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

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from outages.delivery.protocol import Delivery, RetryPolicy, Transport, TransportError
from outages.schema import delivery_attempts, outbox, subscriptions
from outages.times import UTC, between

log = logging.getLogger(__name__)

STOPPED = "the worker stopped during this attempt"


@dataclass
class Claimed:
    id: int
    attempts: int  # before this drain's attempt
    created_at: datetime
    delivery: Delivery
    attempt_id: int | None = None


def worker_name(lane: str = "") -> str:
    prefix = f"{lane}@" if lane else ""
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}:{uuid.uuid4().hex[:6]}"


def drain(engine: Engine, transport: Transport, *, stop: threading.Event | None = None, budget_s: float = 120.0,
          now: datetime | None = None, worker: str | None = None) -> dict[str, int]:
    """Deliver what is due until the queue is empty, the budget is spent, the peer is unreachable or `stop` is
    set. `now` pins the clock (tests, `outages send` with a given time); it then moves on by the real time spent.
    Returns counts: sent, failed, deferred (and lost, released when any)."""
    stop = stop or threading.Event()
    worker = worker or worker_name(transport.channel)
    start = monotonic()
    pinned = now.astimezone(UTC) if now is not None else None

    def clock() -> datetime:
        if pinned is None:
            return datetime.now(UTC)
        return pinned + timedelta(seconds=monotonic() - start)

    def over() -> bool:
        return stop.is_set() or monotonic() - start >= budget_s

    counts = {"sent": 0, "failed": 0, "deferred": 0}
    try:
        while not over():
            batch = claim(engine, worker, transport.policy, clock(), transport.channel)
            if not batch:
                break
            if not _deliver_batch(engine, transport, worker, batch, clock, over, stop, counts):
                break
    finally:
        transport.close()
        # Whatever this drain still holds (an exception, a stop between two statements) is free again at once.
        released = release(engine, worker, clock())
        if released:
            counts["released"] = counts.get("released", 0) + released
    return counts


def database_now(conn: Connection) -> datetime:
    """The database's clock, in UTC: the one clock every sender shares. (SQLite's is the machine's own, the same
    for every process on it; PostgreSQL's is the server's.)"""
    if conn.dialect.name == "sqlite":
        stamp = conn.execute(select(func.strftime("%Y-%m-%d %H:%M:%f", "now"))).scalar_one()
        return datetime.fromisoformat(stamp).replace(tzinfo=UTC)
    return conn.execute(select(func.clock_timestamp())).scalar_one().astimezone(UTC)


def claim(engine: Engine, worker: str, policy: RetryPolicy, now: datetime, channel: str = "email") -> list[Claimed]:
    """Claim a batch of due rows. `now` (the sender's clock, maybe pinned) says what is due; whether a claim has
    lapsed is judged by the database's clock, which stamps the claim too."""
    # Each drain takes its transport's rows only; a row that depends on another (an edit or a reply needs its
    # channel post) waits until that one is done.
    before = aliased(outbox)
    ready = or_(outbox.c.depends_on.is_(None),
                select(before.c.id).where(before.c.id == outbox.c.depends_on,
                                          before.c.status.in_(("sent", "failed"))).exists())
    if policy.in_order:
        # An older row to the same target that is being sent, or is due, or was tried and waits for the peer,
        # goes first. One not yet due and never tried (news held for the morning's quiet hours) holds nobody up.
        earlier = aliased(outbox)
        ahead = select(earlier.c.id).where(
            earlier.c.channel == outbox.c.channel, earlier.c.recipient == outbox.c.recipient,
            earlier.c.id < outbox.c.id, earlier.c.status.in_(("queued", "sending")),
            or_(earlier.c.status == "sending", earlier.c.attempts > 0, earlier.c.next_attempt_at <= now)).exists()
        ready = and_(ready, ~ahead)
    with engine.begin() as conn:
        clock = database_now(conn)
        claimable = and_(outbox.c.channel == channel, ready, or_(
            and_(outbox.c.status == "queued", outbox.c.next_attempt_at <= now),
            and_(outbox.c.status == "sending", outbox.c.claimed_at < clock - policy.claim_lease),  # its drain died
        ))
        pick = (select(outbox.c.id).where(claimable).order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(policy.batch_size))
        if conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        # A CTE runs once; `id IN (subquery)` may be re-run by PostgreSQL's recheck of rows another drain just
        # changed, claiming more than one batch. The repeated condition makes it a conditional update on SQLite.
        picked = pick.cte("picked")
        taken = conn.execute(
            update(outbox).where(outbox.c.id == picked.c.id, claimable)
            .values(status="sending", claimed_by=worker, claimed_at=clock)
            .returning(outbox.c.id)
        ).scalars().all()
        if not taken:
            return []
        conn.execute(update(delivery_attempts)
                     .where(delivery_attempts.c.outbox_id.in_(taken), delivery_attempts.c.result == "sending")
                     .values(result="interrupted", finished_at=now, error=STOPPED))
        # `anchor_ref`: what the peer answered for the row this one depends on (the post's message id).
        rows = conn.execute(select(outbox, before.c.peer_ref.label("anchor_ref"))
                            .outerjoin(before, before.c.id == outbox.c.depends_on)
                            .where(outbox.c.id.in_(taken)).order_by(outbox.c.id)).all()
    return [Claimed(id=r.id, attempts=r.attempts, created_at=r.created_at,
                    delivery=Delivery(id=r.id, target=r.recipient, idempotency_key=r.message_id, row=r._mapping))
            for r in rows]


def _begin(engine: Engine, worker: str, item: Claimed, rest: list[int], at: datetime) -> bool:
    """Renew the claim on the rest of the batch and write this delivery's attempt row; False when the claim on
    this row has passed to another drain (then it is not sent)."""
    with engine.begin() as conn:
        held = set(conn.execute(
            update(outbox).where(outbox.c.id.in_(rest), outbox.c.status == "sending", outbox.c.claimed_by == worker)
            .values(claimed_at=database_now(conn)).returning(outbox.c.id)).scalars().all())
        if item.id not in held:
            return False
        conn.execute(update(outbox).where(outbox.c.id == item.id).values(attempts=outbox.c.attempts + 1))
        # A plain insert and a select (no RETURNING on insert: the PostgreSQL engine runs without insertmanyvalues).
        conn.execute(insert(delivery_attempts).values(outbox_id=item.id, worker=worker, started_at=at,
                                                      result="sending"))
        item.attempt_id = conn.execute(select(delivery_attempts.c.id).where(
            delivery_attempts.c.outbox_id == item.id, delivery_attempts.c.worker == worker,
            delivery_attempts.c.result == "sending")).scalar()
    item.attempts += 1
    return True


def _deliver_batch(engine: Engine, transport: Transport, worker: str, batch: list[Claimed],
                   clock: Callable[[], datetime], over: Callable[[], bool], stop: threading.Event,
                   counts: dict[str, int]) -> bool:
    """Deliver a claimed batch; False when the drain must end (unreachable peer, budget spent, stop)."""
    policy = transport.policy
    for index, item in enumerate(batch):
        if over():
            return False  # the rest is released by drain()
        if not _begin(engine, worker, item, [c.id for c in batch[index:]], clock()):
            counts["lost"] = counts.get("lost", 0) + 1
            continue
        began = monotonic()
        try:
            sent = transport.send(item.delivery)
        except TransportError as exc:
            if stop.is_set():  # cut short by the stop: not the message's fault, it goes again at once
                _abandon(engine, worker, item, clock(), monotonic() - began)
                return False
            _finish(engine, worker, item, policy, clock(), monotonic() - began, error=exc, counts=counts)
            if exc.unreachable:
                for rest in batch[index + 1:]:
                    if _begin(engine, worker, rest, [c.id for c in batch[index + 1:]], clock()):
                        _finish(engine, worker, rest, policy, clock(), 0.0, counts=counts,
                                error=TransportError(f"not tried: {exc}"))
                return False
            continue
        _finish(engine, worker, item, policy, clock(), monotonic() - began, answer=sent.answer, counts=counts,
                peer_ref=sent.peer_ref)
    return True


def _finish(engine: Engine, worker: str, item: Claimed, policy: RetryPolicy, at: datetime, seconds: float, *,
            counts: dict[str, int], answer: str = "", error: TransportError | None = None,
            peer_ref: str | None = None) -> None:
    values: dict[str, Any]
    # The peer's reference is committed with the result; a failed row passes its anchor on, so a later edit of
    # the same channel post still finds the post.
    peer_ref = peer_ref or item.delivery.row.get("anchor_ref")
    if error is None:
        result = "sent"
        values = {"status": "sent", "sent_at": at, "last_answer": answer, "last_error": None, "peer_ref": peer_ref}
    elif error.permanent or between(item.created_at, at) >= policy.give_up:
        result = "failed"
        values = {"status": "failed", "failed_at": at, "last_answer": error.answer or None, "last_error": str(error),
                  "peer_ref": peer_ref}
    else:
        result = "deferred"
        # The peer said how long (Telegram's 429, its flood limits): that (clamped), not the growing backoff.
        wait = policy.peer_wait(error.retry_after) or policy.backoff(item.attempts)
        values = {"status": "queued", "next_attempt_at": at + wait,
                  "last_answer": error.answer or None, "last_error": str(error)}
    with engine.begin() as conn:
        # Only the claim holder writes the result: a row taken over by another drain is not overwritten.
        mine = conn.execute(update(outbox).where(outbox.c.id == item.id, outbox.c.status == "sending",
                                                 outbox.c.claimed_by == worker)
                            .values(claimed_by=None, claimed_at=None, **values)).rowcount == 1
        note = str(error) if error else None
        if mine and item.delivery.row.get("subscription_id") and getattr(error, "disable_target", False):
            # The chat blocked the bot or is gone: its subscriptions end (`outages subscribers` counts them).
            conn.execute(update(subscriptions).where(
                subscriptions.c.medium == item.delivery.row.get("channel"),
                subscriptions.c.target == item.delivery.target,
                subscriptions.c.disabled_at.is_(None)).values(disabled_at=at))
        # The attempt's own outcome: `interrupted` when the peer had the request and no answer came (it may have
        # acted on it). `lost`: another drain took the row over while this one was talking to the peer. Both
        # may mean the message went twice, and `outages outbox` says so for Telegram posts.
        attempt = "interrupted" if error is not None and error.unanswered else result
        if not mine:
            result = attempt = "lost"
            note = ("the claim had passed to another worker, so this result is not recorded on the message"
                    + (f": {error}" if error else ""))
        conn.execute(update(delivery_attempts).where(delivery_attempts.c.id == item.attempt_id).values(
            result=attempt, finished_at=at, answer=answer or (error.answer if error else None) or None,
            error=note, duration_ms=round(seconds * 1000, 2),
        ))
    counts[result] = counts.get(result, 0) + 1
    if error is not None or not mine:
        log.warning("message %s to %s %s: %s", item.id, item.delivery.target, result, note)


def _abandon(engine: Engine, worker: str, item: Claimed, at: datetime, seconds: float) -> None:
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == item.id, outbox.c.status == "sending",
                                          outbox.c.claimed_by == worker)
                     .values(status="queued", claimed_by=None, claimed_at=None, next_attempt_at=at))
        conn.execute(update(delivery_attempts).where(delivery_attempts.c.id == item.attempt_id).values(
            result="interrupted", finished_at=at, error=STOPPED, duration_ms=round(seconds * 1000, 2)))


def release(engine: Engine, worker: str, at: datetime) -> int:
    """Give back every row `worker` holds (its attempt in progress, if any, becomes `interrupted`): the worker
    is stopping or the drain ended early. Returns how many rows went back to the queue."""
    with engine.begin() as conn:
        count = conn.execute(update(outbox).where(outbox.c.status == "sending", outbox.c.claimed_by == worker)
                             .values(status="queued", claimed_by=None, claimed_at=None)).rowcount
        conn.execute(update(delivery_attempts).where(delivery_attempts.c.worker == worker,
                                                     delivery_attempts.c.result == "sending")
                     .values(result="interrupted", finished_at=at, error=STOPPED))
    return count or 0


def state(engine: Engine, now: datetime, stall_after: timedelta, channel: str = "email") -> dict[str, Any]:
    """What `outages status` shows of delivery: messages due and waiting, the ones in progress, and whether one
    has been waiting for the server longer than `stall_after` (a stalled delivery)."""
    now = now.astimezone(UTC)
    mine = outbox.c.channel == channel  # mail's state; Telegram and webhooks have their own lines
    with engine.connect() as conn:
        due = conn.execute(select(func.count(), func.min(outbox.c.next_attempt_at)).where(
            mine, outbox.c.status == "queued", outbox.c.next_attempt_at <= now)).one()
        later = conn.execute(select(func.count()).select_from(outbox).where(
            mine, outbox.c.status == "queued", outbox.c.next_attempt_at > now)).scalar()
        busy = conn.execute(
            select(delivery_attempts.c.outbox_id, delivery_attempts.c.worker, delivery_attempts.c.started_at,
                   outbox.c.recipient)
            .select_from(delivery_attempts.join(outbox, outbox.c.id == delivery_attempts.c.outbox_id))
            .where(mine, delivery_attempts.c.result == "sending", outbox.c.status == "sending")
            .order_by(delivery_attempts.c.started_at)).all()
        held = conn.execute(select(func.count()).select_from(outbox).where(mine, outbox.c.status == "sending")).scalar()
        last_sent = conn.execute(select(func.max(outbox.c.sent_at)).where(mine)).scalar()
        failed = conn.execute(
            select(func.count()).select_from(outbox).where(mine, outbox.c.status == "failed")).scalar()
    in_progress = [{"outbox_id": b.outbox_id, "recipient": b.recipient, "worker": b.worker,
                    "started_at": b.started_at.isoformat(),
                    "seconds": round(between(b.started_at, now).total_seconds()),
                    "stalled": between(b.started_at, now) > stall_after} for b in busy]
    # Claimed by a drain but not started yet: as due as the queued ones, they wait behind the one in progress.
    return {"due": (due[0] or 0) + (held or 0) - len(in_progress),
            "due_since": due[1].isoformat() if due[1] else None, "waiting_retry": later or 0,
            "in_progress": in_progress, "stalled": any(b["stalled"] for b in in_progress),
            "last_sent_at": last_sent.isoformat() if last_sent else None, "failed": failed or 0}
