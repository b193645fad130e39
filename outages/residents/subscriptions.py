"""Residents' subscriptions by address: e-mail (double opt-in) and Telegram chats (the bot, outages/residents/bot.py).

E-mail: a sign-up stores an unconfirmed subscription and queues a confirmation mail through the outbox; its link
carries a signed token that expires in 24 hours. Only a POST confirms (mail scanners fetch links). Every mail to a
subscriber carries a signed unsubscribe link (RFC 8058 one-click) and a page to manage the subscription.
Unconfirmed sign-ups and the sign-up log are forgotten after 7 days; `forget` deletes everything of one person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, and_, delete, func, or_, select, update

from outages.db import insert_or_skip
from outages.schema import delivery_attempts, outbox, subscribe_requests, subscriptions

CONFIRM_SALT = "subscription-confirm"
LINK_SALT = "subscription-link"
CONFIRM_MAX_AGE = timedelta(hours=24)
UNCONFIRMED_KEPT = timedelta(days=7)
ADDRESS_MAX = 200
# Confirmation mails one e-mail address may receive in a day, whoever asks and from however many networks: the
# per-client limit alone let one person's address be signed up from 20 clients and get 20 mails from the city.
CONFIRMATIONS_PER_DAY = 3


class TooMany(Exception):
    """This client signed up too often in the last hour."""


@dataclass(frozen=True)
class Where:
    """What the city's street matcher made of a subscriber's address (outages/places/addresses.py); `label` names
    it as the catalogue does («вул. Соборна, 12»), with nothing else of what the resident typed."""

    street_key: str
    house: str
    label: str = ""


def confirm_token(secret: str, subscription_id: int, now: datetime) -> str:
    """Signed, and carrying when it was made (the hub's clock, so tests can move it) for the 24-hour expiry."""
    return URLSafeSerializer(secret, salt=CONFIRM_SALT).dumps([subscription_id, int(now.timestamp())])


def read_confirm_token(secret: str, token: str, now: datetime) -> tuple[int | None, bool]:
    """(subscription id, expired); (None, False) for a token that is not ours."""
    try:
        subscription_id, made = URLSafeSerializer(secret, salt=CONFIRM_SALT).loads(token)
        subscription_id, made = int(subscription_id), int(made)
    except (BadSignature, ValueError, TypeError):
        return None, False
    if now.timestamp() - made > CONFIRM_MAX_AGE.total_seconds():
        return None, True
    return subscription_id, False


def link_token(secret: str, subscription_id: int) -> str:
    """For the unsubscribe and manage links: they must keep working as long as mail arrives, so no expiry."""
    return URLSafeSerializer(secret, salt=LINK_SALT).dumps(subscription_id)


def read_link_token(secret: str, token: str) -> int | None:
    try:
        return int(URLSafeSerializer(secret, salt=LINK_SALT).loads(token))
    except (BadSignature, ValueError, TypeError):
        return None


def sign_up(conn: Connection, *, medium: str, target: str, address: str, where: Where, services: list[str],
            client: str, now: datetime, limit: int | None = None) -> tuple[Any, bool]:
    """Store a subscription (unconfirmed for e-mail); (its row, whether a confirmation should be sent).

    A second sign-up of the same address for the same target keeps the one row; an unconfirmed one is asked to
    confirm again. With `limit`, a client that made that many sign-ups in the last hour gets TooMany."""
    if limit is not None:
        recent = conn.execute(select(func.count()).select_from(subscribe_requests).where(
            subscribe_requests.c.client == client, subscribe_requests.c.at > now - timedelta(hours=1))).scalar_one()
        if recent >= limit:
            raise TooMany(client)
        conn.execute(subscribe_requests.insert().values(client=client[:100], at=now))
    confirmed = now if medium == "telegram" else None
    insert_or_skip(conn, subscriptions, {
        "medium": medium, "target": target, "address": address[:ADDRESS_MAX], "street_key": where.street_key,
        "house": where.house, "services": services, "client": client[:100], "created_at": now,
        "confirmed_at": confirmed,
    })
    row = conn.execute(select(subscriptions).where(subscriptions.c.medium == medium,
                                                   subscriptions.c.target == target,
                                                   subscriptions.c.address == address[:ADDRESS_MAX])).one()
    if row.disabled_at is not None:  # subscribing again after unsubscribing: it starts over
        conn.execute(update(subscriptions).where(subscriptions.c.id == row.id).values(
            disabled_at=None, confirmed_at=confirmed, created_at=now, street_key=where.street_key,
            house=where.house, services=services))
        row = conn.execute(select(subscriptions).where(subscriptions.c.id == row.id)).one()
    return row, row.confirmed_at is None


def confirmations_due(conn: Connection, target: str, now: datetime) -> bool:
    """Whether this e-mail address may get one more confirmation mail: fewer than CONFIRMATIONS_PER_DAY in the
    last 24 hours (however its letters were cased)."""
    sent = conn.execute(select(func.count()).select_from(outbox).where(
        outbox.c.kind == "subscribe_confirm", func.lower(outbox.c.recipient) == func.lower(target),
        outbox.c.created_at > now - timedelta(days=1))).scalar_one()
    return sent < CONFIRMATIONS_PER_DAY


def get(conn: Connection, subscription_id: int) -> Any:
    return conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).first()


