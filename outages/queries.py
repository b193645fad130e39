"""Reading records for people: the CLI, the web app and the feeds read through here, never raw tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from .record import Deadline, Kind
from .rules import is_overdue
from .schema import events, records


@dataclass(frozen=True)
class RecordView:
    """A record as the public may see it. Contact fields are kept apart (`contact`) and never serialised
    by `public_json`."""

    number: int
    kind: Kind
    status: str
    executor: str
    service: str
    districts: tuple[str, ...]
    addresses: str
    summary: str
    cause: str
    impact: str
    event_at: datetime
    expected_end: datetime | None
    first_recorded_at: datetime
    last_changed_at: datetime
    resolved_at: datetime | None
    deadline: Deadline
    revision: int
    overdue: bool
    contact: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def public_json(self, tz) -> dict[str, Any]:  # noqa: ANN001
        def iso(moment: datetime | None) -> str | None:
            return moment.astimezone(tz).isoformat() if moment else None

        return {
            "number": self.number, "kind": self.kind.value, "status": self.status, "overdue": self.overdue,
            "executor": self.executor, "service": self.service, "districts": list(self.districts),
            "addresses": self.addresses, "summary": self.summary, "cause": self.cause, "impact": self.impact,
            "event_at": iso(self.event_at), "expected_end": iso(self.expected_end),
            "recorded_at": iso(self.first_recorded_at), "updated_at": iso(self.last_changed_at),
            "resolved_at": iso(self.resolved_at), "deadline": self.deadline.as_json(), "revision": self.revision,
        }


def _view(row: Any, now: datetime) -> RecordView:
    return RecordView(
        number=row.number, kind=Kind(row.kind), status=row.status, executor=row.executor, service=row.service,
        districts=tuple(row.districts), addresses=row.addresses, summary=row.summary, cause=row.cause,
        impact=row.impact, event_at=row.event_at, expected_end=row.expected_end,
        first_recorded_at=row.first_recorded_at, last_changed_at=row.last_changed_at, resolved_at=row.resolved_at,
        deadline=Deadline(met=row.deadline_met, delay_minutes=row.delay_minutes, lead_hours=row.lead_hours),
        revision=row.revision, overdue=is_overdue(row.status, row.expected_end, now),
        contact={"name": row.contact_name, "phone": row.contact_phone, "email": row.reporter_email},
    )


def list_records(conn: Connection, now: datetime, *, active_only: bool = False,
                 since: datetime | None = None, until: datetime | None = None,
                 where: ColumnElement[bool] | None = None) -> list[RecordView]:
    query = select(records).order_by(records.c.number)
    if where is not None:  # e.g. a street search (outages.search.Filters.where)
        query = query.where(where)
    if active_only:
        query = query.where(records.c.status == "active")
    if since is not None:
        query = query.where(records.c.first_recorded_at >= since)
    if until is not None:
        query = query.where(records.c.first_recorded_at < until)
    return [_view(row, now) for row in conn.execute(query)]


def get_record(conn: Connection, number: int, now: datetime) -> RecordView | None:
    row = conn.execute(select(records).where(records.c.number == number)).first()
    return _view(row, now) if row else None


def records_by_number(conn: Connection, numbers: list[int], now: datetime) -> dict[int, RecordView]:
    found: dict[int, RecordView] = {}
    for start in range(0, len(numbers), 500):
        query = select(records).where(records.c.number.in_(numbers[start:start + 500]))
        found.update((row.number, _view(row, now)) for row in conn.execute(query))
    return found


@dataclass(frozen=True)
class EventView:
    id: int
    record_number: int
    kind: str
    at: datetime
    revision: int
    data: dict[str, Any]


def history(conn: Connection, number: int) -> list[EventView]:
    query = select(events).where(events.c.record_number == number).order_by(events.c.id)
    return [EventView(r.id, r.record_number, r.kind, r.at, r.revision, r.data) for r in conn.execute(query)]


def histories(conn: Connection, numbers: list[int], kinds: tuple[str, ...] | None = None) -> dict[int, list[EventView]]:
    """The history of many records in one query per 500 (feeds read hundreds at once); kinds filters event kinds."""
    out: dict[int, list[EventView]] = {number: [] for number in numbers}
    for start in range(0, len(numbers), 500):
        query = select(events).where(events.c.record_number.in_(numbers[start:start + 500])).order_by(events.c.id)
        if kinds is not None:
            query = query.where(events.c.kind.in_(kinds))
        for r in conn.execute(query):
            out[r.record_number].append(EventView(r.id, r.record_number, r.kind, r.at, r.revision, r.data))
    return out


def data_version(conn: Connection) -> int:
    """The id of the latest event. Every change of a record writes one, so this names the state of the data
    (the web cache and `publish` compare it)."""
    return conn.execute(select(func.max(events.c.id))).scalar() or 0
