"""What every outgoing channel shares with the drain (drain.py): the Transport protocol, the Delivery it is handed,
the Sent proof it returns, the TransportError it raises, and the RetryPolicy the drain applies for it.

A transport is one small class per medium with one `send()`: it classifies the peer's answers itself (permanent
or not, "the peer is unreachable") and never sleeps or retries; the queue retries. The drain knows no medium.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Mapping, Protocol


@dataclass(frozen=True)
class RetryPolicy:
    retry_first: timedelta  # the wait after the first temporary failure; doubled after each further one
    retry_max: timedelta
    give_up: timedelta  # still undelivered this long after it was queued: failed
    # How long a claim stays valid without renewal. The drain renews it before each delivery, so it must exceed
    # the longest one delivery can take (the transport's `longest`); otherwise another drain would take the row
    # over while the peer is still answering, and the message would go twice.
    claim_lease: timedelta
    batch_size: int = 50  # rows claimed at a time (one connection serves the whole drain)
    # Rows to one target go in the order they were queued (a channel's posts, a receiver's events): a row waits
    # while an older one to the same target is in progress or waiting for the peer.
    in_order: bool = False

    def backoff(self, attempts: int) -> timedelta:
        """1, 2, 4 … minutes after the 1st, 2nd, 3rd … temporary failure, at most an hour (by default). Capped
        before doubling: a peer down for a day (hundreds of attempts) must not overflow the wait."""
        wait = self.retry_first
        for _ in range(max(0, attempts - 1)):
            if wait >= self.retry_max:
                break
            wait *= 2
        return min(wait, self.retry_max)

    def peer_wait(self, seconds: float | None) -> timedelta | None:
        """A wait the peer asked for (Retry-After, Telegram's retry_after), at most retry_max: a value of 1e12 must
        not park a message for ever. None (use the growing backoff) for no value or one that is not positive: -60
        must not make the drain hammer the peer."""
        if seconds is None or not seconds > 0:
            return None
        return timedelta(seconds=min(seconds, self.retry_max.total_seconds()))


def peer_seconds(value: object) -> float | None:
    """A peer's number of seconds read defensively: None for text, NaN, infinity or nothing."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Delivery:
    """One claimed outbox row as the transport sees it."""

    id: int
    target: str  # the mail address (a chat id, a webhook name for other channels)
    idempotency_key: str  # the Message-ID: a repeat after a crash is recognisable by the peer and the reader
    row: Mapping[str, Any]  # the whole outbox row: each transport reads its own payload columns


@dataclass(frozen=True)
class Sent:
    answer: str  # the peer's final answer, kept as the proof of delivery ("250 2.0.0 Ok: queued as 4F1A")
    peer_ref: str | None = None


class TransportError(Exception):
    """A delivery was not accepted. `permanent`: retrying cannot help (SMTP 5xx), so the message fails at once.
    `unreachable`: no connection or login at all, so every other delivery would fail the same way and the drain
    stops. `retry_after`: the peer asked to wait this long (seconds) before the next try. `unanswered`: the
    request reached the peer and no whole answer came (the deadline passed, the connection dropped), so the peer
    may have acted on it: the attempt is recorded as `interrupted`, like one a killed worker left behind."""

    def __init__(self, message: str, *, permanent: bool = False, answer: str = "", unreachable: bool = False,
                 retry_after: float | None = None, unanswered: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.answer = answer
        self.unreachable = unreachable
        self.retry_after = retry_after
        self.unanswered = unanswered


class Transport(Protocol):
    channel: ClassVar[str]
    policy: RetryPolicy

    def longest(self) -> timedelta:
        """The longest one `send()` can take with this transport's timeouts (the claim lease must exceed it)."""

    def send(self, delivery: Delivery) -> Sent:
        """Hand one delivery to the peer. Raises TransportError."""

    def close(self) -> None:
        """Drop any open connection (the drain calls it when it ends)."""

    def abort(self) -> None:
        """From another thread: make a `send()` in progress fail at once (the worker is stopping)."""