def confirm(conn: Connection, subscription_id: int, now: datetime) -> Any:
    conn.execute(update(subscriptions).where(subscriptions.c.id == subscription_id,
                                             subscriptions.c.confirmed_at.is_(None))
                 .values(confirmed_at=now))
    return get(conn, subscription_id)


def unsubscribe(conn: Connection, subscription_id: int, now: datetime) -> Any:
    """End one subscription: no more messages, and those still queued for it are not sent."""
    conn.execute(update(subscriptions).where(subscriptions.c.id == subscription_id,
                                             subscriptions.c.disabled_at.is_(None))
                 .values(disabled_at=now))
    _drop_queued(conn, [subscription_id], now)
    return get(conn, subscription_id)


def active(conn: Connection, medium: str, target: str) -> list[Any]:
    return conn.execute(select(subscriptions).where(
        subscriptions.c.medium == medium, subscriptions.c.target == target, subscriptions.c.disabled_at.is_(None),
        subscriptions.c.confirmed_at.is_not(None)).order_by(subscriptions.c.id)).all()


def stop_all(conn: Connection, medium: str, target: str, now: datetime) -> int:
    ids = [s.id for s in active(conn, medium, target)]
    if ids:
        conn.execute(update(subscriptions).where(subscriptions.c.id.in_(ids)).values(disabled_at=now))
        _drop_queued(conn, ids, now)
    return len(ids)


def _drop_queued(conn: Connection, ids: list[int], now: datetime) -> None:
    conn.execute(update(outbox).where(outbox.c.subscription_id.in_(ids), outbox.c.status == "queued")
                 .values(status="failed", failed_at=now, last_error="unsubscribed before it was sent"))


def counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Per medium: confirmed and active, waiting for confirmation, ended; and distinct targets that are active."""
    out: dict[str, dict[str, int]] = {}
    rows = conn.execute(select(subscriptions.c.medium, subscriptions.c.target, subscriptions.c.confirmed_at,
                               subscriptions.c.disabled_at)).all()
    for medium, target, confirmed_at, disabled_at in rows:
        entry = out.setdefault(medium, {"active": 0, "unconfirmed": 0, "ended": 0, "people": 0})
        if disabled_at is not None:
            entry["ended"] += 1
        elif confirmed_at is None:
            entry["unconfirmed"] += 1
        else:
            entry["active"] += 1
    for medium in out:
        out[medium]["people"] = len({t for m, t, c, d in rows if m == medium and c is not None and d is None})
    return out


def forget(conn: Connection, target: str) -> int:
    """Delete everything the hub keeps about this e-mail address or chat: subscriptions, the messages to it and
    their delivery records. Returns how many subscriptions there were."""
    target = target.strip()
    match = func.lower(subscriptions.c.target) == target.lower()
    ids = conn.execute(select(subscriptions.c.id).where(match)).scalars().all()
    mine = (outbox.c.subscription_id.in_(ids) if ids else outbox.c.id.is_(None))
    # Confirmation mails and subscriber messages; never an official's mail that happens to share the address.
    rows = conn.execute(select(outbox.c.id).where(or_(
        and_(func.lower(outbox.c.recipient) == target.lower(), outbox.c.role == "subscriber"), mine))
    ).scalars().all()
    if rows:
        conn.execute(delete(delivery_attempts).where(delivery_attempts.c.outbox_id.in_(rows)))
        conn.execute(update(outbox).where(outbox.c.depends_on.in_(rows)).values(depends_on=None))
        conn.execute(delete(outbox).where(outbox.c.id.in_(rows)))
    if ids:
        conn.execute(delete(subscriptions).where(subscriptions.c.id.in_(ids)))
    return len(ids)


def purge(conn: Connection, now: datetime) -> int:
    """Forget sign-ups never confirmed within 7 days, and the sign-up log of that age."""
    stale = conn.execute(select(subscriptions.c.id).where(
        subscriptions.c.confirmed_at.is_(None), subscriptions.c.created_at < now - UNCONFIRMED_KEPT)).scalars().all()
    if stale:
        rows = conn.execute(select(outbox.c.id).where(outbox.c.subscription_id.in_(stale))).scalars().all()
        if rows:
            conn.execute(delete(delivery_attempts).where(delivery_attempts.c.outbox_id.in_(rows)))
            conn.execute(delete(outbox).where(outbox.c.id.in_(rows)))
        conn.execute(delete(subscriptions).where(subscriptions.c.id.in_(stale)))
    conn.execute(delete(subscribe_requests).where(subscribe_requests.c.at < now - UNCONFIRMED_KEPT))
    return len(stale)


def matching(conn: Connection, street_keys: list[str]) -> list[Any]:
    """Active, confirmed subscriptions on these streets (the index on street_key keeps this one lookup)."""
    if not street_keys:
        return []
    return conn.execute(select(subscriptions).where(
        subscriptions.c.street_key.in_(street_keys), subscriptions.c.disabled_at.is_(None),
        subscriptions.c.confirmed_at.is_not(None)).order_by(subscriptions.c.id)).all()

