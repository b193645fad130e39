"""Queuing the residents' channels in the sync's transaction: the city's Telegram channel, the webhooks, and a
`fanouts` row per change (the per-subscriber messages are written later by fanout.py, outside the sync).

The channel's rows of one record form a chain through `depends_on`: the post, then for each later change an edit
of the post (to the record's state right after that change) and, when the term moved or the record was
resolved, a reply under it. The drain delivers a row only after the row it depends on, so edits arrive in order,
and hands the transport the post's message id (`peer_ref`, passed along the chain).

Each row has a dedup key naming the post and the change (`tg-post:@city:r12`, `tg-edit:@city:e88`), so a second
sync, a second worker or a replay after a crash queues nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from outages.db import insert_or_skip
from outages.delivery.queue import put, row
from outages.display import capped, shorten
from outages.officials.options import mail_options
from outages.records.history import states_by_event
from outages.records.model import RECORD_KINDS
from outages.records.state import within_term
from outages.records.views import RecordView, records_by_number
from outages.residents import posts
from outages.schema import events, fanouts, outbox, records
from outages.settings import Settings
from outages.text import clean
from outages.times import between, instant
from outages.transports.telegram import telegram_options

# Changes residents hear about (fanout.py decides who and whether it is news for them).
FANOUT_KINDS = ("created", "updated", "resolved", "corrected", "cancelled")
# Events of the clock, not of the utility: the term passed (an emergency is overdue, planned works ended). The
# channel's post is edited to say so; nobody else is told here.
STATE_KINDS = ("overdue", "ended")
POST_KINDS = RECORD_KINDS + STATE_KINDS


def enqueue(conn: Connection, event_ids: list[int], settings: Settings, now: datetime) -> int:
    """Queue the channel's post/edit/reply rows, the webhook rows and the fan-outs of these events."""
    if not event_ids:
        return 0
    options = mail_options(settings)
    # One range query (a sync's events have adjacent ids; a year's first sync makes 100k of them). An old change
    # found by a first sync of a long sheet is history, not news (as for officials' mail).
    wanted = set(event_ids)
    span = events.c.id.between(min(event_ids), max(event_ids))
    found = conn.execute(select(events).where(span, events.c.kind.in_(POST_KINDS),
                                              events.c.at >= now - options.news_max_age)
                         .order_by(events.c.id)).all()
    recent = [e for e in found if e.id in wanted and between(e.at, now) <= options.news_max_age]
    # A first import (or a worker back after days): a record reported long ago that is still current or ahead
    # (works under way, tomorrow's power cut) is news to the channel and its subscribers; what is over is not, nor
    # an old emergency whose term passed with no word (its page says overdue; the channel is for what is on).
    # Selected in SQL: only the records still within their term among a year of old creations.
    still = [e for e in conn.execute(
        select(events).join(records, records.c.number == events.c.record_number)
        .where(span, events.c.kind == "created", events.c.at < now - options.news_max_age,
               within_term(records.c, now))
        .order_by(events.c.id)).all() if e.id in wanted]
    if not recent and not still:
        return 0
    numbers = sorted({e.record_number for e in recent})
    # Posts and webhooks are public output: the record's texts as the site shows them (display_max_chars).
    with capped(settings.display_max_chars):
        after = states_by_event(conn, numbers, RECORD_KINDS, now)
        # The term passed (overdue, ended) or an old record is still current: the post says the state now.
        current = records_by_number(conn, sorted({e.record_number for e in still}
                                                 | {e.record_number for e in recent if e.kind in STATE_KINDS}), now)
    for event in still:
        after[event.id] = current[event.record_number]
    for event in recent:
        if event.kind in STATE_KINDS and event.record_number in current:
            after[event.id] = current[event.record_number]
    tg = telegram_options(settings)
    hooks = settings.webhooks  # checked when the settings loaded
    count = 0
    for event in sorted([*still, *recent], key=lambda e: e.id):
        state = after.get(event.id)
        if state is None:
            continue
        if event.kind in STATE_KINDS:  # only the channel's post changes with the clock
            if tg.token and tg.channel:
                count += _channel_rows(conn, tg.channel, event, state, settings, options.public_url, now)
            continue
        if tg.token and tg.channel:
            count += _channel_rows(conn, tg.channel, event, state, settings, options.public_url, now)
        count += _webhook_rows(conn, hooks, event, state, settings, options.public_url, now)
        if event.kind in FANOUT_KINDS:
            insert_or_skip(conn, fanouts, {"event_id": event.id, "created_at": now})
    return count


