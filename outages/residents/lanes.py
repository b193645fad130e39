"""Delivering the residents' channels: what `outages send` and `outages run --once` do once, and the worker's lanes
that do it continuously under `outages run` (each a thread of its own, like the mail lane: a Telegram or webhook
peer that hangs delays its own messages only, never a sync, mail or the site).

- the **residents** lane: forget stale sign-ups and reporters' contacts kept long enough (outages/reports/forget.py),
  write the subscribers' messages of new changes (fan-out), then drain the Telegram rows and the webhook rows, each
  drain within a time budget;
- the **bot** lane (with a token): long-polls Telegram for residents' messages and queues the answers.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable

from sqlalchemy import Engine, func, select

from outages.delivery.drain import drain, release, worker_name
from outages.delivery.lane import rounds
from outages.reports import forget as reports_forget
from outages.residents import subscriptions
from outages.residents.bot import ChatLimit, poll_once
from outages.residents.fanout import expand_due
from outages.schema import outbox
from outages.settings import Settings
from outages.times import UTC
from outages.transports.registry import RESIDENTS, transports
from outages.transports.telegram import BotApi, telegram_options

log = logging.getLogger("outages.residents")

DRAIN_BUDGET = 60.0  # seconds per drain; the rest waits for the next round
ROUND_SECONDS = 2.0  # the residents lane looks for work this often (at once when woken after a sync)
BOT_WAIT = 5  # long polling: Telegram holds the request this long when nobody writes; short, so a stop is quick


def deliver_once(engine: Engine, settings: Settings, now: datetime | None = None, *,
                 stop: threading.Event | None = None, budget_s: float = DRAIN_BUDGET,
                 workers: dict[str, str] | None = None,
                 made: list | None = None) -> dict[str, dict[str, int]]:
    """Purge (stale sign-ups; reporters' contacts past their keeping), fan out, then drain Telegram and webhooks
    once. Returns counts per channel, and "queued"."""
    at = now or datetime.now(UTC)
    with engine.begin() as conn:
        subscriptions.purge(conn, at)
        reports_forget.purge(conn, settings, at)
    out: dict[str, dict[str, int]] = {"residents": {"queued": expand_due(engine, settings, at)}}
    for transport in made if made is not None else transports(settings, RESIDENTS):
        worker = (workers or {}).get(transport.channel)
        out[transport.channel] = drain(engine, transport, stop=stop, budget_s=budget_s, now=now, worker=worker)
    return out


def poll_bot(engine: Engine, settings: Settings, now: datetime | None = None, *, wait: int = 0,
             limit: ChatLimit | None = None) -> int:
    """Handle the residents' messages pending at Telegram (none without a token). `limit`: the per-chat limit
    the bot lane keeps across polls."""
    tg = telegram_options(settings)
    if not tg.token:
        return 0
    api = BotApi(tg)
    try:
        return poll_once(engine, settings, api, now or datetime.now(UTC), wait=wait, limit=limit)
    finally:
        api.close()


class ResidentLanes:
    """Two threads under `outages run`: deliveries (fan-out + Telegram + webhooks) and, with a token, the bot."""

    def __init__(self, engine: Engine, settings: Settings, *, stop: threading.Event | None = None,
                 echo: Callable[[str], None] | None = None) -> None:
        self.engine, self.settings = engine, settings
        self.stop = stop or threading.Event()
        self.echo = echo or log.info
        self.made = transports(settings, RESIDENTS)
        self.workers = {t.channel: worker_name(t.channel) for t in self.made}
        self._wake = threading.Event()
        self.chat_limit = ChatLimit()  # answers per chat a minute, across the bot lane's polls
        self._threads = [threading.Thread(target=self._deliver, name="residents-lane", daemon=True)]
        if telegram_options(settings).token:
            self._threads.append(threading.Thread(target=self._bot, name="bot-lane", daemon=True))

    def start(self) -> "ResidentLanes":
        for thread in self._threads:
            thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def _deliver(self) -> None:
        rounds(self.stop, self._wake, ROUND_SECONDS, self._deliver_once, "the residents lane")

    def _deliver_once(self) -> None:
        counts = deliver_once(self.engine, self.settings, stop=self.stop, workers=self.workers, made=self.made)
        for channel, c in counts.items():
            if any(c.get(k) for k in ("sent", "failed", "queued")):
                self.echo(f"{channel}: " + " · ".join(f"{k} {v}" for k, v in sorted(c.items()) if v))

    def _bot(self) -> None:
        while not self.stop.is_set():
            try:
                handled = poll_bot(self.engine, self.settings, wait=BOT_WAIT, limit=self.chat_limit)
                if handled:
                    self.wake()  # the answers are queued: send them now
            except Exception:
                log.exception("the bot lane failed")
                self.stop.wait(ROUND_SECONDS)

    def shutdown(self, timeout: float = 9.0) -> int:
        """Stop: a Telegram call in progress is let finish (at most 9 s: a post cut short could be posted twice),
        then whatever is still claimed goes back to the queue."""
        self.stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        released = 0
        for worker in self.workers.values():
            try:
                released += release(self.engine, worker, datetime.now(UTC))
            except Exception:
                log.exception("cannot give the claimed messages back")
        for transport in self.made:
            transport.close()
        return released


def channel_state(engine: Engine, settings: Settings) -> dict | None:
    """For `outages status`: is the city's channel getting its posts? None when no channel is set up."""
    tg = telegram_options(settings)
    if not (tg.token and tg.channel):
        return None
    mine = (outbox.c.channel == "telegram") & (outbox.c.recipient == tg.channel)
    with engine.connect() as conn:
        counts = dict(conn.execute(select(outbox.c.status, func.count()).where(mine)
                                   .group_by(outbox.c.status)).all())
        last_sent = conn.execute(select(func.max(outbox.c.sent_at)).where(mine)).scalar()
        failed = conn.execute(select(outbox.c.last_error, outbox.c.failed_at).where(mine, outbox.c.status == "failed")
                              .order_by(outbox.c.failed_at.desc()).limit(1)).first()
    return {"channel": tg.channel, "queued": counts.get("queued", 0) + counts.get("sending", 0),
            "failed": counts.get("failed", 0), "sent": counts.get("sent", 0),
            "last_sent": last_sent.isoformat() if last_sent else None,
            "last_error": failed.last_error if failed else None}
