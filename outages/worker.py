"""The worker (`outages run`): sync on a timer or at once when the form pushes; mail goes out in a lane of its own.

It knows no gspread: it is given `pull`, a callable returning a Batch (the rows read, and what to do inside the
sync's transaction, e.g. write verdicts back). Several workers may run: a lease in the database (worker_locks)
lets one sync at a time, and one that died holding it loses it when the lease expires. The sync itself also
serialises in the database (outages.records.sync), so even two syncs at once never number a record twice.

Delivery never runs in the sync's thread: `run()` starts the mail lane (delivery/lane.py), a thread that drains the
outbox on its own, so a mail server that never answers delays mail only; with `publish`, the publishing lane
(publish_lane.py) writes the static site in a thread of its own too. `run(once=True)` (cron) syncs, then drains
once within the drain budget, then publishes.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, update

from outages.db import STORE_FULL, store_full
from outages.delivery.lane import MailLane
from outages.gcpause import collector_paused
from outages.officials.sender import deliver_pending
from outages.publish_lane import PublishLane
from outages.records.model import SheetTable
from outages.records.sync import SyncResult, record_failure, sync
from outages.redact import redact
from outages.residents.lanes import ResidentLanes, poll_bot
from outages.residents.lanes import deliver_once as deliver_residents
from outages.schema import sync_requests, sync_runs, worker_locks
from outages.settings import Settings
from outages.times import UTC

log = logging.getLogger("outages.worker")

SYNC_LOCK = "sync"
POLL_SECONDS = 0.5  # how often an idle worker looks for a push; one indexed query
VERIFY_AFTER = 5.0  # after writing verdicts, read again soon: a sort during the write is corrected in seconds
HELD_BACKOFF = 2.0  # a worker without the lease looks at pushes again only after this
KEEP_REQUESTS = timedelta(days=7)
RESIDENTS_STOP_SECONDS = 9.0  # SIGTERM: a Telegram call in progress ends within this (telegram.TIMEOUT)
LANE_STOP_SECONDS = 3.0  # SIGTERM: the mail lane gets this long to stop before its claims are given back anyway


@dataclass
class Batch:
    """What a source yields for one sync: the table, and a callback run inside the sync's transaction."""

    table: SheetTable
    after: Callable[[Connection, SyncResult], None] | None = None

    def take_table(self) -> SheetTable:
        """The table, handed over to the sync, which lets go of its rows once it has planned (a year's export
        is 100 MiB of them); the batch keeps its write-back step and statistics."""
        table = self.table
        self.table = SheetTable(source=table.source, headers=table.headers, rows=())
        return table

    @property
    def stats(self) -> dict[str, int]:
        return dict(getattr(self.after, "stats", {}) or {})


# --- the lease -------------------------------------------------------------------------------------------------

def acquire(engine: Engine, holder: str, now: datetime, ttl: float, name: str = SYNC_LOCK) -> bool:
    """Take (or renew) the lease: one conditional UPDATE, so two workers can never both succeed."""
    with engine.begin() as conn:
        taken = conn.execute(
            update(worker_locks)
            .where(worker_locks.c.name == name,
                   or_(worker_locks.c.holder.is_(None), worker_locks.c.holder == holder,
                       worker_locks.c.expires_at < now))
            .values(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl))
        ).rowcount
    return taken == 1


def release(engine: Engine, holder: str, name: str = SYNC_LOCK) -> None:
    with engine.begin() as conn:
        conn.execute(update(worker_locks).where(worker_locks.c.name == name, worker_locks.c.holder == holder)
                     .values(holder=None, expires_at=None))


# --- pushes from the form ----------------------------------------------------------------------------------------

