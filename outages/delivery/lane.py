"""The worker's mail lane: a thread of its own under `outages run` that queues what is due and drains the outbox,
so a mail server that hangs delays mail and nothing else (never a sync, a push or the site).

It drains every `drain_interval_seconds`, or at once when the sync has queued messages (`wake()`), each drain
within `drain_budget_seconds`. `shutdown()` (SIGTERM) cuts the message in progress short, gives every claimed
message back to the queue at once and returns within its timeout whatever the server does.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable

from sqlalchemy import Engine

from outages.delivery.drain import release, worker_name
from outages.officials.options import mail_options
from outages.officials.sender import deliver_pending
from outages.settings import Settings
from outages.times import UTC
from outages.transports.registry import transport

log = logging.getLogger("outages.mail")


class MailLane:
    channel = "email"

    def __init__(self, engine: Engine, settings: Settings, *, stop: threading.Event | None = None,
                 clock: Callable[[], datetime] | None = None, echo: Callable[[str], None] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.options = mail_options(settings)
        self.stop = stop or threading.Event()
        self.clock = clock
        self.echo = echo or log.info
        self.worker = worker_name(self.channel)  # one name for the lane's life: shutdown() releases its claims
        self.transport = transport(settings, self.channel)
        self.drains = 0
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mail-lane", daemon=True)

    def start(self) -> "MailLane":
        self._thread.start()
        return self

    def wake(self) -> None:
        """New messages were queued: drain now rather than at the next interval."""
        self._wake.set()

    def _run(self) -> None:
        rounds(self.stop, self._wake, self.options.drain_interval, self._drain, "the mail lane's drain")

    def _drain(self) -> None:
        try:
            counts = deliver_pending(self.engine, self.settings, self.clock() if self.clock else None,
                                     transport=self.transport, stop=self.stop, worker=self.worker)
        finally:
            self.drains += 1
        if any(counts.get(k) for k in ("sent", "failed", "deferred")):
            self.echo("пошта / mail: надіслано (sent) {sent} · відкладено (deferred) {deferred}"
                      " · не доставлено (failed) {failed}".format(**counts))

    def shutdown(self, timeout: float = 5.0) -> int:
        """Stop at once: cut the message in progress short, wait up to `timeout` seconds for the thread, then
        give back whatever it still holds. Returns how many messages went back to the queue."""
        self.stop.set()
        self._wake.set()
        self.transport.abort()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the mail lane did not stop within %g s; its messages are given back to the queue", timeout)
        try:
            return release(self.engine, self.worker, datetime.now(UTC))
        except Exception:  # the database is away: the claims expire with their lease
            log.exception("cannot give the claimed messages back")
            return 0


def rounds(stop: threading.Event, wake: threading.Event, interval: float, work: Callable[[], None],
           what: str) -> None:
    """A lane's life, for every lane of `outages run`: one round of `work`, then a wait of `interval` seconds that
    `wake` (new work was queued) or `stop` cuts short. A round that fails is logged and the next one tries again:
    the database is away or a peer broke a rule, and nothing else may stop because of it."""
    while not stop.is_set():
        wake.clear()
        try:
            work()
        except Exception:
            log.exception("%s failed", what)
        if stop.is_set():
            break
        _wait(stop, wake, interval)


def _wait(stop: threading.Event, wake: threading.Event, seconds: float) -> None:
    # Two events, one wait: poll both in short steps of a fraction of a second.
    step = min(0.25, seconds) if seconds > 0 else 0.25
    waited = 0.0
    while waited < seconds and not stop.is_set() and not wake.is_set():
        wake.wait(step)
        waited += step
