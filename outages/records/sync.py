"""Apply a plan to the store in one transaction: records, submissions, events and the sync run.

A failure anywhere rolls the whole sync back, so the store is either before or after, never between; the
failed run is then recorded on its own and the next cycle tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from outages.db import bulk_insert
from outages.gcpause import collector_paused
from outages.places import index as address_index
from outages.places.addresses import parse_addresses
from outages.records.districts import index as index_districts
from outages.records.events import NewEvent, emit
from outages.records.fixes import mark_fixed
from outages.records.model import Action, Kind, SheetTable
from outages.records.parse import read_table
from outages.records.planner import PARKED, Decision, KnownRecord, KnownSubmission, LazyRecords, Plan, State, plan
from outages.records.state import State as RecordState
from outages.records.state import state_of
from outages.schema import events, records, submissions, sync_runs
from outages.settings import Settings
from outages.times import UTC


@dataclass
class SyncResult:
    plan: Plan
    counts: dict[str, int]
    event_ids: list[int]


def load_state(conn: Connection) -> State:
    state = State()
    # Every stored submission is read on every sync: plain SQL through the driver, the verdict as JSON text
    # (decoded only for the rows that need it) and no per-row conversion by SQLAlchemy, which cost more than the
    # rest together. The instant is converted here: text on SQLite, an aware datetime on PostgreSQL.
    for sid, key, digest, status, action, number, first, verdict, raw, row in conn.exec_driver_sql(
        "SELECT id, row_key, content_hash, status, action, record_number, first_recorded_at,"
        " CAST(verdict AS TEXT), raw_hash, row_number FROM submissions"
    ).all():  # all at once: row-by-row fetching costs more than the rows
        state.submissions[key] = KnownSubmission(sid, key, digest, status, action, number, first, verdict,
                                                 raw, row)

    known = select(records.c.number, records.c.executor, records.c.kind, records.c.status, records.c.event_at,
                   records.c.expected_end, records.c.first_recorded_at, records.c.deadline_met)

    # Called by the planner inside this connection's use, if at all.
    def load_records() -> dict[int, KnownRecord]:
        return {row.number: KnownRecord(*row) for row in conn.execute(known)}

    def load_record(number: int) -> KnownRecord | None:
        row = conn.execute(known.where(records.c.number == number)).first()
        return None if row is None else KnownRecord(*row)

    state.records = LazyRecords(load_records, load_record)
    state.next_number = (conn.execute(select(func.max(records.c.number))).scalar() or 0) + 1
    return state


def check(engine: Engine | None, table: SheetTable, settings: Settings, now: datetime | None = None) -> Plan:
    """What sync would decide at `now`, writing nothing (engine None: an empty store)."""
    headers = read_table(table, settings)
    if engine is None:
        return plan(table, headers, State(), settings, now)
    with engine.connect() as conn:
        return plan(table, headers, load_state(conn), settings, now)


def sync(engine: Engine, table: SheetTable, settings: Settings, now: datetime,
         after: Callable[[Connection, SyncResult], None] | None = None) -> SyncResult:
    """One sync of a table. `after` runs inside the same transaction (e.g. writing verdicts back)."""
    headers = read_table(table, settings)
    source = table.source
    with collector_paused(), engine.begin() as conn:
        lock_for_sync(conn)
        the_plan = plan(table, headers, load_state(conn), settings, now)
        # The plan holds all the sync needs of the sheet. A caller that handed the table over (a file export, a
        # published CSV: Batch.take_table) lets go of its rows here, before the writes build their own: 100 MiB
        # of a year's sheet. A source that writes verdicts back keeps its own reference.
        del table, headers
        event_ids = apply(conn, the_plan, now, settings)
        overdue_ids = flag_overdue(conn, now, settings)
        counts = the_plan.changes() | {"overdue": len(overdue_ids)}
        conn.execute(insert(sync_runs).values(
            source=source, started_at=now, finished_at=datetime.now(UTC), ok=True, counts=counts,
        ))
        result = SyncResult(plan=the_plan, counts=counts, event_ids=event_ids + overdue_ids)
        if after is not None:
            after(conn, result)
    return result


def record_failure(engine: Engine, source: str, started: datetime, error: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(sync_runs).values(
            source=source, started_at=started, finished_at=datetime.now(UTC), ok=False, counts={}, error=error,
        ))


def lock_for_sync(conn: Connection) -> None:
    # Two syncs at once would both number "the next" record: serialise them on the records table.
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE")
    else:
        conn.exec_driver_sql("UPDATE sync_runs SET id = id WHERE 0")  # takes SQLite's write lock now


def apply(conn: Connection, the_plan: Plan, now: datetime, settings: Settings, *, sheet: bool = True) -> list[int]:
    """Write the plan: records (inserted or changed in bulk), their events in row order, the submissions.
    `sheet` False: a phone report entered in the console (outages/console/actions.py), which has no sheet row to
    remember and no reporter to answer."""
    changes = [d for d in the_plan.decisions if d.change in ("new", "edit", "update", "resolve")]
    fresh = {d.record for d in changes if d.change == "new"}
    rows = _load_records(conn, {d.record for d in changes} - fresh)
    addresses_before = {n: row["addresses"] for n, row in rows.items()}
    updated = _numbers_with(conn, "updated", {d.record for d in changes if d.change == "edit"})
    new_events: list[NewEvent] = []
    for decision in changes:
        if decision.change == "new":
            rows[decision.record] = _record_values(decision)
            new_events.extend(_created(decision))
        else:
            new_events.extend(_change_record(rows[decision.record], decision, decision.record in updated))
            if decision.change == "update":
                updated.add(decision.record)
    # Later rows of the same sync may have changed a new record already: it is inserted as it ends up.
    ordered = sorted(fresh)
    for start in range(0, len(ordered), SAVE_CHUNK):  # in chunks, like the submissions below
        bulk_insert(conn, records, [rows[n] for n in ordered[start:start + SAVE_CHUNK]])
    changed = sorted(set(rows) - fresh)
    if changed:
        conn.execute(
            update(records).where(records.c.number == bindparam("n")),
            [{"n": n} | {k: v for k, v in rows[n].items() if k != "number"} for n in changed],
        )
    index_districts(conn, {n: rows[n]["districts"] for n in rows}, new=fresh)
    _index_addresses(conn, changes, rows, addresses_before, settings, fresh)
    # A first sync of a year's sheet holds all of these at once: let go of each as soon as it is written (the
    # parsed addresses are in the store now; the plan keeps the rest of each decision).
    del rows, addresses_before
    for decision in changes:
        decision.addresses = None
    ids = emit(conn, new_events, now, settings)
    del new_events
    if not sheet:
        return ids
    if any(d.change != "unchanged" for d in the_plan.decisions):
        from outages.officials.event_mail import (
            enqueue_verdicts,  # rejected rows make no event; their reporters hear here
        )
        from outages.officials.rejected_mail import enqueue_rejected

        enqueue_verdicts(conn, the_plan, settings, now)
        enqueue_rejected(conn, the_plan, settings, now)  # control chases rejected emergencies
    _save_submissions(conn, the_plan, now)
    mark_fixed(conn, the_plan, settings)  # a rejected emergency that a later row filed again waits no more
    return ids


def _index_addresses(conn: Connection, changes: list[Decision], rows: dict[int, dict[str, Any] | NewRecord],
                     before: dict[int, str], settings: Settings, fresh: set[int]) -> None:
    """Store the parsed «Адреси» of every record created here or whose addresses changed (search reads them)."""
    read = {d.submission.addresses: d.addresses for d in changes if d.addresses and d.submission}
    parsed = {}
    for number, row in rows.items():
        text = row["addresses"]
        if number in before and before[number] == text:
            continue
        if text not in read:
            read[text] = parse_addresses(text, settings.streets)
        parsed[number] = read[text]
    if parsed:
        address_index.write(conn, parsed, new=fresh)


def _load_records(conn: Connection, numbers: set[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    ordered = sorted(numbers)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        for row in conn.execute(select(records).where(records.c.number.in_(chunk))):
            found[row.number] = row._asdict()
    return found


def _numbers_with(conn: Connection, kind: str, numbers: set[int]) -> set[int]:
    if not numbers:
        return set()
    query = select(events.c.record_number).where(events.c.kind == kind, events.c.record_number.in_(sorted(numbers)))
    return set(conn.execute(query).scalars())


@dataclass(slots=True)
class NewRecord:
    """A record's row while the sync builds it, read and written like the dict a stored row is loaded as.

    Slots, not a dict: a first sync of a year's sheet holds 45k of them until they are inserted (832 bytes each
    as a dict of 23 keys, 216 as slots; 14 MiB less at the peak of a 100k-row first sync)."""
    number: int | None
    executor: str
    kind: str
    service: str
    districts: list[str]
    addresses: str
    summary: str
    cause: str
    impact: str
    event_at: datetime | None
    expected_end: datetime | None
    first_recorded_at: datetime | None
    last_changed_at: datetime | None
    status: str
    resolved_at: datetime | None
    deadline_met: bool
    delay_minutes: float | None
    lead_hours: float | None
    contact_name: str
    contact_phone: str
    reporter_email: str
    revision: int
    overdue_for: datetime | None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __iter__(self):  # noqa: ANN204  (the column names, as iterating a dict gives its keys)
        return iter(self.__slots__)

    def items(self):  # noqa: ANN201
        return ((key, getattr(self, key)) for key in self.__slots__)

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            setattr(self, key, value)


def _record_values(decision: Decision) -> NewRecord:
    sub = decision.submission
    assert sub is not None and decision.deadline is not None and sub.kind is not None
    return NewRecord(
        number=decision.record, executor=sub.executor, kind=sub.kind.value, service=sub.service,
        districts=list(sub.districts), addresses=sub.addresses, summary=sub.summary, cause=sub.cause,
        impact=sub.impact, event_at=sub.event_at, expected_end=sub.expected_end,
        first_recorded_at=sub.recorded_at, last_changed_at=sub.recorded_at, status="active",
        resolved_at=None, deadline_met=decision.deadline.met,
        delay_minutes=decision.deadline.delay_minutes, lead_hours=decision.deadline.lead_hours,
        contact_name=sub.contact_name, contact_phone=sub.contact_phone, reporter_email=sub.reporter_email,
        revision=1, overdue_for=None,
    )


def _created(decision: Decision) -> list[NewEvent]:
    sub = decision.submission
    assert sub is not None and sub.recorded_at is not None and decision.deadline is not None
    # A phone report (row 0: no sheet row) says so; a form record names its sheet row.
    made = [NewEvent(decision.record, "created", sub.recorded_at, 1,
                     {"row": decision.row} if decision.row else {"source": "phone"})]
    if not decision.deadline.met:
        made.append(NewEvent(decision.record, "breach", sub.recorded_at, 1, decision.deadline.as_json()))
    return made


_TEXT_FIELDS = ("summary", "cause", "impact", "addresses")


def _change_record(current: dict[str, Any] | NewRecord, decision: Decision, was_updated: bool) -> list[NewEvent]:
    """Apply an edit, update or resolution to the record's row (in place) and describe it as events."""
    sub = decision.submission
    assert sub is not None and decision.record is not None
    revision = current["revision"] + 1
    at = sub.recorded_at if decision.change == "edit" else _row_time(sub)
    values: dict[str, Any] = {"revision": revision, "last_changed_at": at}
    made: list[NewEvent] = []
    if decision.change == "edit":
        values.update(_record_values(decision).items())
        values.update(revision=revision, status=current["status"], resolved_at=current["resolved_at"],
                      overdue_for=current["overdue_for"], last_changed_at=at)
        del values["number"]
        if was_updated:
            # A later «Оновлення» row set the expected end; an edit of the first row does not undo it.
            values["expected_end"] = current["expected_end"]
        made.append(NewEvent(decision.record, "edited", at, revision,
                             {"row": decision.row, "changed": _diff(current, values)}))
        if current["deadline_met"] and not values["deadline_met"]:
            made.append(NewEvent(decision.record, "breach", at, revision, decision.deadline.as_json()))
    else:
        for name in _TEXT_FIELDS:
            # The record's summary stays the first one, what happened (the page's headline); an update's own
            # «Коротка інформація» is its entry in the timeline (data["text"]).
            if getattr(sub, name) and name != "summary":
                values[name] = getattr(sub, name)
        if sub.districts:
            values["districts"] = list(sub.districts)
        data: dict[str, Any] = {"row": decision.row}
        if sub.summary:
            data["text"] = sub.summary
        if sub.expected_end is not None and sub.action is Action.UPDATE:
            values["expected_end"] = sub.expected_end
            data["old_expected_end"] = _json(current["expected_end"])
            data["new_expected_end"] = _json(sub.expected_end)
        if decision.change == "resolve":
            values["status"] = "resolved"
            values["resolved_at"] = at
        data["changed"] = _diff(current, values)
        made.append(NewEvent(decision.record, "updated" if decision.change == "update" else "resolved", at,
                             revision, data))
    current.update(values)
    return made


