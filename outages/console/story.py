"""A record's whole story for the contact centre (issue 19): the record as it is now with its contact, the form rows
that made and changed it with their verdicts, its events, what people did to it, and every message about it with
its delivery. Data only: `outages record N` words it (outages/cli/console.py), the console's record page will too.

Each part is read as a range of one index for this record alone (ix_submissions_record, ix_events_record,
ix_audit_object, ix_outbox_record, ix_delivery_attempts_outbox, relay_confirmations' unique outbox_id), newest
first and capped, so a story costs the same in a store of 50,000 records with a 1,000,000-row audit as in a new
one. A busy record's thousands of messages to residents are counted per channel and status, never listed.

Private: the dispatcher's contact, officials' addresses, who confirmed a relay. Residents are only counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import ColumnElement, Connection, Table, and_, func, or_, select

from outages.console import audit as trail
from outages.records import verdict
from outages.records.model import Action, Deadline, Kind
from outages.records.planner import PARKED, Decision
from outages.records.views import RecordView, get_record
from outages.schema import audit, delivery_attempts, events, outbox, relay_confirmations, submissions
from outages.settings import Rules, Settings

LIMIT = 200  # of each part listed: form rows, events, people's actions
MESSAGES = 100  # officials' mails, channel posts and webhook calls listed, the newest
MAX_NUMBER = 2**31 - 1  # record numbers are 32-bit in the store: anything larger is no record

T = TypeVar("T")


@dataclass(frozen=True)
class Part(Generic[T]):
    """The newest `limit` of one part of the story, oldest first, and how many the store holds."""

    items: tuple[T, ...]
    total: int

    @property
    def more(self) -> int:
        """How many older ones were left out."""
        return self.total - len(self.items)


@dataclass(frozen=True)
class FormRow:
    """A row of the response sheet about this record, as the sync last decided it."""

    id: int
    source: str
    row: int  # the sheet row it was last read at
    status: str  # accepted | rejected
    action: str | None  # new | update | resolve; None when rejected unparsed
    verdict: str  # the words the dispatcher reads in «Статус обробки»
    recorded_at: datetime | None  # the form's stamp the deadline counted from
    first_seen_at: datetime
    last_seen_at: datetime
    in_sheet: bool  # False: the row has since been deleted from (or moved out of) the sheet


@dataclass(frozen=True)
class Event:
    """An event row as stored. Kinds are read as they come (created, edited, updated, resolved, breach, overdue,
    ended, and whatever later parts of the hub write: corrected, cancelled…); a reader words the ones it knows."""

    id: int
    kind: str
    at: datetime  # when it happened (an update's entry, the term that passed)
    created_at: datetime  # when the hub wrote it
    revision: int
    data: dict[str, Any]


@dataclass(frozen=True)
class Attempt:
    """One try to hand a message to its peer (SMTP server, Bot API, webhook)."""

    id: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    result: str  # sending | sent | deferred | failed | interrupted | lost
    answer: str | None
    error: str | None
    duration_ms: float | None


@dataclass(frozen=True)
class Confirmation:
    """Who confirmed relaying a message (the signed link «Інформацію передано»), and when."""

    recipient: str
    confirmed_at: datetime


@dataclass(frozen=True)
class Message:
    """An official's mail, a channel post or a webhook call about the record, with its delivery."""

    id: int
    channel: str  # email | telegram | webhook
    kind: str
    recipient: str
    recipient_name: str
    role: str
    subject: str
    status: str  # queued | sending | sent | failed
    attempts: int
    relay: bool  # the recipient is asked to confirm relaying it
    event_id: int | None
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    last_answer: str | None
    last_error: str | None
    relay_reminded_at: datetime | None
    relay_escalated_at: datetime | None
    tries: tuple[Attempt, ...] = ()
    confirmation: Confirmation | None = None


@dataclass(frozen=True)
class Tally:
    """Messages to residents (subscribers' mail and Telegram) of one channel in one status: counted, not listed."""

    channel: str
    status: str
    count: int
    first_at: datetime  # the first of them queued
    last_at: datetime  # the last of them queued, sent or given up on


@dataclass(frozen=True)
class Moment:
    """One line of the timeline: what happened at `at`, the item being one of the story's parts."""

    at: datetime
    what: str  # row | event | action | message | relay | residents
    item: FormRow | Event | trail.Entry | Message | Tally

    @property
    def kind(self) -> str:
        item = self.item
        if isinstance(item, FormRow):
            return item.status
        if isinstance(item, Event):
            return item.kind
        if isinstance(item, trail.Entry):
            return item.action
        if isinstance(item, Message):
            return "relay_confirmed" if self.what == "relay" else item.kind
        return f"{item.channel}:{item.status}"


# Same moment: the row before what it made, the messages after their event, people's actions last.
_ORDER = {"row": 0, "event": 1, "message": 2, "relay": 3, "residents": 4, "action": 5}


