"""Residents' reports as the contact centre works them (/ops/reports, `outages reports list`): the moderation queue
in three slices — waiting for moderation (oldest first), forwarded and not yet taken by the utility (the nearest
deadline first), and the recently closed — each one SQL slice with its count, never the whole table.

Staff-only: every item carries the reporter's contact. What the public reads is outages/reports/public.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from outages.console import audit
from outages.places.addresses import AddressQuery
from outages.records.views import RecordView
from outages.reports import forget as contacts
from outages.reports.intake import covering_record
from outages.reports.moderate import report_object
from outages.reports.options import ReportOptions, Service, report_options
from outages.reports.store import CLOSED, OPEN, PENDING, REJECTED, get
from outages.schema import reports
from outages.settings import Settings

LIMIT = 25
MAX_LIMIT = 200
PARTS = ("pending", "open", "closed")
SOURCE_UK = {"web": "сайт", "bot": "бот", "open311": "Open311", "phone": "телефон"}
STATUS_UK = {PENDING: "чекає модерації", OPEN: "відкрите", CLOSED: "закрите", REJECTED: "відхилене"}


@dataclass(frozen=True)
class Item:
    report: Any  # the stored row: contacts included (the console's)
    service: Service | None
    hint: RecordView | None  # an active record of the service covering the house: perhaps the same matter

    @property
    def id(self) -> int:
        return int(self.report.id)

    @property
    def service_name(self) -> str:
        return self.service.name if self.service else self.report.service_code

    @property
    def sos(self) -> bool:
        return bool(self.service and self.service.sos)

    @property
    def place(self) -> str:
        """The street and house as the hub read them: «вул. Соборна, 14»."""
        r = self.report
        return r.street + (f", {r.house}{r.suffix}" if r.house is not None else "")

    @property
    def source_uk(self) -> str:
        return SOURCE_UK.get(self.report.source, self.report.source)

    @property
    def status_uk(self) -> str:
        return STATUS_UK.get(self.report.status, self.report.status)

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        r = self.report

        def at(moment: datetime | None) -> str | None:
            return moment.astimezone(tz).isoformat() if moment else None

        return {"id": r.id, "status": r.status, "note": r.note, "service_code": r.service_code,
                "service": self.service_name, "sos": self.sos, "source": r.source, "address": r.address,
                "place": self.place, "description": r.description, "record": r.record_number,
                "unmoderated": bool(r.unmoderated), "public": bool(r.public),
                "contact": {"name": r.name, "email": r.email, "phone": r.phone, "erased": r.erased_at is not None},
                "created_at": at(r.created_at), "forwarded_at": at(r.forwarded_at), "take_due_at": at(r.take_due_at),
                "taken_at": at(r.taken_at), "closed_at": at(r.closed_at),
                "maybe_record": self.hint.number if self.hint else None}


@dataclass(frozen=True)
class Part:
    name: str
    total: int
    items: list[Item]
    offset: int = 0


def _where(part: str) -> list[Any]:
    c = reports.c
    if part == "pending":
        return [c.status == PENDING]
    if part == "open":  # forwarded to the utility and not taken yet (a report a record took has no deadline)
        return [c.status == OPEN, c.taken_at.is_(None), c.forwarded_at.is_not(None)]
    return [c.status.in_((CLOSED, REJECTED))]


def _order(part: str) -> list[Any]:
    c = reports.c
    if part == "pending":
        return [c.id]  # oldest first: the longest wait is moderated first
    if part == "open":
        return [c.take_due_at, c.id]  # the nearest deadline first (past ones at the top)
    return [c.id.desc()]


def part(conn: Connection, settings: Settings, name: str, now: datetime, *, limit: int = LIMIT, offset: int = 0,
         hints: bool = True) -> Part:
    """One slice of the queue with its count. `hints`: look up the active record that may be the same matter
    (one indexed query per item shown, so a page of 25 costs 25 of them, whatever is stored)."""
    if name not in PARTS:
        raise ValueError(f"unknown part {name!r}")
    limit = max(1, min(limit, MAX_LIMIT))
    where = _where(name)
    total = int(conn.execute(select(func.count()).select_from(reports).where(*where)).scalar() or 0)
    rows = conn.execute(select(reports).where(*where).order_by(*_order(name)).limit(limit).offset(offset)).all()
    options = report_options(settings)
    return Part(name, total, [_item(conn, settings, options, r, now, hints and name != "closed") for r in rows],
                offset)


def of_record(conn: Connection, settings: Settings, number: int, *, limit: int = LIMIT, offset: int = 0) -> Part:
    """The reports that follow record `number` (ix_reports_record), newest first: who else reported it."""
    limit = max(1, min(limit, MAX_LIMIT))
    where = reports.c.record_number == number
    total = int(conn.execute(select(func.count()).select_from(reports).where(where)).scalar() or 0)
    rows = conn.execute(select(reports).where(where).order_by(reports.c.id.desc()).limit(limit).offset(offset)).all()
    options = report_options(settings)
    return Part("record", total, [Item(r, options.service(r.service_code), None) for r in rows], offset)


def listing(conn: Connection, settings: Settings, status: str, *, limit: int = LIMIT) -> list[Item]:
    """`outages reports list`: the newest `limit` reports of one status (every status when empty)."""
    query = select(reports)
    if status:
        query = query.where(reports.c.status == status)
    rows = conn.execute(query.order_by(reports.c.id.desc()).limit(max(1, min(limit, 10_000)))).all()
    options = report_options(settings)
    return [Item(r, options.service(r.service_code), None) for r in rows]


def one(conn: Connection, settings: Settings, report_id: int, now: datetime) -> Item | None:
    row = get(conn, report_id)
    if row is None:
        return None
    return _item(conn, settings, report_options(settings), row, now, row.status in (PENDING, OPEN))


def story(conn: Connection, report_id: int, limit: int = 200) -> list[audit.Entry]:
    """The report's audit trail, newest first: who moderated it, who took it, when contacts were erased."""
    return audit.page(conn, audit.Filters(object=report_object(report_id)), limit=limit)