def _diff(current: dict[str, Any] | NewRecord, values: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [_json(current[k]), _json(v)] for k, v in values.items() if k in _EDITABLE and current[k] != v}


_EDITABLE = ("executor", "service", "districts", "addresses", "summary", "cause", "impact", "event_at",
             "expected_end", "kind", "status", "deadline_met")


def _row_time(sub) -> datetime:  # noqa: ANN001
    # For a resolution the event time, when given, is when it was fixed; otherwise the moment of entry.
    if sub.action is Action.RESOLVE and sub.event_at is not None:
        return sub.event_at
    return sub.recorded_at


def _json(value: Any) -> Any:
    # Event data keeps instants in UTC; readers show them in the city's zone.
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def _save_submissions(conn: Connection, the_plan: Plan, now: datetime) -> None:
    # Rows are built and written a chunk at a time: a first sync of a year's sheet would otherwise hold 100k
    # parameter dicts (and their verdicts) at once.
    writes = []
    for d in the_plan.decisions:
        if d.change == "unchanged" and d.prior is not None:
            if d.prior.row_key == d.key and d.prior.raw_hash == d.raw_hash and d.prior.row_number == d.row:
                continue  # the common case of a re-sync: nothing to write, nothing to build
        writes.append(d)
    _park(conn, the_plan.gone)
    _park_taken_keys(conn, [{"row_key": d.key} | ({"sid": d.prior.id} if d.prior is not None else {})
                            for d in writes if d.key in the_plan.held_keys])
    stmt = update(submissions).where(submissions.c.id == bindparam("sid"))
    for start in range(0, len(writes), SAVE_CHUNK):
        inserts, updates, rekeys = [], [], []
        for d in writes[start:start + SAVE_CHUNK]:
            if d.prior is not None and d.change == "unchanged":
                # Moved, or the same content written differently (an export after the API): remember the cells
                # as they are now, so the next read of them is recognised without hashing.
                rekeys.append({"sid": d.prior.id, "row_key": d.key, "row_number": d.row,
                               "verdict": d.prior.decoded() | {"row": d.row}, "raw_hash": d.raw_hash})
                continue
            values = {
                "row_key": d.key, "row_number": d.row, "content_hash": d.content_hash, "status": d.status,
                "action": d.action._value_ if d.action else None, "record_number": d.record, "verdict": d.as_json(),
                "first_recorded_at": d.first_recorded_at, "last_seen_at": now, "raw_hash": d.raw_hash,
                "detail": rejected_detail(d),
            }
            if d.prior is None:
                inserts.append(values | {"source": the_plan.source, "first_seen_at": now})
            else:
                updates.append(values | {"sid": d.prior.id})
        if updates:
            conn.execute(stmt, updates)
        if rekeys:
            conn.execute(stmt, rekeys)
        if inserts:
            bulk_insert(conn, submissions, inserts)


