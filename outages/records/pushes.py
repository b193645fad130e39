"""Pushes from the form's Apps Script (POST /hooks/form-submitted): a signed body counts once, and only near the
moment it says it was sent.

The body carries `at`, the sender's clock as ISO 8601 with an offset (`new Date().toISOString()` gives
`2026-11-22T19:00:00.000Z`). A body more than WINDOW away from the hub's clock, or one the hub has already
accepted, is refused: whoever captured a signed body cannot make the hub sync on their schedule. Bodies are
remembered by digest (table hook_pushes) for twice the window; older ones are refused by their `at` anyway.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from outages.schema import hook_pushes
from outages.times import UTC, fmt

WINDOW = timedelta(minutes=5)


class PushRefused(Exception):
    """The push is not accepted; `status` is the HTTP answer, the message says why (Ukrainian / English)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sent_at(body: bytes) -> datetime:
    """The body's `at`, aware; PushRefused(400) when it is missing, not ISO 8601 or without an offset."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PushRefused(400, "Тіло запиту — не JSON / the body is not JSON") from None
    raw = data.get("at") if isinstance(data, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        raise PushRefused(400, "У тілі запиту немає «at» (час надсилання, ISO 8601) — оновіть скрипт форми за"
                               " docs/google-form.md / the body has no `at`")
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise PushRefused(400, f"«at» = «{raw[:40]}» — не час ISO 8601 / `at` is not ISO 8601") from None
    if at.tzinfo is None:
        raise PushRefused(400, f"«at» = «{raw[:40]}» без зсуву часового поясу (потрібно, наприклад, …Z або"
                               " …+02:00) / `at` has no UTC offset")
    return at


def accept(engine: Engine, body: bytes, now: datetime, tz: tzinfo = UTC) -> None:
    """Remember an authenticated push, or raise PushRefused: 401 when its `at` is too far from `now`, 409 when the
    same body was accepted before."""
    at = sent_at(body)
    try:
        off = abs(at - now) > WINDOW
        shown = fmt(at, tz)
    except OverflowError:  # «9999-12-31T23:59:59-12:00» is ISO 8601, but no instant this side of year 10000
        off, shown = True, at.isoformat()[:40]
    if off:
        minutes = WINDOW.total_seconds() / 60
        raise PushRefused(401, f"Час запиту «{shown}» відрізняється від часу хаба «{fmt(now, tz)}» більш ніж"
                               f" на {minutes:g} хв: запит застарів або годинник відправника збився"
                               f" / `at` is more than {minutes:g} min off the hub's clock")
    digest = hashlib.sha256(body).hexdigest()
    try:
        with engine.begin() as conn:
            conn.execute(delete(hook_pushes).where(hook_pushes.c.at < now - 2 * WINDOW))
            conn.execute(insert(hook_pushes).values(digest=digest, at=at, received_at=now))
    except IntegrityError:
        # The primary key settles a race of two identical bodies too: one insert wins.
        raise PushRefused(409, f"Цей запит (надіслано «{fmt(at, tz)}») уже отримано: повтор не приймається"
                               " / this push was already received; a replay is refused") from None