def _last_of_thread(conn: Connection, channel: str, number: int) -> Any:
    return conn.execute(
        select(outbox.c.id, outbox.c.payload).where(outbox.c.channel == "telegram", outbox.c.recipient == channel,
                                                    outbox.c.record_number == number)
        .order_by(outbox.c.id.desc()).limit(1)
    ).first()


def _channel_rows(conn: Connection, channel: str, event, state: RecordView, settings: Settings,  # noqa: ANN001
                  public_url: str, now: datetime) -> int:
    tz = settings.tz
    text = posts.post_text(state, tz, public_url)
    number = state.number
    common = {"channel": "telegram", "recipient": channel, "role": "channel", "record_number": number, "now": now}
    last = _last_of_thread(conn, channel, number)
    if last is None:
        if event.kind in ("resolved", "cancelled") or event.kind in STATE_KINDS:
            return 0  # never posted (before the channel was set up): a post that says "fixed" tells nobody much
        _, new = put(conn, row(dedup_key=f"tg-post:{channel}:r{number}", kind="tg_post", text=text,
                               payload={"method": "send", "text": text, "post": text, "event": event.id},
                               subject=f"Пост про запис №{number}", **common))
        return int(new)
    count = 0
    depends = last.id
    if (last.payload or {}).get("post") != text:
        depends, new = put(conn, row(dedup_key=f"tg-edit:{channel}:e{event.id}", kind="tg_edit", text=text,
                                     payload={"method": "edit", "text": text, "post": text, "event": event.id},
                                     depends_on=depends, subject=f"Зміна поста про запис №{number}", **common))
        count += int(new)
    reply = _reply(event, state, settings)
    if reply:
        _, new = put(conn, row(dedup_key=f"tg-reply:{channel}:e{event.id}", kind="tg_reply", text=reply,
                               payload={"method": "reply", "text": reply, "post": text, "event": event.id},
                               depends_on=depends, subject=f"Відповідь під постом про запис №{number}", **common))
        count += int(new)
    return count


def _reply(event, state: RecordView, settings: Settings) -> str:  # noqa: ANN001
    data = event.data or {}
    said = clean(data.get("text") or "") if event.kind in ("updated", "resolved") else ""
    said = shorten(said, settings.display_max_chars)
    lines = []
    if event.kind == "resolved":
        lines.append(posts.resolved_text(state, settings.tz))
    if event.kind == "cancelled":
        return posts.cancelled_text(state)  # the reason is in it
    if event.kind == "updated":
        old, new = instant(data.get("old_expected_end")), instant(data.get("new_expected_end"))
        if new is not None and old != new:
            lines.append(posts.moved_text(state, settings.tz, old, new))
    if said:  # an update's own words travel to the channel as well as the site
        lines.append(posts.said_text(said))
    return "\n".join(lines)


def _webhook_rows(conn: Connection, hooks, event, state: RecordView, settings: Settings,  # noqa: ANN001
                  public_url: str, now: datetime) -> int:
    count = 0
    for hook in hooks.values():
        if event.kind not in hook.kinds:
            continue
        dedup = f"hook:event:{event.id}:{hook.name}"
        body = {
            "delivery": dedup,
            "event": {"id": event.id, "kind": event.kind, "type": f"record.{event.kind}",
                      "at": event.at.astimezone(settings.tz).isoformat()},
            "record": state.public_json(settings.tz),  # the public view: no contacts, no reporter e-mail
            "url": posts.record_url(public_url, state.number),
        }
        _, new = put(conn, row(channel="webhook", dedup_key=dedup, kind=event.kind, recipient=hook.name,
                               role="webhook", text="", payload=body, now=now, record_number=state.number,
                               event_id=event.id, subject=f"Webhook {hook.name}: {event.kind} №{state.number}"))
        count += int(new)
    return count
