"""Decide what each row of a sheet means against what the store already knows — without writing anything.

`outages check` prints these decisions; `outages sync` applies them (outages/sync.py). One code path for both,
so check says exactly what sync would do.

Row identity: a row whose content (the timestamp aside, which Google rewrites on every edit) is already known is
the same submission, even if rows were sorted or deleted since; otherwise a row in a known position with new
content is an edit of the submission that was there; otherwise it is new.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from . import rules
from .addresses import ParsedAddresses, parse_addresses
from .parse import HeaderMap, content_hash, is_blank, parse_row
from .record import Action, Deadline, Kind, SheetTable, Submission
from .settings import Rules, Settings
from . import verdict


PARKED = "parked:"


@dataclass
class KnownSubmission:
    id: int
    row_key: str
    content_hash: str
    status: str
    action: str | None
    record_number: int | None
    first_recorded_at: datetime | None
    verdict: dict[str, Any]


@dataclass
class KnownRecord:
    number: int
    executor: str
    kind: str
    status: str
    event_at: datetime
    expected_end: datetime | None
    first_recorded_at: datetime
    deadline_met: bool


@dataclass
class State:
    """What the planner needs from the store (loaded by sync.load_state)."""

    submissions: dict[str, KnownSubmission] = field(default_factory=dict)  # by row_key
    records: dict[int, KnownRecord] = field(default_factory=dict)
    next_number: int = 1


@dataclass
class Decision:
    row: int
    key: str
    content_hash: str
    status: str  # accepted | rejected
    change: str  # new | edit | update | resolve | unchanged | rejected
    kind: Kind | None = None
    action: Action | None = None
    record: int | None = None
    deadline: Deadline | None = None
    errors: list[str] = field(default_factory=list)
    submission: Submission | None = None
    prior: KnownSubmission | None = None  # the stored submission this row is (None for a new row)
    first_recorded_at: datetime | None = None
    addresses: ParsedAddresses | None = None  # the row's «Адреси» as read, when it gives any
    notes: list[str] = field(default_factory=list)  # accepted, but worth the dispatcher's attention

    def as_json(self) -> dict[str, Any]:
        out = {
            "row": self.row,
            "status": self.status,
            "kind": self.kind.value if self.kind else None,
            "action": self.action.value if self.action else None,
            "record": self.record,
            "deadline": self.deadline.as_json() if self.deadline else None,
            "errors": list(self.errors),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @property
    def late(self) -> bool:
        return self.status == "accepted" and self.deadline is not None and not self.deadline.met


@dataclass
class Plan:
    source: str
    decisions: list[Decision]
    # Stored submissions no row matched: their rows were deleted or moved away. Sync parks their keys so a new
    # row later written at that position is not mistaken for an edit of them.
    gone: list[int] = field(default_factory=list)
    # Row keys stored submissions held when the plan was made: only these can be in the way of a write.
    held_keys: set[str] = field(default_factory=set)
    rules: Rules | None = None  # the deadlines the verdicts are stated against

    def verdict(self, decision: Decision) -> str:
        """The one verdict text of a row (outages/verdict.py): what the sheet, check and the reporter's mail show."""
        assert self.rules is not None, "plans are made by plan(), which sets the rules"
        return verdict.text(decision, self.rules)

    def summary(self) -> dict[str, int]:
        return {
            "accepted": sum(d.status == "accepted" for d in self.decisions),
            "rejected": sum(d.status == "rejected" for d in self.decisions),
            "late": sum(d.late for d in self.decisions),
        }

    def changes(self) -> dict[str, int]:
        counts = {"new": 0, "updated": 0, "resolved": 0, "rejected": 0, "late": 0, "unchanged": 0}
        for d in self.decisions:
            key = {"new": "new", "edit": "updated", "update": "updated", "resolve": "resolved"}.get(d.change, d.change)
            counts[key] += 1
            if d.change in ("new", "edit") and d.late:
                counts["late"] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {"rows": [d.as_json() | {"verdict": self.verdict(d)} for d in self.decisions], "summary": self.summary()}