SAVE_CHUNK = 5000
DETAIL_CHARS = 300  # of each text a rejected row keeps for the console: enough to know the row on the phone


def rejected_detail(d: Decision) -> dict[str, Any] | None:
    """What a rejected row said, for the console (private: the dispatcher's contact is here). An accepted row's
    data is its record's; a row rejected unparsed (a repeat of another) has nothing of its own."""
    sub = d.submission
    if d.status != "rejected" or sub is None:
        return None
    return {
        "executor": sub.executor[:DETAIL_CHARS], "kind": sub.kind._value_ if sub.kind else None,
        "service": sub.service[:DETAIL_CHARS], "districts": list(sub.districts),
        "addresses": sub.addresses[:DETAIL_CHARS], "summary": sub.summary[:DETAIL_CHARS],
        "recorded_at": _json(sub.recorded_at), "contact_name": sub.contact_name[:DETAIL_CHARS],
        "contact_phone": sub.contact_phone[:DETAIL_CHARS], "reporter_email": sub.reporter_email[:DETAIL_CHARS],
    }


def _park(conn: Connection, ids: list[int]) -> None:
    for sid in ids:
        conn.execute(update(submissions).where(submissions.c.id == sid)
                     .values(row_key=PARKED + str(sid) + ":" + submissions.c.row_key))