def request_sync(engine: Engine, now: datetime, origin: str = "") -> bool:
    """Ask the workers for a sync now. A burst of pushes makes one pending request (False: one was pending)."""
    with engine.begin() as conn:
        # Look and insert under a lock, or a burst of pushes all find nothing pending and all insert.
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE sync_requests IN SHARE ROW EXCLUSIVE MODE")
        else:
            conn.exec_driver_sql("UPDATE sync_requests SET id = id WHERE 0")  # takes SQLite's write lock now
        if conn.execute(select(sync_requests.c.id).where(sync_requests.c.handled_at.is_(None)).limit(1)).first():
            return False
        conn.execute(insert(sync_requests).values(requested_at=now, origin=origin[:200], handled_at=None))
    return True


def has_pending(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(sync_requests.c.id).where(sync_requests.c.handled_at.is_(None)).limit(1)
                            ).first() is not None


def claim_requests(engine: Engine, now: datetime) -> int:
    """Mark the pending pushes as handled by the sync about to start (a push arriving later triggers another)."""
    with engine.begin() as conn:
        claimed = conn.execute(update(sync_requests).where(sync_requests.c.handled_at.is_(None))
                               .values(handled_at=now)).rowcount
        conn.execute(delete(sync_requests).where(sync_requests.c.handled_at < now - KEEP_REQUESTS))
    return claimed


# --- one cycle and the loop ------------------------------------------------------------------------------------

@dataclass
class Cycle:
    """What one cycle did, for the log line and for tests."""

    at: datetime
    synced: bool = False
    ok: bool | None = None  # None: did not sync (another worker holds the lease)
    result: SyncResult | None = None
    error: str | None = None
    holder: str | None = None
    pushes: int = 0
    stats: dict[str, int] = field(default_factory=dict)