def plan(table: SheetTable, headers: HeaderMap, state: State, settings: Settings) -> Plan:
    rows = [row for row in table.rows if not is_blank(row, headers)]
    hashes = [content_hash(row, headers) for row in rows]
    input_hashes = set(hashes)
    claimed: set[str] = set()  # row_keys of stored submissions already matched to a row
    match: list[KnownSubmission | None] = [None] * len(rows)
    by_hash: dict[str, list[KnownSubmission]] = {}
    for known in state.submissions.values():
        by_hash.setdefault(known.content_hash, []).append(known)

    # Pass 1: rows that are exactly where and what they were.
    for i, row in enumerate(rows):
        known = state.submissions.get(row.identity)
        if known is not None and known.content_hash == hashes[i]:
            match[i] = known
            claimed.add(known.row_key)
    # Pass 2: rows that moved (same content elsewhere), then edits in place.
    edited: list[bool] = [False] * len(rows)
    for i, row in enumerate(rows):
        if match[i] is not None:
            continue
        moved = next((k for k in by_hash.get(hashes[i], []) if k.row_key not in claimed), None)
        if moved is not None:
            match[i] = moved
        else:
            known = state.submissions.get(row.identity)
            if known is not None and known.row_key not in claimed and known.content_hash not in input_hashes:
                match[i], edited[i] = known, True
        if match[i] is not None:
            claimed.add(match[i].row_key)

    decisions: list[Decision] = []
    accepted_hashes: dict[str, Decision] = {}
    for i, row in enumerate(rows):
        known = match[i]
        if known is not None and not edited[i]:
            decision = _unchanged(row.number, row.identity, hashes[i], known)
        elif hashes[i] in accepted_hashes:
            first = accepted_hashes[hashes[i]]
            decision = Decision(
                row=row.number, key=row.identity, content_hash=hashes[i], status="rejected", change="rejected",
                kind=first.kind, action=first.action, prior=known,
                errors=[f"Повторне надсилання: такий самий запис уже є в рядку {first.row}"
                        + (f" (№{first.record})" if first.record else "") + " — цей рядок не враховано"],
            )
        else:
            sub = parse_row(row, headers, settings)
            decision = _decide(sub, hashes[i], known, state, settings)
        if decision.status == "accepted":
            accepted_hashes.setdefault(hashes[i], decision)
        decisions.append(decision)
    gone = [k.id for k in state.submissions.values() if k.row_key not in claimed and not k.row_key.startswith(PARKED)]
    return Plan(source=table.source, decisions=decisions, gone=gone, held_keys=set(state.submissions),
                rules=settings.rules)


def _unchanged(number: int, key: str, digest: str, known: KnownSubmission) -> Decision:
    verdict = known.verdict
    deadline = verdict.get("deadline")
    return Decision(
        row=number, key=key, content_hash=digest, status=verdict["status"], change="unchanged",
        kind=Kind(verdict["kind"]) if verdict.get("kind") else None,
        action=Action(verdict["action"]) if verdict.get("action") else None,
        record=verdict.get("record"),
        deadline=Deadline(**deadline) if deadline else None,
        errors=list(verdict.get("errors", [])), prior=known, first_recorded_at=known.first_recorded_at,
        notes=list(verdict.get("notes", [])),
    )