def _park_taken_keys(conn: Connection, writes: list[dict[str, Any]]) -> None:
    """Free the row keys about to be written: a submission still holding one (its row was deleted or moved)
    is parked under a key no sheet row can have, and found again by its content if the row comes back."""
    if not writes:
        return
    target = {v["sid"]: v["row_key"] for v in writes if "sid" in v}
    taken = [v["row_key"] for v in writes]
    for start in range(0, len(taken), 500):
        holders = conn.execute(select(submissions.c.id, submissions.c.row_key)
                               .where(submissions.c.row_key.in_(taken[start:start + 500]))).all()
        for sid, key in holders:
            if target.get(sid) != key:
                conn.execute(update(submissions).where(submissions.c.id == sid)
                             .values(row_key=f"{PARKED}{sid}:{key}"))


def flag_overdue(conn: Connection, now: datetime, settings: Settings) -> list[int]:
    """Once per expected end of an active record that has passed: an emergency becomes "overdue" (control and the
    utility are told and reminded), planned works have "ended" as planned (nobody is chased; the channel's post
    says so). outages.records.state computes the same from the clock; the event marks the moment for the
    channels that must change what they said."""
    due = conn.execute(select(records.c.number, records.c.kind, records.c.expected_end, records.c.overdue_for,
                              records.c.revision)
                       .where(records.c.status == "active", records.c.expected_end < now)).all()
    new = [row for row in due if row.overdue_for != row.expected_end
           and state_of(row.kind, "active", row.expected_end, now) in (RecordState.OVERDUE, RecordState.ENDED)]
    if new:
        conn.execute(update(records).where(records.c.number == bindparam("n")),
                     [{"n": row.number, "overdue_for": row.expected_end} for row in new])
    # Dated when the term passed, not when a sync noticed it (the worker may have been down for hours).
    return emit(conn, [NewEvent(row.number, "ended" if row.kind == Kind.PLANNED.value else "overdue",
                                row.expected_end, row.revision, {"expected_end": _json(row.expected_end)})
                       for row in new], now, settings)
