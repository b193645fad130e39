"""The report row and its words: statuses, the public wording of each (pinned by seed 002), and reading and writing
one report. Everything else in outages/reports/ goes through here."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, select, update

from outages.schema import reports

PENDING, OPEN, CLOSED, REJECTED = "pending", "open", "closed", "rejected"
STATUSES = (PENDING, OPEN, CLOSED, REJECTED)
# Seed 002's answers, word for word.
TAKEN = "Повідомлення взято до розгляду"
DONE = "Роботу виконано"
EXPLAINED = "Роз'яснення надано"
SOURCES = ("web", "bot", "open311", "phone")
DESCRIPTION_MAX = 4000  # Open311's limit, for every door
CONTACTS = ("email", "name", "phone", "chat_id", "client")


def new_token() -> str:
    return secrets.token_urlsafe(18)


def taken_words(record_number: int | None) -> str:
    return f"{TAKEN}: №{record_number}" if record_number else TAKEN


def sign_id(secret: str, salt: str, report_id: int) -> str:
    """A link's token naming one report, signed with the hub's secret key (one salt per purpose)."""
    return URLSafeSerializer(secret, salt=salt).dumps([report_id])


def signed_id(secret: str, salt: str, token: str) -> int | None:
    """The report a token of `sign_id` names; None for a forged or foreign one, or without a secret key."""
    if not secret:
        return None
    try:
        value = URLSafeSerializer(secret, salt=salt).loads(token)
    except BadSignature:
        return None
    ok = isinstance(value, list) and len(value) == 1 and isinstance(value[0], int) and not isinstance(value[0], bool)
    return value[0] if ok else None


def get(conn: Connection, report_id: int) -> Any:
    return conn.execute(select(reports).where(reports.c.id == report_id)).first()


def by_token(conn: Connection, token: str) -> Any:
    return conn.execute(select(reports).where(reports.c.token == token)).first()


def change(conn: Connection, report_id: int, now: datetime, **values: Any) -> Any:
    """Write these columns of one report (and its `updated_at`); the report as it now is."""
    conn.execute(update(reports).where(reports.c.id == report_id).values(updated_at=now, **values))
    return get(conn, report_id)


# Never written to the audit trail: its rows cannot be changed, so a contact there could never be erased (4.4;
# forget.py). The trail says whether there was one.
UNAUDITED = (*CONTACTS, "token")


def as_json(report: Any) -> dict[str, Any]:
    """The row for the audit trail's before/after: everything but the contacts and the token."""
    out: dict[str, Any] = {}
    for key, value in report._mapping.items():
        if key in UNAUDITED:
            if key in ("email", "phone", "chat_id"):
                out[f"has_{key}"] = bool(value)
            continue
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out