def _decide(sub: Submission, digest: str, known: KnownSubmission | None, state: State,
            settings: Settings) -> Decision:
    # The first time a row was seen is its recorded time, whatever Google's timestamp says after an edit.
    first = known.first_recorded_at if known and known.first_recorded_at else sub.recorded_at
    if first is not None:
        sub.recorded_at = first
    decision = Decision(row=sub.row, key=sub.key, content_hash=digest, status="rejected", change="rejected",
                        kind=sub.kind, action=sub.action, submission=sub, prior=known, first_recorded_at=first)
    errors = list(sub.errors) + rules.problems(sub, settings.rules)
    if (sub.action in (Action.UPDATE, Action.RESOLVE) and sub.reference is None and "reference" not in sub.invalid
            and sub.executor and "executor" not in sub.invalid):
        errors.append(_open_records(sub.executor, state))  # the number the dispatcher forgot is likely among these
    if not errors:
        if sub.action is Action.NEW:
            errors = _new(decision, sub, known, state, settings)
        else:
            errors = _follow_up(decision, sub, known, state)
    if errors:
        decision.status, decision.change, decision.errors = "rejected", "rejected", errors
        decision.deadline = None
        if known is not None and known.action == Action.NEW and known.record_number is not None:
            # A broken edit leaves the record as it was; say so, and keep the link for the next edit.
            decision.record = known.record_number
            decision.errors.append(f"Запис №{known.record_number} залишено без змін")
    elif sub.addresses:
        decision.addresses = parse_addresses(sub.addresses, settings.streets)
        if settings.streets:  # a city without a catalogue would get this note on every row
            decision.notes = [f"вулицю «{name}» не знайдено в довіднику міста"
                              for name in decision.addresses.unknown_streets]
    return decision


def _new(decision: Decision, sub: Submission, known: KnownSubmission | None, state: State,
         settings: Settings) -> list[str]:
    assert sub.kind and sub.event_at and sub.recorded_at
    if known is not None and known.record_number is not None:
        if known.action != Action.NEW:
            return ["Рядок уже прийнято як оновлення: щоб повідомити про нову подію, надішліть нову форму"]
        number, change = known.record_number, "edit"
    else:
        number, change = state.next_number, "new"
        state.next_number += 1
    decision.status, decision.change, decision.record = "accepted", change, number
    decision.deadline = rules.deadline(sub.kind, sub.recorded_at, sub.event_at, settings.rules)
    previous = state.records.get(number)
    state.records[number] = KnownRecord(
        number=number, executor=sub.executor, kind=sub.kind.value,
        status=previous.status if previous else "active", event_at=sub.event_at, expected_end=sub.expected_end,
        first_recorded_at=sub.recorded_at, deadline_met=decision.deadline.met,
    )
    return []


def _open_records(executor: str, state: State) -> str:
    numbers = sorted(n for n, r in state.records.items() if r.executor == executor and r.status != "resolved")
    return verdict.open_records(executor, numbers)


def _follow_up(decision: Decision, sub: Submission, known: KnownSubmission | None, state: State) -> list[str]:
    number = sub.reference
    assert number is not None and sub.action is not None
    record = state.records.get(number)
    if record is None:
        if sub.executor:
            return [f"Повідомлення №{number} не знайдено — {_open_records(sub.executor, state)}"]
        return [f"Повідомлення №{number} не знайдено: перевірте номер, який хаб присвоїв новому повідомленню"]
    if sub.executor and sub.executor != record.executor:
        return [f"Повідомлення №{number} подав інший виконавець ({record.executor}): перевірте номер"
                f" — {_open_records(sub.executor, state)}"]
    resolved_by_this_row = known is not None and known.record_number == number and known.action == Action.RESOLVE
    if record.status == "resolved" and not resolved_by_this_row:
        return [f"Повідомлення №{number} уже закрито як ліквідоване — про нову подію надішліть нове повідомлення"]
    errors = rules.update_problems(sub, record.event_at)
    if errors:
        return errors
    decision.status, decision.record = "accepted", number
    decision.change = "update" if sub.action is Action.UPDATE else "resolve"
    decision.kind = Kind(record.kind)
    changed = replace(record)
    if sub.expected_end is not None and sub.action is Action.UPDATE:
        changed.expected_end = sub.expected_end
    if sub.action is Action.RESOLVE:
        changed.status = "resolved"
    state.records[number] = changed
    return []
