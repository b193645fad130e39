"""Mail delivery in one call: queue what has come due (relay reminders and escalations, reminders, digests,
reports), then drain the outbox over SMTP (drain.py). `outages send`, `outages run --once` and the worker's
mail lane (lane.py) use it.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Engine

from outages.delivery.drain import drain
from outages.delivery.protocol import Transport
from outages.officials import digest, relay, schedule
from outages.officials.options import mail_options
from outages.reports import forward
from outages.settings import Settings
from outages.times import UTC
from outages.transports import registry


def queue_due(engine: Engine, settings: Settings, now: datetime) -> int:
    """Queue the relay reminders and escalations, reminders (planned works, forgotten records), the recipients'
    digests, the periodic reports, and control's word of residents' reports the utility did not take in time."""
    options = mail_options(settings)
    # Interval arithmetic (the relay's 45/60 minutes) in UTC: on a zone's wall clock `now - 45 min` is off by an
    # hour across a DST change.
    now = now.astimezone(UTC)
    with engine.begin() as conn:
        return (relay.enqueue_due(conn, settings, options, now) + schedule.enqueue_due(conn, settings, options, now)
                + digest.enqueue_due(conn, settings, options, now) + forward.enqueue_late(conn, settings, now))


def deliver_pending(engine: Engine, settings: Settings, now: datetime | None = None, *,
                    transport: Transport | None = None, stop: threading.Event | None = None,
                    budget_s: float | None = None, worker: str | None = None) -> dict[str, int]:
    """Queue what is due, then drain the outbox once. `now` pins the clock (None: the real one)."""
    options = mail_options(settings)
    queued = queue_due(engine, settings, now or datetime.now(UTC))
    counts = drain(engine, transport or registry.transport(settings, "email"), stop=stop, now=now, worker=worker,
                   budget_s=options.drain_budget if budget_s is None else budget_s)
    return counts | {"queued": queued}
