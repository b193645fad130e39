"""Reading records for people: the CLI, the web app and the feeds read through here, never raw tables."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from sqlalchemy import ColumnElement, Connection, Result, Row, and_, func, or_, select

from outages.display import any_long, current_cap, shorten, shorten_all
from outages.records.model import Deadline, Kind
from outages.records.state import State, ended, live, state_of
from outages.schema import events, records


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
    # The one computed state (outages.records.state) at the clock the view was read with.
    state: State
    contact: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # A text field was cut to the display cap (outages.display); the store keeps the full text.
    shortened: bool = field(default=False, compare=False)
    # "form" (the response sheet) or "phone" (the contact centre, 7.8); the operator's public reason for a
    # cancellation or a resolution entered in the console. (Who called is private: in `contact`.)
    source: str = "form"
    status_reason: str = ""

    @property
    def overdue(self) -> bool:
        return self.state is State.OVERDUE

    @property
    def live(self) -> bool:
        return self.state.is_live

    def public_json(self, tz) -> dict[str, Any]:  # noqa: ANN001
        def iso(moment: datetime | None) -> str | None:
            return moment.astimezone(tz).isoformat() if moment else None

        return {
            "number": self.number, "kind": self.kind.value, "status": self.status, "state": self.state.value,
            "overdue": self.overdue,
            "executor": self.executor, "service": self.service, "districts": list(self.districts),
            "addresses": self.addresses, "summary": self.summary, "cause": self.cause, "impact": self.impact,
            "event_at": iso(self.event_at), "expected_end": iso(self.expected_end),
            "recorded_at": iso(self.first_recorded_at), "updated_at": iso(self.last_changed_at),
            "resolved_at": iso(self.resolved_at), "deadline": self.deadline.as_json(), "revision": self.revision,
            "source": self.source, "status_reason": self.status_reason,
        }


def restate(view: RecordView, now: datetime) -> RecordView:
    """The view with its state recomputed at `now` (a past state rebuilt by history.py, at its event's time)."""
    state = state_of(view.kind, view.status, view.expected_end, now)
    return view if state is view.state else replace(view, state=state)


def _view(row: Mapping[str, Any], now: datetime) -> RecordView:
    # Public output (a web request, outages.display.capped) shows at most the display cap of each text field.
    cap = current_cap()
    texts = (row["addresses"], row["summary"], row["cause"], row["impact"])
    addresses, summary, cause, impact = (shorten(text, cap) for text in texts)
    expected_end = row["expected_end"]
    return RecordView(
        number=row["number"], kind=Kind(row["kind"]), status=row["status"], executor=row["executor"],
        service=row["service"], districts=tuple(row["districts"]), addresses=addresses, summary=summary, cause=cause,
        impact=impact, shortened=any_long(texts, cap), event_at=row["event_at"], expected_end=expected_end,
        first_recorded_at=row["first_recorded_at"], last_changed_at=row["last_changed_at"],
        resolved_at=row["resolved_at"],
        deadline=Deadline(met=row["deadline_met"], delay_minutes=row["delay_minutes"], lead_hours=row["lead_hours"]),
        revision=row["revision"], state=state_of(row["kind"], row["status"], expected_end, now),
        contact={"name": row["contact_name"], "phone": row["contact_phone"], "email": row["reporter_email"],
                 "caller": row.get("caller", "")},
        source=row.get("source", "form"), status_reason=row.get("status_reason", ""),
    )


def _views(result: Result, now: datetime, rows: Sequence[Row] | None = None) -> list[RecordView]:
    """The records of a `select(records)` result (or of `rows` read with the same columns) as RecordViews. Each row
    becomes a dict once: a Row's attribute access costs a microsecond, and a view reads 24 of them (a feed, 200
    views, spent 5 ms on that alone)."""
    keys = tuple(result.keys())
    return [_view(dict(zip(keys, row)), now) for row in (result.all() if rows is None else rows)]


def list_records(conn: Connection, now: datetime, *, active_only: bool = False,
                 since: datetime | None = None, until: datetime | None = None,
                 where: ColumnElement[bool] | None = None) -> list[RecordView]:
    query = select(records).order_by(records.c.number)
    if where is not None:  # e.g. a street search (outages.places.search.Filters.where)
        query = query.where(where)
    if active_only:  # what is (or will be) off: not planned works past their stated end
        query = query.where(live(records.c, now))
    if since is not None:
        query = query.where(records.c.first_recorded_at >= since)
    if until is not None:
        query = query.where(records.c.first_recorded_at < until)
    return _views(conn.execute(query), now)


def get_record(conn: Connection, number: int, now: datetime) -> RecordView | None:
    views = _views(conn.execute(select(records).where(records.c.number == number)), now)
    return views[0] if views else None


def records_by_number(conn: Connection, numbers: list[int], now: datetime) -> dict[int, RecordView]:
    found: dict[int, RecordView] = {}
    for start in range(0, len(numbers), 500):
        query = select(records).where(records.c.number.in_(numbers[start:start + 500]))
        found.update((view.number, view) for view in _views(conn.execute(query), now))
    return found


@dataclass(frozen=True)
class EventView:
    id: int
    record_number: int
    kind: str
    at: datetime
    revision: int
    data: dict[str, Any]
    shortened: bool = field(default=False, compare=False)


# What an EventView holds, in its order: `created_at` (when the hub wrote the event) is not read back for it.
_EVENT_COLUMNS = (events.c.id, events.c.record_number, events.c.kind, events.c.at, events.c.revision, events.c.data)


def _events(result: Result) -> list[EventView]:
    # Update texts and changed fields, shortened like the record's own (see _view).
    cap = current_cap()
    return [EventView(id_, number, kind, at, revision, shorten_all(data, cap), any_long(data, cap))
            for id_, number, kind, at, revision, data in result]


def history(conn: Connection, number: int) -> list[EventView]:
    query = select(*_EVENT_COLUMNS).where(events.c.record_number == number).order_by(events.c.id)
    return _events(conn.execute(query))


def histories(conn: Connection, numbers: list[int], kinds: tuple[str, ...] | None = None) -> dict[int, list[EventView]]:
    """The history of many records in one query per 500 (feeds read hundreds at once); kinds filters event kinds."""
    out: dict[int, list[EventView]] = {number: [] for number in numbers}
    for start in range(0, len(numbers), 500):
        query = (select(*_EVENT_COLUMNS).where(events.c.record_number.in_(numbers[start:start + 500]))
                 .order_by(events.c.id))
        if kinds is not None:
            query = query.where(events.c.kind.in_(kinds))
        for event in _events(conn.execute(query)):
            out[event.record_number].append(event)
    return out


def data_version(conn: Connection) -> int:
    """The id of the latest event. Every change of a record writes one, so this names the state of the data
    (the web cache and `publish` compare it)."""
    return conn.execute(select(func.max(events.c.id))).scalar() or 0


def record_numbers(conn: Connection, where: Sequence[ColumnElement] = ()) -> list[int]:
    return list(conn.execute(select(records.c.number).where(*where).order_by(records.c.number)).scalars())


def record_numbers_after(conn: Connection, after: int, limit: int) -> list[int]:
    """The next `limit` record numbers above `after`: the store read a slice at a time (publishing walks every
    record's pages without holding 50,000 numbers or one long read open)."""
    query = select(records.c.number).where(records.c.number > after).order_by(records.c.number).limit(limit)
    return list(conn.execute(query).scalars())


def changed_since(conn: Connection, version: int) -> set[int]:
    """The records with an event after data version `version`: what changed since a page was made from it."""
    return set(conn.execute(select(events.c.record_number).where(events.c.id > version).distinct()).scalars())


def moved_with_clock(conn: Connection, since: datetime, now: datetime) -> set[int]:
    """The records whose state the clock alone changed between `since` and `now`: still reported active, and their
    stated end passed in between (outages.records.state.state_of: active → overdue or ended). No other part of a
    record's own page, JSON or CAP message reads the clock."""
    c = records.c
    return set(conn.execute(select(c.number).where(c.status == "active", c.expected_end >= since,
                                                   c.expected_end < now)).scalars())


def section_members(conn: Connection, now: datetime, name: str,
                    where: Sequence[ColumnElement] = ()) -> list[tuple[int, str]]:
    """(number, state) of every record in a section, in its list order: what its paged lists show, without the
    records themselves (publishing compares it with what the last release showed)."""
    condition, order = section_where(name, now)
    c = records.c
    rows = conn.execute(select(c.number, c.kind, c.status, c.expected_end).where(condition, *where).order_by(*order))
    return [(number, state_of(kind, status, end, now).value) for number, kind, status, end in rows]


def data_state(conn: Connection) -> tuple[int, datetime | None]:
    """(data version, when the data last changed) in one query: what the web cache keys and dates answers by.
    Each maximum is its own subquery: SQLite answers a lone max() from the index's end, but two aggregates in one
    select scan the whole events table (25 ms at 95,000 events, read by every worker every second)."""
    row = conn.execute(select(select(func.max(events.c.id)).scalar_subquery(),
                              select(func.max(events.c.created_at)).scalar_subquery())).one()
    return int(row[0] or 0), row[1]


def last_change(conn: Connection) -> datetime | None:
    """The newest `last_changed_at` of any record (ix_records_last_changed): the API's `updated_at`, and a feed's
    date when nothing matches its filters."""
    return conn.execute(select(func.max(records.c.last_changed_at))).scalar()


def data_changed_at(conn: Connection) -> datetime | None:
    """When the hub last wrote a change (the newest event's `created_at`): «Дані оновлено» on every page. It comes
    from the data, so every worker shows the same time and the same data gives the same bytes."""
    return conn.execute(select(func.max(events.c.created_at))).scalar()


# ---- The public lists: sections of `/`, read as SQL slices (never every record). ----

SECTIONS = ("emergencies", "ongoing", "upcoming", "fixed")
UPCOMING_DAYS = 14
FIXED_HOURS = 24


def section_where(name: str, now: datetime) -> tuple[ColumnElement, tuple]:
    """(condition, order) of one section of `/`: active emergencies (newest first), planned works under way
    (ending soonest first), planned works starting within 14 days (soonest first), fixed in the last 24 hours
    (latest first)."""
    c = records.c
    active = c.status == "active"
    if name == "emergencies":
        return and_(active, c.kind == "emergency"), (c.event_at.desc(), c.number.desc())
    if name == "ongoing":
        return (and_(live(c, now), c.kind == "planned", c.event_at <= now),
                (func.coalesce(c.expected_end, c.event_at), c.number))
    if name == "upcoming":
        return (and_(active, c.kind == "planned", c.event_at > now, c.event_at <= now + timedelta(days=UPCOMING_DAYS)),
                (c.event_at, c.number))
    if name == "fixed":  # resolved, or planned works that ended as planned, in the last 24 hours
        since = now - timedelta(hours=FIXED_HOURS)
        return (or_(and_(c.status == "resolved", c.resolved_at >= since, c.resolved_at <= now),
                    and_(ended(c, now), c.expected_end >= since)),
                (func.coalesce(c.resolved_at, c.expected_end).desc(), c.number.desc()))
    raise ValueError(name)


def section_counts(conn: Connection, now: datetime, where: Sequence[ColumnElement] = ()) -> dict[str, int]:
    """How many records each section holds: one COUNT per section, each a range of an index (ix_records_list_*),
    never a scan of every record the store has kept."""
    return {name: int(conn.execute(select(func.count()).select_from(records)
                                   .where(section_where(name, now)[0], *where)).scalar() or 0)
            for name in SECTIONS}


def section_page(conn: Connection, now: datetime, name: str, where: Sequence[ColumnElement] = (), *,
                 limit: int, offset: int = 0) -> list[RecordView]:
    condition, order = section_where(name, now)
    query = select(records).where(condition, *where).order_by(*order).limit(limit).offset(offset)
    return _views(conn.execute(query), now)


def planned_between(conn: Connection, start: datetime, end: datetime, where: Sequence[ColumnElement] = ()) -> int:
    """Active planned works under way at some moment in [start, end)."""
    c = records.c
    query = select(func.count()).select_from(records).where(
        c.status == "active", c.kind == "planned", c.event_at < end,
        (c.expected_end.is_(None)) | (c.expected_end > start), *where)
    return int(conn.execute(query).scalar() or 0)


def planned_works(conn: Connection, now: datetime, since: datetime, where: Sequence[ColumnElement] = (), *,
                  limit: int) -> list[RecordView]:
    """The calendar's slice, soonest first: active planned works (soonest first, up to `limit`), then, room
    left, those finished that started since `since` (latest first). Cancelled works leave the calendar: a
    subscribed calendar drops an event the feed no longer has."""
    c = records.c
    result = conn.execute(select(records).where(live(c, now), c.kind == "planned", *where)
                          .order_by(c.event_at, c.number).limit(limit))
    active = result.all()
    over = or_(c.status == "resolved", ended(c, now))  # resolved, or ended as planned
    past = conn.execute(select(records).where(over, c.kind == "planned", c.event_at >= since, *where)
                        .order_by(c.event_at.desc(), c.number.desc()).limit(max(0, limit - len(active)))).all()
    chosen = sorted(active + past, key=lambda row: (row.event_at, row.number))
    return _views(result, now, chosen)


def page_records(conn: Connection, now: datetime, where: Sequence[ColumnElement] = (), *, status: str | None = None,
                 kind: str | None = None, limit: int | None, offset: int = 0) -> tuple[int, list[RecordView]]:
    """(how many match, one page of them, newest record number first; `limit` None: all of them): the API's
    list."""
    where = [*where, *([records.c.status == status] if status else []), *([records.c.kind == kind] if kind else [])]
    total = int(conn.execute(select(func.count()).select_from(records).where(*where)).scalar() or 0)
    query = select(records).where(*where).order_by(records.c.number.desc()).limit(limit).offset(offset)
    return total, _views(conn.execute(query), now)


def recently_changed(conn: Connection, now: datetime, kinds: tuple[str, ...], limit: int,
                     where: Sequence[ColumnElement] = ()) -> list[RecordView]:
    """The records (matching `where`) of the newest `limit` events of these kinds, newest first: what a feed of
    the newest changes needs. The events are walked newest first along ix_events_at, so this reads about `limit`
    rows whatever the store holds."""
    newest = (select(events.c.record_number)
              .join(records, records.c.number == events.c.record_number)
              .where(events.c.kind.in_(kinds), *where)
              .order_by(events.c.at.desc(), events.c.id.desc()).limit(limit))
    numbers = list(dict.fromkeys(conn.execute(newest).scalars()))
    found = records_by_number(conn, numbers, now)
    return [found[n] for n in numbers if n in found]