@dataclass(frozen=True)
class Story:
    record: RecordView  # with `contact` and the state at `now`
    now: datetime
    rows: Part[FormRow]
    events: Part[Event]
    actions: Part[trail.Entry]
    messages: Part[Message]  # everything but residents' messages, the newest MESSAGES
    residents: tuple[Tally, ...]  # residents' messages per channel and status

    @property
    def residents_total(self) -> int:
        return sum(t.count for t in self.residents)

    @property
    def timeline(self) -> list[Moment]:
        """Every listed item in time order (a message at its queuing, a relay at its confirmation)."""
        moments = [Moment(r.first_seen_at, "row", r) for r in self.rows.items]
        # An edit of a sheet row keeps the row's first time as its `at` (regulation 7.4.5): in the story it stands
        # where the hub read it, so an edit after an operator's correction is seen to come after it (and win).
        moments += [Moment(e.created_at if e.kind == "edited" else e.at, "event", e) for e in self.events.items]
        moments += [Moment(a.at, "action", a) for a in self.actions.items]
        moments += [Moment(m.created_at, "message", m) for m in self.messages.items]
        moments += [Moment(m.confirmation.confirmed_at, "relay", m) for m in self.messages.items if m.confirmation]
        moments += [Moment(t.first_at, "residents", t) for t in self.residents]
        return sorted(moments, key=lambda m: (m.at, _ORDER[m.what], getattr(m.item, "id", 0)))

    def as_json(self, tz) -> dict[str, Any]:  # noqa: ANN001
        def iso(moment: datetime | None) -> str | None:
            return moment.astimezone(tz).isoformat() if moment else None

        def part(found: Part[Any], each) -> dict[str, Any]:  # noqa: ANN001
            return {"total": found.total, "more": found.more, "items": [each(item) for item in found.items]}

        def message(m: Message) -> dict[str, Any]:
            return {
                "id": m.id, "channel": m.channel, "kind": m.kind, "recipient": m.recipient,
                "recipient_name": m.recipient_name, "role": m.role, "subject": m.subject, "status": m.status,
                "attempts": m.attempts, "relay": m.relay, "event": m.event_id, "created_at": iso(m.created_at),
                "sent_at": iso(m.sent_at), "failed_at": iso(m.failed_at), "answer": m.last_answer,
                "error": m.last_error, "relay_reminded_at": iso(m.relay_reminded_at),
                "relay_escalated_at": iso(m.relay_escalated_at),
                "relay_confirmed": {"by": m.confirmation.recipient, "at": iso(m.confirmation.confirmed_at)}
                if m.confirmation else None,
                "delivery_attempts": [{"id": a.id, "worker": a.worker, "started_at": iso(a.started_at),
                                       "finished_at": iso(a.finished_at), "result": a.result, "answer": a.answer,
                                       "error": a.error, "duration_ms": a.duration_ms} for a in m.tries],
            }

        return {
            "record": self.record.public_json(tz) | {"contact": dict(self.record.contact)},
            "now": iso(self.now),
            "rows": part(self.rows, lambda r: {
                "id": r.id, "source": r.source, "row": r.row, "status": r.status, "action": r.action,
                "verdict": r.verdict, "recorded_at": iso(r.recorded_at), "first_seen_at": iso(r.first_seen_at),
                "last_seen_at": iso(r.last_seen_at), "in_sheet": r.in_sheet}),
            "events": part(self.events, lambda e: {
                "id": e.id, "kind": e.kind, "at": iso(e.at), "created_at": iso(e.created_at),
                "revision": e.revision, "data": e.data}),
            "actions": part(self.actions, lambda a: a.as_json(tz)),
            "messages": part(self.messages, message),
            "residents": [{"channel": t.channel, "status": t.status, "count": t.count, "first_at": iso(t.first_at),
                           "last_at": iso(t.last_at)} for t in self.residents],
            "timeline": [{"at": iso(m.at), "what": m.what, "kind": m.kind, "id": getattr(m.item, "id", None)}
                         for m in self.timeline],
        }


def story(conn: Connection, number: int, now: datetime, settings: Settings, *, limit: int = LIMIT,
          messages: int = MESSAGES) -> Story | None:
    """The story of record `number` at `now` (None: no such record). About ten statements, each a range of an
    index for this record; `limit` caps form rows, events and actions, `messages` the messages listed."""
    if not 0 < number <= MAX_NUMBER:
        return None
    record = get_record(conn, number, now)
    if record is None:
        return None
    return Story(record=record, now=now, rows=_rows(conn, number, settings.rules, limit),
                 events=_events(conn, number, limit), actions=_actions(conn, number, limit),
                 messages=_messages(conn, number, messages), residents=_residents(conn, number))


def _newest(conn: Connection, table: Table, columns: Sequence[Any], where: Sequence[ColumnElement[bool]],
            limit: int) -> tuple[list[Any], int]:
    """(the newest `limit` rows matching by id, oldest first; how many match): the count is read only when the page
    is full. `where` names one record, a range of one index. Ordered by `id + 0`, which no index holds, so the store
    reads that range and sorts it: ordered by id, PostgreSQL may judge a busy record's rows common enough to walk
    the primary key backwards over every other record's rows instead (a whole audit trail for one story)."""
    rows = conn.execute(select(*columns).where(*where).order_by((table.c.id + 0).desc()).limit(limit)).all()
    total = len(rows)
    if total >= limit:
        total = int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar() or 0)
    return rows[::-1], total


