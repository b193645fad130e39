"""The audit trail: one row per action of a person (or of the CLI, or of someone failing to sign in), never changed
or deleted (the table's triggers refuse it). `/ops/audit` and `outages audit` read it through `page`.

Objects are named by kind and key: "user:<email>", "record:<n>", "outbox:<id>"; a record's story is the range
"record:<n>" of ix_audit_object.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import ColumnElement, Connection, insert, select

from outages.schema import audit

# The actions the issue names; those of the record actions are written by the console's later parts.
ACTIONS = ("login", "login_failed", "record_new", "record_correct", "record_cancel", "record_resolve",
           "relay_by_phone", "message_resend", "report_moderate", "report_take", "report_forget", "user_add",
           "user_disable")

ACTION_UK = {
    "login": "вхід", "login_failed": "невдалий вхід", "record_new": "новий запис (телефоном)",
    "record_correct": "виправлення запису", "record_cancel": "скасування запису", "record_resolve": "завершення запису",
    "relay_by_phone": "передачу підтверджено телефоном", "message_resend": "повторне надсилання",
    "report_moderate": "модерація звернення", "report_take": "звернення взято в роботу (виконавець)",
    "report_forget": "стерто контакти мешканця", "user_add": "додано працівника", "user_disable": "вимкнено працівника",
}

ANONYMOUS = "anonymous"
PAGE_SIZE = 50


def record_object(number: int) -> str:
    return f"record:{number}"


def user_object(email: str) -> str:
    return f"user:{email}"


def cli_actor() -> str:
    """Who runs a CLI command: the operating system's user (sudo's caller when run through sudo)."""
    try:
        name = os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's bare uid)
        name = str(os.getuid())
    return f"cli:{name}"


def write(conn: Connection, *, at: datetime, actor: str, action: str, object: str = "",
          reason: str = "", before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> int:
    """Append one row, in the caller's transaction: the action and its audit row commit (or roll back) together."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    result = conn.execute(insert(audit).values(
        at=at, actor=actor[:254], action=action, object=object[:300], reason=reason, before=before, after=after))
    return int(result.inserted_primary_key[0])


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    action: str
    object: str
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def action_uk(self) -> str:
        return ACTION_UK.get(self.action, self.action)

    def as_json(self, tz) -> dict[str, Any]:  # noqa: ANN001
        return {"id": self.id, "at": self.at.astimezone(tz).isoformat(), "actor": self.actor, "action": self.action,
                "object": self.object, "reason": self.reason, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Filters:
    record: int | None = None
    actor: str = ""
    since: datetime | None = None  # a day: [since, until)
    until: datetime | None = None
    object: str = ""  # one object's story: "report:<id>" (a record's is `record`)

    def where(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.record is not None:
            out.append(audit.c.object == record_object(self.record))
        if self.object:
            out.append(audit.c.object == self.object)
        if self.actor:
            out.append(audit.c.actor == self.actor)
        if self.since is not None:
            out.append(audit.c.at >= self.since)
        if self.until is not None:
            out.append(audit.c.at < self.until)
        return out


def page(conn: Connection, filters: Filters = Filters(), *, before_id: int | None = None,
         limit: int = PAGE_SIZE) -> list[Entry]:
    """The newest `limit` entries matching, older than `before_id` (the previous page's last): each filter is a
    range of one index walked newest first, so a page costs about `limit` rows however long the trail is."""
    where: Sequence[ColumnElement[bool]] = filters.where()
    if before_id is not None:
        where = [*where, audit.c.id < before_id]
    query = select(audit).where(*where).order_by(audit.c.id.desc())
    if limit:
        query = query.limit(limit)
    return [Entry(*row) for row in conn.execute(query)]
