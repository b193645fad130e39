"""Writing the per-subscriber messages of a change, outside the sync: one change may concern thousands of
subscribers, and matching them must not lengthen the sync's transaction (which holds the write lock).

The sync writes one `fanouts` row per change; `expand_due` (the worker's residents lane, `outages send`) turns each into
one outbox row per covered subscriber in its own short transaction, marking the fan-out done in that same
transaction. Rows are keyed `sub:event:<event>:s<subscription>`, and (event, recipient) is unique, so a repeated or
concurrent expansion adds nothing, and a person with two subscribed addresses on one record gets one message.
Planned works are also announced the day before they start (`sub:eve:r<record>:s<subscription>`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from outages.delivery.queue import insert_rows
from outages.display import shorten
from outages.officials.options import MailOptions, mail_options
from outages.places.addresses import parse_addresses
from outages.records.history import fold, states_by_event
from outages.records.model import RECORD_KINDS, Kind
from outages.records.views import RecordView, list_records, records_by_number
from outages.residents.audience import covered, is_news, not_before, quiet_hours, wants
from outages.residents.subscriptions import matching
from outages.residents.writers import WRITERS, News
from outages.schema import events, fanouts, outbox, subscriptions
from outages.settings import Settings
from outages.text import clean
from outages.times import instant

BATCH = 20  # fan-outs per transaction: each is one indexed lookup and a bulk insert


def expand_due(engine: Engine, settings: Settings, now: datetime) -> int:
    """Write the subscriber messages of every pending fan-out and of tomorrow's planned works; returns how many."""
    total = 0
    while True:
        with engine.begin() as conn:
            pending = conn.execute(select(fanouts.c.event_id).where(fanouts.c.done_at.is_(None))
                                   .order_by(fanouts.c.event_id).limit(BATCH)).scalars().all()
            if not pending:
                break
            total += expand(conn, pending, settings, now)
            conn.execute(update(fanouts).where(fanouts.c.event_id.in_(pending)).values(done_at=now))
    with engine.begin() as conn:
        total += planned_eve(conn, settings, now)
    return total


def expand(conn: Connection, event_ids: list[int], settings: Settings, now: datetime) -> int:
    options = mail_options(settings)
    quiet = quiet_hours(settings)
    found = conn.execute(select(events).where(events.c.id.in_(event_ids)).order_by(events.c.id)).all()
    numbers = sorted({e.record_number for e in found})
    after = states_by_event(conn, numbers, RECORD_KINDS, now)
    # A new record is told as it is now (a first import's old creation, or one updated since); a backlog of one
    # record's changes is one message (history.fold); a record that began and ended within it is not news.
    current = records_by_number(conn, sorted({e.record_number for e in found if e.kind == "created"}), now)
    begun = {e.record_number for e in found if e.kind == "created"}
    rows: list[dict[str, Any]] = []
    for event in fold(found):
        state = current.get(event.record_number) if event.kind == "created" else after.get(event.id)
        if state is None or not is_news(event.kind, event.data or {}):
            continue
        if event.record_number in begun and not state.live:
            continue
        old = instant((event.data or {}).get("old_expected_end"))
        when = not_before(state.kind, now, settings.tz, quiet)
        # A cancellation is for those told of the record, each once, however its addresses changed since.
        if event.kind == "cancelled":
            told = told_subscriptions(conn, state.number)
        elif event.kind == "corrected":
            # Those told before (their house may have left the record) and those it covers now, each once.
            told = list({s.id: s for s in [*told_subscriptions(conn, state.number),
                                           *audience(conn, state, settings)]}.values())
        else:
            told = audience(conn, state, settings)
        data = event.data or {}
        for sub in told:
            rows.append(_row(options, settings, event.kind, state, sub, event_id=event.id,
                             dedup_key=f"sub:event:{event.id}:s{sub.id}", now=now, when=when, old=old,
                             said=data.get("text") or data.get("reason") or ""))
    return insert_rows(conn, rows)


def told_subscriptions(conn: Connection, number: int) -> list[Any]:
    """The active subscriptions a message about this record was made for (the outbox's range of the record)."""
    made_for = select(outbox.c.subscription_id).where(outbox.c.record_number == number,
                                                      outbox.c.subscription_id.is_not(None)).distinct()
    return conn.execute(select(subscriptions).where(subscriptions.c.id.in_(made_for),
                                                    subscriptions.c.disabled_at.is_(None))
                        .order_by(subscriptions.c.id)).all()


def audience(conn: Connection, record: RecordView, settings: Settings) -> list[Any]:
    """The active subscriptions this record's addresses cover, for its service. A record with no «Адреси» covers
    every house of its districts: every subscription on a street the catalogue places there."""
    if not record.addresses.strip() and record.districts:
        named = set(record.districts)
        keys = sorted(s.key for s in settings.streets.entries if named & set(s.districts))
        return [s for s in matching(conn, keys) if wants(s, record.service)]
    parsed = parse_addresses(record.addresses, settings.streets)
    keys = sorted({item.street_key for item in parsed.items})
    return [s for s in covered(parsed.items, matching(conn, keys)) if wants(s, record.service)]


def planned_eve(conn: Connection, settings: Settings, now: datetime) -> int:
    """The day before planned works start (from the officials' reminder hour), their subscribers hear of them."""
    options = mail_options(settings)
    local = now.astimezone(settings.tz)
    if local.hour < options.planned_reminder_hour:
        return 0
    tomorrow = local.date() + timedelta(days=1)
    rows: list[dict[str, Any]] = []
    when = not_before(Kind.PLANNED, now, settings.tz, quiet_hours(settings))
    for record in list_records(conn, now, active_only=True):
        if record.kind is not Kind.PLANNED or record.event_at.astimezone(settings.tz).date() != tomorrow:
            continue
        for sub in audience(conn, record, settings):
            rows.append(_row(options, settings, "planned_eve", record, sub, event_id=None,
                             dedup_key=f"sub:eve:r{record.number}:s{sub.id}", now=now, when=when))
    return insert_rows(conn, rows)


def shown(record: RecordView, limit: int | None) -> RecordView:
    """The record with its texts cut to `display_max_chars`, for a subscriber's mail or Telegram message."""
    return replace(record, **{name: shorten(getattr(record, name), limit)
                              for name in ("summary", "cause", "impact", "addresses")})


def _row(options: MailOptions, settings: Settings, kind: str, record: RecordView, sub: Any, *,
         event_id: int | None, dedup_key: str, now: datetime, when: datetime,
         old: datetime | None = None, said: str = "") -> dict[str, Any]:
    # The audience was chosen on the full text; what residents read is capped like every other output.
    news = News(kind=kind, record=shown(record, settings.display_max_chars), subscription=sub, event_id=event_id,
                dedup_key=dedup_key, now=now, not_before=when, old_end=old,
                said=shorten(clean(said), settings.display_max_chars))
    return WRITERS[sub.medium](news, options, settings)