def _rows(conn: Connection, number: int, rules: Rules, limit: int) -> Part[FormRow]:
    c = submissions.c
    found, total = _newest(conn, submissions, (c.id, c.source, c.row_number, c.status, c.action, c.verdict,
                                               c.first_recorded_at, c.first_seen_at, c.last_seen_at, c.row_key),
                           [c.record_number == number], limit)
    return Part(tuple(FormRow(r.id, r.source, r.row_number, r.status, r.action,
                              verdict_text(r.verdict or {}, r.row_number, r.status, rules), r.first_recorded_at,
                              r.first_seen_at, r.last_seen_at, not r.row_key.startswith(PARKED))
                      for r in found), total)


def verdict_text(stored: dict[str, Any], row: int, status: str, rules: Rules) -> str:
    """The verdict's words from what the store kept of it (outages/records/verdict.py: the same text the sheet
    shows); a verdict stored in a form this code no longer reads is said by its status alone."""
    try:
        deadline = stored.get("deadline")
        decision = Decision(
            row=row, key="", content_hash="", status=status, change="unchanged",
            kind=Kind(stored["kind"]) if stored.get("kind") else None,
            action=Action(stored["action"]) if stored.get("action") else None, record=stored.get("record"),
            deadline=Deadline(**deadline) if deadline else None, errors=list(stored.get("errors") or []),
            notes=list(stored.get("notes") or []))
    except (TypeError, ValueError):
        return "Прийнято" if status == "accepted" else "Відхилено"
    return verdict.text(decision, rules)


def _events(conn: Connection, number: int, limit: int) -> Part[Event]:
    c = events.c
    found, total = _newest(conn, events, (c.id, c.kind, c.at, c.created_at, c.revision, c.data),
                           [c.record_number == number], limit)
    return Part(tuple(Event(r.id, r.kind, r.at, r.created_at, r.revision, dict(r.data or {})) for r in found), total)


def _actions(conn: Connection, number: int, limit: int) -> Part[trail.Entry]:
    # The range "record:<n>" of ix_audit_object, read as the other parts are (audit.page orders by id alone).
    found, total = _newest(conn, audit, (audit,), trail.Filters(record=number).where(), limit)
    return Part(tuple(trail.Entry(*row) for row in found), total)


def _resident() -> ColumnElement[bool]:
    return or_(outbox.c.subscription_id.is_not(None), outbox.c.role == "subscriber")


def _messages(conn: Connection, number: int, limit: int) -> Part[Message]:
    c = outbox.c
    found, total = _newest(conn, outbox, (
        c.id, c.channel, c.kind, c.recipient, c.recipient_name, c.role, c.subject, c.status, c.attempts, c.relay,
        c.event_id, c.created_at, c.sent_at, c.failed_at, c.last_answer, c.last_error, c.relay_reminded_at,
        c.relay_escalated_at), [c.record_number == number, ~_resident()], limit)
    ids = [r.id for r in found]
    tries: dict[int, list[Attempt]] = {}
    confirmed: dict[int, Confirmation] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        a = delivery_attempts.c
        for row in conn.execute(select(a.id, a.outbox_id, a.worker, a.started_at, a.finished_at, a.result, a.answer,
                                       a.error, a.duration_ms).where(a.outbox_id.in_(chunk)).order_by(a.id)):
            tries.setdefault(row.outbox_id, []).append(Attempt(row.id, row.worker, row.started_at, row.finished_at,
                                                               row.result, row.answer, row.error, row.duration_ms))
        relays = [r.id for r in found[start:start + 500] if r.relay]
        if relays:
            rc = relay_confirmations.c
            for outbox_id, recipient, at in conn.execute(select(rc.outbox_id, rc.recipient, rc.confirmed_at)
                                                         .where(rc.outbox_id.in_(relays))):
                confirmed[outbox_id] = Confirmation(recipient, at)
    return Part(tuple(Message(**r._asdict(), tries=tuple(tries.get(r.id, ())), confirmation=confirmed.get(r.id))
                      for r in found), total)


STATUS_ORDER = ("sent", "failed", "queued", "sending")  # how residents' messages are counted out: what went first


def _residents(conn: Connection, number: int) -> tuple[Tally, ...]:
    c = outbox.c
    last = func.max(func.coalesce(c.sent_at, c.failed_at, c.created_at))
    rows = conn.execute(select(c.channel, c.status, func.count(), func.min(c.created_at), last)
                        .where(and_(c.record_number == number, _resident())).group_by(c.channel, c.status))
    tallies = [Tally(channel, status, int(count), first, latest) for channel, status, count, first, latest in rows]
    return tuple(sorted(tallies, key=lambda t: (t.channel, STATUS_ORDER.index(t.status) if t.status in STATUS_ORDER
                                                else len(STATUS_ORDER), t.status)))
