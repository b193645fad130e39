"""Reports as the public reads them (seed 002's public page /reports, Open311's GET requests): only moderated
ones (`public`), never a name, e-mail, phone or chat. One page is one SQL slice (ix_reports_public), the same cost
with a year of reports stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from outages.reports.options import ReportOptions
from outages.reports.store import CLOSED, OPEN
from outages.schema import reports

PAGE = 50
MAX_PAGE = 1000


@dataclass(frozen=True)
class ReportView:
    id: int
    service_code: str
    service_name: str
    utility: str
    street: str
    address: str  # the street and house as the hub read them («вул. Соборна, 14»), not the words typed
    description: str
    status: str  # open | closed (Open311's two)
    note: str  # the words of the status (seed 002)
    record_number: int | None
    created_at: datetime
    updated_at: datetime
    districts: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "service_code": self.service_code, "service": self.service_name,
                "street": self.street, "address": self.address, "description": self.description,
                "status": self.status, "status_notes": self.note, "record": self.record_number,
                "agency_responsible": self.utility, "requested_datetime": self.created_at.isoformat(),
                "updated_datetime": self.updated_at.isoformat(), "districts": list(self.districts)}


def view(report: Any, options: ReportOptions) -> ReportView:
    service = options.service(report.service_code)
    place = report.street + (f", {report.house}{report.suffix}" if report.house is not None else "")
    return ReportView(
        id=report.id, service_code=report.service_code, service_name=service.name if service else "",
        utility=service.utility if service else "", street=report.street, address=place,
        # The resident's words only once a person has read them (moderate.py: checked_at).
        description=report.description if report.checked_at is not None else "",
        status=CLOSED if report.status == CLOSED else OPEN, note=report.note,
        record_number=report.record_number, created_at=report.created_at, updated_at=report.updated_at,
        districts=tuple(report.districts or ()))


@dataclass(frozen=True)
class Query:
    status: str = ""  # open | closed | "" (both)
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None  # requested on or after
    end: datetime | None = None  # requested before
    ids: tuple[int, ...] = ()
    record: int | None = None

    def where(self) -> list[Any]:
        c = reports.c
        where = [c.public.is_(True)]
        if self.status == OPEN:
            where.append(c.status == OPEN)
        elif self.status == CLOSED:
            where.append(c.status == CLOSED)
        else:
            where.append(c.status.in_((OPEN, CLOSED)))
        if self.service_codes:
            where.append(c.service_code.in_(self.service_codes))
        if self.start is not None:
            where.append(c.created_at >= self.start)
        if self.end is not None:
            where.append(c.created_at < self.end)
        if self.ids:
            where.append(c.id.in_(self.ids))
        if self.record is not None:
            where.append(c.record_number == self.record)
        return where


def page(conn: Connection, options: ReportOptions, query: Query = Query(), *, limit: int = PAGE,
         offset: int = 0) -> tuple[int, list[ReportView]]:
    """(how many match, one page of them, newest first)."""
    limit = max(1, min(limit, MAX_PAGE))
    where = query.where()
    total = int(conn.execute(select(func.count()).select_from(reports).where(*where)).scalar() or 0)
    rows = conn.execute(select(reports).where(*where).order_by(reports.c.id.desc()).limit(limit).offset(offset))
    return total, [view(r, options) for r in rows]


def one(conn: Connection, options: ReportOptions, report_id: int) -> ReportView | None:
    row = conn.execute(select(reports).where(reports.c.id == report_id, reports.c.public.is_(True),
                                             reports.c.status.in_((OPEN, CLOSED)))).first()
    return view(row, options) if row is not None else None


def attached_counts(conn: Connection, numbers: list[int]) -> dict[int, int]:
    """Record number → how many residents' reports follow it («ще 12 мешканців повідомили» on /ops)."""
    if not numbers:
        return {}
    rows = conn.execute(select(reports.c.record_number, func.count()).where(reports.c.record_number.in_(numbers))
                        .group_by(reports.c.record_number))
    return {number: count for number, count in rows}