class Worker:
    def __init__(self, engine: Engine, settings: Settings, pull: Callable[[], Batch], label: str, *,
                 holder: str | None = None, clock: Callable[[], datetime] | None = None,
                 stop: threading.Event | None = None, echo: Callable[[str], None] | None = None,
                 after_cycle: Callable[[Cycle], None] | None = None,
                 publish: Callable[[], object] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.pull = pull
        self.label = label
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock or (lambda: datetime.now(UTC))
        self.stop = stop or threading.Event()
        self.echo = echo or (lambda line: log.info(line))
        self.after_cycle = after_cycle  # a step after each cycle, in the cycle's thread (tests, embedding)
        # Writing the static site (given by the CLI: the core knows no web): a lane of its own, never in a cycle.
        self.publish = publish
        self.publisher: PublishLane | None = None
        self.cycles = 0
        self.lane: MailLane | None = None
        self._done = threading.Condition()

    def cycle(self) -> Cycle:
        now = self.clock()
        report = Cycle(at=now)
        ttl = max(float(self.settings.sync_lock_seconds), 1.0)
        try:
            leased = acquire(self.engine, self.holder, now, ttl)
        except Exception as exc:  # the database is away: nothing can be synced or recorded; try next cycle
            log.warning("cannot take the sync lease", exc_info=True)
            report.synced, report.ok, report.error = True, False, f"база даних недоступна / database: {describe(exc)}"
            leased = None
        if leased:
            try:
                report.synced = True
                report.pushes = claim_requests(self.engine, now)
                with collector_paused():  # the read of a big sheet allocates as much as the sync
                    batch = self.pull()
                    report.result = sync(self.engine, batch.take_table(), self.settings, now, after=batch.after)
                report.stats = batch.stats
                report.ok = True
            except Exception as exc:  # any failure: the store is unchanged; record it, retry next cycle
                report.ok, report.error = False, describe(exc)
                if not _expected(exc):
                    log.exception("sync failed")
                try:
                    record_failure(self.engine, self.label, now, report.error)
                except Exception:  # the database itself is down: the log line is all we can leave
                    log.exception("cannot record the failed sync")
            finally:
                try:
                    release(self.engine, self.holder)
                except Exception:  # the lease expires by itself
                    log.warning("cannot release the sync lease", exc_info=True)
        elif leased is False:
            try:
                report.holder = lease_holder(self.engine)
            except Exception:  # noqa: BLE001
                report.holder = None
        if self.after_cycle is not None:
            try:
                self.after_cycle(report)
            except Exception:  # publishing trouble must never stop the syncing
                log.exception("the after-cycle step failed")
        with self._done:
            self.cycles += 1
            self._done.notify_all()
        return report

    def deliver_once(self) -> dict[str, int]:
        """`run --once`: one drain in this thread, within the drain budget (cron has nothing else to stall)."""
        try:
            return dict(deliver_pending(self.engine, self.settings, self.clock(), stop=self.stop) or {})
        except Exception as exc:  # noqa: BLE001  (mail trouble must never fail the sync's exit code)
            _log_failure("delivering the outbox failed", exc)
            return {"error": 1}

    def residents_once(self) -> None:
        """`run --once`: the bot's pending messages, then fan-out, Telegram and webhooks once."""
        try:
            handled = poll_bot(self.engine, self.settings, self.clock())
            counts = deliver_residents(self.engine, self.settings, self.clock(), stop=self.stop)
            if handled or any(c.get("sent") or c.get("failed") or c.get("queued") for c in counts.values()):
                self.echo(f"бот / bot: {handled} · " + " · ".join(
                    f"{channel}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if v)
                    for channel, c in counts.items()))
        except Exception as exc:  # noqa: BLE001  (a Telegram or webhook problem must not fail the exit code)
            _log_failure("delivering to residents failed", exc)

    def run(self, once: bool = False) -> int:
        """Cycle until stopped (SIGTERM/SIGINT or `stop`). Returns the exit code."""
        if once:
            report = self.cycle()
            self.echo(summary(report, self.label))
            self.deliver_once()
            self.residents_once()
            self.publish_once()
            return 1 if report.ok is False else 0
        self._install_signals()
        lane = self.lane = MailLane(self.engine, self.settings, stop=self.stop, echo=self.echo).start()
        # Telegram (channel and bot), webhooks and subscribers' fan-out: lanes of their own, like mail.
        residents = ResidentLanes(self.engine, self.settings, stop=self.stop, echo=self.echo).start()
        # The static site: its own thread and trigger (the data version), so a publish never delays a push.
        publisher = self.publisher = (PublishLane(self.engine, self.publish, stop=self.stop, echo=self.echo).start()
                                      if self.publish else None)
        try:
            while not self.stop.is_set():
                report = self.cycle()
                self.echo(summary(report, self.label))
                lane.wake()  # the sync may have queued messages: the lane takes them at once
                residents.wake()
                if publisher is not None and _changed(report):
                    publisher.wake()
                wait = float(self.settings.sync_interval)
                if report.stats.get("cells_written"):
                    wait = min(wait, VERIFY_AFTER)
                # Another worker is syncing: a push it has not claimed yet is its business, not a reason to spin.
                self.wait(wait, heed_pushes_after=0.0 if report.synced else HELD_BACKOFF)
        finally:
            released = lane.shutdown(timeout=LANE_STOP_SECONDS)
            # A Telegram call is let finish (at most 9 s): cut short, a post could be made twice.
            released += residents.shutdown(timeout=RESIDENTS_STOP_SECONDS)
            if publisher is not None:
                publisher.shutdown(timeout=LANE_STOP_SECONDS)
        if released:
            self.echo(f"повернуто до черги / given back to the queue: {released}")
        self.echo("Зупинено / stopped")
        return 0

    def publish_once(self) -> None:
        """`run --once`: write the static site after the sync, in this thread (cron has nothing else to stall)."""
        if self.publish is None:
            return
        try:
            self.publish()
        except Exception as exc:  # noqa: BLE001  (the static copy must not fail the sync's exit code)
            _log_failure("publishing the static site failed", exc)

    def wait(self, seconds: float, heed_pushes_after: float = 0.0) -> None:
        """Sleep until the next cycle is due, a push is pending, or we are told to stop."""
        start = time.monotonic()
        deadline = start + seconds
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                if time.monotonic() - start >= heed_pushes_after and has_pending(self.engine):
                    return
            except Exception:  # the database is away for a moment: keep waiting, the cycle will report it
                log.warning("cannot look for pushes", exc_info=True)
            self.stop.wait(min(POLL_SECONDS, remaining))

    def wait_for_cycles(self, count: int, timeout: float) -> bool:
        """For tests and embedding: block until `count` cycles have finished."""
        with self._done:
            return self._done.wait_for(lambda: self.cycles >= count, timeout)

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())