def forget_contacts(conn: Connection, email: str, *, actor: str, now: datetime) -> int:
    """`outages reports forget EMAIL`: erase the address's contacts (outages/reports/forget.py) and write one audit
    row per report it held (its story then says so), or one row for the request when it held none. The address
    itself is in no audit row: the trail would keep what was just erased."""
    address = email.strip().lower()
    ids = conn.execute(select(reports.c.id).where(func.lower(reports.c.email) == address)
                       .order_by(reports.c.id)).scalars().all() if address else []
    erased = contacts.forget(conn, address, now)
    for report_id in ids:
        audit.write(conn, at=now, actor=actor, action="report_forget", object=report_object(report_id),
                    reason="контакти мешканця стерто на його запит")
    if not ids:
        audit.write(conn, at=now, actor=actor, action="report_forget", object="reports",
                    reason="запит на стирання: повідомлень із цією адресою немає")
    return erased


def take_words(report: Any, now: datetime, tz: ZoneInfo) -> tuple[str, bool]:
    """(«взяти до 14:30» or «строк минув о 14:30, 15 хв тому — не взято», whether it is overdue)."""
    due = report.take_due_at
    if due is None:
        return "", False
    local, today = due.astimezone(tz), now.astimezone(tz).date()
    clock = f"{local:%H:%M}" if local.date() == today else f"{local:%d.%m %H:%M}"
    if due > now:
        return f"взяти до {clock}", False
    late = _minutes(now - due)
    return f"СТРОК МИНУВ о {clock} ({late} тому) — не взято в роботу", True


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours} год {mins} хв" if hours else f"{mins} хв"


def _item(conn: Connection, settings: Settings, options: ReportOptions, row: Any, now: datetime,
          hint: bool) -> Item:
    service = options.service(row.service_code)
    found = None
    if hint and service is not None and row.street_key and row.record_number is None:
        query = AddressQuery(text=row.address, street_keys=(row.street_key,), streets=(row.street,),
                             house=row.house, suffix=row.suffix or "")
        found = covering_record(conn, settings, service, query, now)
    return Item(row, service, found)
