"""The people who sign in to the console: operators, and admins who also manage people.

Passwords are hashed with argon2id (argon2-cffi's PasswordHasher, RFC 9106's low-memory profile: 3 passes over
64 MiB, 4 lanes): memory-hard, so a stolen table costs an attacker memory as well as time for every guess, and the
hash string carries its own parameters, so a later, costlier profile re-hashes each password at its next sign-in
(`needs_rehash`). Nobody is deleted: a person who leaves is disabled (their sessions end at once), and the audit
trail keeps naming them. Every change is audited in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from outages.console import audit as trail
from outages.officials.directory import check_address
from outages.schema import ops_sessions, users

ROLES = ("operator", "admin")
ROLE_UK = {"operator": "оператор", "admin": "адміністратор"}
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing is costly by design: a megabyte "password" must not make it costlier

_hasher = PasswordHasher()


class PeopleError(ValueError):
    """A refused change, said in Ukrainian and English: the CLI prints it, the console shows it."""


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    role: str
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_uk(self) -> str:
        return ROLE_UK.get(self.role, self.role)

    def as_json(self, tz) -> dict[str, object]:  # noqa: ANN001
        return {"email": self.email, "role": self.role, "created_at": self.created_at.astimezone(tz).isoformat(),
                "disabled_at": self.disabled_at.astimezone(tz).isoformat() if self.disabled_at else None}


_PERSON = (users.c.id, users.c.email, users.c.role, users.c.created_at, users.c.disabled_at)


def normalise_email(text: str) -> str:
    """The one form of an address every lookup uses: checked, an internationalised domain as punycode, lower-case."""
    try:
        return check_address(text).lower()
    except ValueError as exc:
        raise PeopleError(f"e-mail «{text.strip()[:254]}» недійсний / invalid: {exc}") from None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PeopleError(f"пароль закороткий: потрібно щонайменше {MIN_PASSWORD} символів"
                          f" / the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PeopleError(f"пароль задовгий: не більше {MAX_PASSWORD} символів"
                          f" / the password is too long: at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):  # a wrong password, or a hash this library cannot read
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A hash of no one's password, checked when the e-mail is unknown: an unknown address costs the same time as
    a wrong password, so the answer's timing does not tell whether an account exists."""
    return _hasher.hash("no account has this password")


def find(conn: Connection, email: str) -> Person | None:
    row = conn.execute(select(*_PERSON).where(users.c.email == email.strip().lower())).first()
    return None if row is None else Person(*row)


def credentials(conn: Connection, email: str) -> tuple[Person | None, str]:
    """The person with this (already lower-cased) address and their password hash; (None, "") when unknown."""
    row = conn.execute(select(*_PERSON, users.c.password_hash).where(users.c.email == email)).first()
    return (None, "") if row is None else (Person(*row[:5]), row[5])


def everyone(conn: Connection) -> list[Person]:
    return [Person(*row) for row in conn.execute(select(*_PERSON).order_by(users.c.email))]


def add(conn: Connection, email: str, role: str, password: str, *, now: datetime, actor: str) -> Person:
    """A new person, audited as `user_add`. An address already known (in any case) is refused."""
    address = normalise_email(email)
    if role not in ROLES:
        raise PeopleError(f"роль «{role}» невідома: operator або admin / unknown role: operator or admin")
    check_password(password)
    exists = PeopleError(f"{address}: такий працівник уже є / this user already exists")
    if find(conn, address) is not None:
        raise exists
    stored = hash_password(password)
    try:
        with conn.begin_nested():  # two admins adding the same address at once: the second is told, not a 500
            conn.execute(insert(users).values(email=address, role=role, password_hash=stored, created_at=now))
    except IntegrityError:
        raise exists from None
    person = find(conn, address)
    assert person is not None
    trail.write(conn, at=now, actor=actor, action="user_add", object=trail.user_object(address),
                after={"email": address, "role": role})
    return person


def set_password_hash(conn: Connection, person: Person, stored: str) -> None:
    """A re-hash at sign-in (the hasher's profile grew); the password itself is unchanged, so nothing is audited."""
    conn.execute(update(users).where(users.c.id == person.id).values(password_hash=stored))


def disable(conn: Connection, email: str, *, now: datetime, actor: str, reason: str = "") -> tuple[Person, bool]:
    """(the person, whether this disabled them): their sessions end now, audited as `user_disable`. Someone
    already disabled stays as they are, and nothing is written."""
    person = find(conn, email)
    if person is None:
        raise PeopleError(f"{email.strip()[:254]}: такого працівника немає / no such user")
    if not person.active:
        return person, False
    conn.execute(update(users).where(users.c.id == person.id).values(disabled_at=now))
    conn.execute(update(ops_sessions).where(ops_sessions.c.user_id == person.id, ops_sessions.c.ended_at.is_(None))
                 .values(ended_at=now))
    trail.write(conn, at=now, actor=actor, action="user_disable", object=trail.user_object(person.email),
                reason=reason, before={"disabled_at": None}, after={"disabled_at": now.isoformat()})
    return find(conn, person.email) or person, True