def _changed(report: Cycle) -> bool:
    counts = report.result.counts if report.result else {}
    return any(counts.get(key) for key in ("new", "updated", "resolved", "overdue"))


def _log_failure(what: str, exc: Exception) -> None:
    if store_full(exc):  # the operator's to fix, and the same sentence each time: no traceback
        log.error("%s: %s", what, STORE_FULL)
    else:
        log.exception(what)


def _expected(exc: Exception) -> bool:
    # A full disk is the operator's to fix, not a bug: one sentence, no traceback (the sync rolled back).
    return type(exc).__name__ in ("SheetsError", "UnusableInput") or store_full(exc)


def describe(exc: Exception) -> str:
    """The error as `outages status` and the log show it (URLs without their query strings or passwords)."""
    if store_full(exc):
        return STORE_FULL
    if _expected(exc):
        return redact(str(exc))
    return redact(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")


def summary(report: Cycle, label: str) -> str:
    stamp = report.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if not report.synced:
        return f"{stamp} синхронізує інший процес / another worker holds the sync lease: {report.holder or '?'}"
    if not report.ok:
        return f"{stamp} ПОМИЛКА синхронізації / sync FAILED {label}: {report.error}"
    c = report.result.counts if report.result else {}
    return (f"{stamp} синхронізовано / synced {label}: нових (new) {c.get('new', 0)} · оновлено (updated)"
            f" {c.get('updated', 0)} · ліквідовано (resolved) {c.get('resolved', 0)} · відхилено (rejected)"
            f" {c.get('rejected', 0)} · без змін (unchanged) {c.get('unchanged', 0)} · записано клітинок"
            f" (cells written) {report.stats.get('cells_written', 0)}")


# --- what `outages status` shows ---------------------------------------------------------------------------------

def lease_holder(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(worker_locks.c.holder).where(worker_locks.c.name == SYNC_LOCK)).scalar()


def status(engine: Engine, now: datetime) -> dict[str, Any]:
    with engine.connect() as conn:
        runs = conn.execute(select(sync_runs).order_by(sync_runs.c.id.desc()).limit(1)).first()
        last_ok = conn.execute(select(sync_runs).where(sync_runs.c.ok.is_(True))
                               .order_by(sync_runs.c.id.desc()).limit(1)).first()
        failures = conn.execute(select(func.count()).select_from(sync_runs).where(
            sync_runs.c.ok.is_(False), sync_runs.c.id > (last_ok.id if last_ok else 0))).scalar()
        lock = conn.execute(select(worker_locks).where(worker_locks.c.name == SYNC_LOCK)).first()
        pending = conn.execute(select(func.count()).select_from(sync_requests)
                               .where(sync_requests.c.handled_at.is_(None))).scalar()
        last_push = conn.execute(select(func.max(sync_requests.c.requested_at))).scalar()
    held = bool(lock and lock.holder and lock.expires_at and lock.expires_at > now)
    return {
        "last": _run(runs), "last_ok": _run(last_ok), "failures_since_ok": failures or 0,
        "lock": {"holder": lock.holder if held else None,
                 "expires_at": lock.expires_at.isoformat() if held and lock.expires_at else None},
        "pushes_pending": pending or 0, "last_push": last_push.isoformat() if last_push else None,
    }


def _run(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    counts = dict(row.counts or {})
    rows = sum(counts.get(k, 0) for k in ("new", "updated", "resolved", "rejected", "unchanged"))
    return {"source": row.source, "started_at": row.started_at.isoformat(),
            "finished_at": row.finished_at.isoformat() if row.finished_at else None, "ok": row.ok,
            "rows": rows, "counts": counts, "error": row.error}


__all__ = ["Batch", "Worker", "Cycle", "acquire", "release", "request_sync", "has_pending", "claim_requests",
           "status"]
