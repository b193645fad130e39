"""Signing in to the console, and the sessions it opens.

- `attempt` checks an e-mail and a password. An unknown address, a wrong password and a disabled person get the
  same answer, after the same work (an unknown address is checked against a dummy hash). Every attempt is audited:
  `login`, or `login_failed` with why (the audit is for admins; the person at the door learns nothing).
- After 5 failures for one account within 15 minutes its sign-ins are refused for 15 minutes after the fifth, even
  with the right password. The failures are the audit's own `login_failed` rows (so the rule holds across every
  gunicorn worker), counted since the account's last successful sign-in; refused attempts are audited but do not
  extend the lock. An address nobody has is throttled the same way, under a keyed hash of it (never the typed
  text: a password typed into the e-mail field must not be kept), so the answers cannot tell accounts apart.
- A session is a random token in the browser's signed cookie and its SHA-256 here. It ends at logout, when its
  person is disabled, or after `idle` without a request, measured by the hub's clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from outages.console import audit as trail
from outages.console import people
from outages.console.people import Person
from outages.schema import audit, ops_sessions, users

FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
# A session's last request is written at most this often: reading a page need not write to the store each time.
TOUCH = timedelta(seconds=60)


@dataclass(frozen=True)
class Outcome:
    person: Person | None = None  # signed in
    token: str = ""  # the new session's token, for the browser's cookie
    locked_until: datetime | None = None  # refused: too many failures

    @property
    def ok(self) -> bool:
        return self.person is not None


def throttle_key(person: Person | None, email: str, secret: str) -> str:
    if person is not None:
        return trail.user_object(person.email)
    digest = hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()[:24]
    return f"login:{digest}"


def locked_until(conn: Connection, key: str, now: datetime) -> datetime | None:
    """When the account's lock ends, if it is locked at `now`: 5 failures within 15 minutes lock it for 15
    minutes from the fifth."""
    last_login = conn.execute(select(func.max(audit.c.at)).where(
        audit.c.object == key, audit.c.action == "login")).scalar()
    since = now - WINDOW - LOCK
    if last_login is not None and last_login > since:
        since = last_login
    times = sorted(conn.execute(select(audit.c.at).where(
        audit.c.object == key, audit.c.action == "login_failed", audit.c.reason != "throttled",
        audit.c.at > since, audit.c.at <= now)).scalars())
    until = None
    for i in range(FAILURES - 1, len(times)):
        if times[i] - times[i - FAILURES + 1] <= WINDOW:
            until = times[i] + LOCK
    return until if until is not None and until > now else None


def attempt(conn: Connection, email: str, password: str, *, now: datetime, client: str, secret: str) -> Outcome:
    """One sign-in, audited in the caller's transaction."""
    address = email.strip().lower()[:254]
    person, stored = people.credentials(conn, address)
    key = throttle_key(person, address, secret)
    seen = {"client": client[:100]}
    until = locked_until(conn, key, now)
    if until is not None:
        trail.write(conn, at=now, actor=trail.ANONYMOUS, action="login_failed", object=key, reason="throttled",
                    after=seen)
        return Outcome(locked_until=until)
    right = people.verify(stored or people.dummy_hash(), password[:people.MAX_PASSWORD])
    if person is None or not right or not person.active:
        why = "unknown_email" if person is None else "wrong_password" if not right else "disabled"
        trail.write(conn, at=now, actor=trail.ANONYMOUS, action="login_failed", object=key, reason=why, after=seen)
        return Outcome()
    if people.needs_rehash(stored):
        people.set_password_hash(conn, person, people.hash_password(password))
    token = secrets.token_urlsafe(32)
    conn.execute(insert(ops_sessions).values(token_hash=_digest(token), user_id=person.id, created_at=now,
                                             last_seen_at=now, client=client[:100]))
    trail.write(conn, at=now, actor=person.email, action="login", object=key, after=seen)
    return Outcome(person=person, token=token)


def resume(conn: Connection, token: str, now: datetime, idle: timedelta) -> Person | None:
    """The person of a live session, its last request moved to `now`; None for an ended, idle or unknown one (an
    idle one is ended here)."""
    row = conn.execute(select(ops_sessions.c.id, ops_sessions.c.last_seen_at, ops_sessions.c.ended_at,
                              users.c.id, users.c.email, users.c.role, users.c.created_at, users.c.disabled_at)
                       .join(users, users.c.id == ops_sessions.c.user_id)
                       .where(ops_sessions.c.token_hash == _digest(token))).first()
    if row is None or row[2] is not None:
        return None
    person = Person(*row[3:])
    if not person.active or now - row[1] > idle:
        conn.execute(update(ops_sessions).where(ops_sessions.c.id == row[0]).values(ended_at=now))
        return None
    if now - row[1] >= TOUCH:
        conn.execute(update(ops_sessions).where(ops_sessions.c.id == row[0]).values(last_seen_at=now))
    return person


def end(conn: Connection, token: str, now: datetime) -> None:
    conn.execute(update(ops_sessions).where(ops_sessions.c.token_hash == _digest(token),
                                            ops_sessions.c.ended_at.is_(None)).values(ended_at=now))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
