"""The worker's publishing lane: a thread of its own under `outages run --publish DIR` that writes the static site,
so a publish (seconds, minutes for a first one of a big store) never delays a sync, a push's verdict or the mail.

Its trigger is the data, not the sync: every POLL_SECONDS it reads the data version (`max(events.id)`, one indexed
query, on a connection of its own from the pool) and publishes when it moved, or when REPUBLISH_SECONDS passed
(what is true moves with the clock: a term passes, works begin). The worker `wake()`s it after a sync that changed
something. It never takes the sync lease; a slow publish only delays the next publish, and changes made meanwhile
are all in that one. The core knows no web: the CLI hands it `publish`, a callable.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from sqlalchemy import Engine

from outages.delivery.lane import rounds
from outages.records.views import data_version

log = logging.getLogger("outages.publish")

POLL_SECONDS = 2.0
REPUBLISH_SECONDS = 300.0
RETRY_SECONDS = 30.0  # after a failed publish (a full disk, the database away): not a retry every poll


class PublishLane:
    def __init__(self, engine: Engine, publish: Callable[[], object], *, stop: threading.Event | None = None,
                 echo: Callable[[str], None] | None = None, poll: float = POLL_SECONDS,
                 every: float = REPUBLISH_SECONDS) -> None:
        self.engine = engine
        self.publish = publish
        self.stop = stop or threading.Event()
        self.echo = echo or log.info
        self.poll, self.every = poll, every
        self.published_version: int | None = None
        self.publishes = 0  # finished, for tests and the log
        self._last = float("-inf")
        self._not_before = float("-inf")
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publish-lane", daemon=True)

    def start(self) -> "PublishLane":
        self._thread.start()
        return self

    def wake(self) -> None:
        """The data changed: look now rather than at the next poll."""
        self._wake.set()

    def _run(self) -> None:
        rounds(self.stop, self._wake, self.poll, self.once, "the publishing lane")

    def once(self) -> bool:
        """Publish if the data moved or the site is due for the clock's sake; True if it published."""
        if time.monotonic() < self._not_before:
            return False
        with self.engine.connect() as conn:
            version = data_version(conn)
        if version == self.published_version and time.monotonic() - self._last < self.every:
            return False
        started = time.monotonic()
        try:
            self.publish()
        except Exception:
            self._not_before = time.monotonic() + RETRY_SECONDS
            raise
        # The version read before publishing: a change made during it makes the next round publish again.
        self.published_version, self._last = version, time.monotonic()
        self.publishes += 1
        self.echo(f"опубліковано / published: версія даних / data version {version},"
                  f" {time.monotonic() - started:.1f} с")
        return True

    def shutdown(self, timeout: float = 3.0) -> None:
        """Stop waiting. A publish in progress is not cut short: its half-made release folder is never switched
        in, and the next publish removes it."""
        self.stop.set()
        self._wake.set()
        self._thread.join(timeout)
