"""Decide what each row of a sheet means against what the store already knows — without writing anything.

`outages check` prints these decisions; `outages sync` applies them (outages/records/sync.py). One code path for both,
so check says exactly what sync would do.

Row identity: a row whose content (the timestamp aside, which Google rewrites on every edit) is already known is
the same submission, even if rows were sorted or deleted since; otherwise a row in a known position with new
content is an edit of the submission that was there; otherwise it is new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable

from outages.places.addresses import ParsedAddresses, parse_addresses
from outages.records import rules, verdict
from outages.records.model import Action, Deadline, Kind, SheetRow, SheetTable, Submission
from outages.records.parse import HeaderMap, content_hash, is_blank, parse_row, raw_fingerprint
from outages.settings import Rules, Settings
from outages.times import UTC, stored_utc

PARKED = "parked:"


@dataclass(slots=True)  # one per stored submission, read on every sync
class KnownSubmission:
    id: int
    row_key: str
    content_hash: str
    status: str
    action: str | None
    record_number: int | None
    first_recorded_at: datetime | str | None  # as the store gave it (SQLite: text); read it with first_recorded()
    verdict: dict[str, Any] | str  # as the store gave it: JSON text is decoded only when read (`decoded`)
    raw_hash: str | None = None  # raw_fingerprint of the row when it was last read (None: stored before they were kept)
    row_number: int | None = None  # the sheet row it was last seen in (also the verdict's "row")

    def first_recorded(self) -> datetime | None:
        """The first time the row was seen, an aware UTC instant (converted on first use: an unchanged re-sync of a
        year's sheet needs few of them)."""
        value = self.first_recorded_at
        if value is not None and not (isinstance(value, datetime) and value.tzinfo is UTC):
            value = self.first_recorded_at = stored_utc(value)
        return value

    def decoded(self) -> dict[str, Any]:
        """The stored verdict as data (an unchanged re-sync of a year's sheet decodes few of them, if any)."""
        if isinstance(self.verdict, str):
            self.verdict = json.loads(self.verdict)
        return self.verdict


@dataclass(slots=True)  # the planner may hold every record of the store
class KnownRecord:
    number: int
    executor: str
    kind: str
    status: str
    event_at: datetime
    expected_end: datetime | None
    first_recorded_at: datetime
    deadline_met: bool


class LazyRecords(dict):
    """The store's records, read when needed: a sync where no row changed never reads them, and a push that adds
    a row or two reads only the records those rows name (`load_one`); whatever lists them all (a verdict naming
    a utility's open records, or many rows naming many records) reads them all at once (`load`).
    Records the planner sets (created or changed by earlier rows of this sheet) win over the stored ones."""

    ONE_BY_ONE = 64  # beyond this many single reads, one read of everything is cheaper

    def __init__(self, load: Callable[[], dict[int, KnownRecord]],
                 load_one: Callable[[int], KnownRecord | None] | None = None) -> None:
        super().__init__()
        self._load: Callable[[], dict[int, KnownRecord]] | None = load
        self._load_one = load_one
        self._absent: set[int] = set()  # numbers read one by one and not stored
        self._reads = 0

    def _fill(self) -> None:
        if self._load is not None:
            load, self._load = self._load, None
            stored = load()
            stored.update(dict(super().items()))  # the planner's own entries are newer
            super().clear()
            super().update(stored)
            self._absent.clear()

    def _one(self, key: int) -> None:
        """Make sure `key` is here if the store has it, reading as little as possible."""
        if self._load is None or super().__contains__(key) or key in self._absent:
            return
        if self._load_one is None or self._reads >= self.ONE_BY_ONE:
            self._fill()
            return
        self._reads += 1
        found = self._load_one(key)
        if found is None:
            self._absent.add(key)
        else:
            super().__setitem__(key, found)

    def get(self, key: int, default: Any = None) -> Any:
        self._one(key)
        return super().get(key, default)

    def __getitem__(self, key: int) -> KnownRecord:
        self._one(key)
        return super().__getitem__(key)

    def __setitem__(self, key: int, value: KnownRecord) -> None:
        self._absent.discard(key)
        super().__setitem__(key, value)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, int):
            self._one(key)
        return super().__contains__(key)

    def __len__(self) -> int:
        self._fill()
        return super().__len__()

    def __iter__(self):  # noqa: ANN204
        self._fill()
        return super().__iter__()

    def values(self):  # noqa: ANN201
        self._fill()
        return super().values()

    def items(self):  # noqa: ANN201
        self._fill()
        return super().items()


@dataclass
class State:
    """What the planner needs from the store (loaded by sync.load_state)."""

    submissions: dict[str, KnownSubmission] = field(default_factory=dict)  # by row_key
    records: dict[int, KnownRecord] = field(default_factory=dict)  # a LazyRecords when read from the store
    next_number: int = 1


@dataclass(slots=True)  # one per row: a year's sheet is 100k of them
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
    # Empty tuples by default (two empty lists a row weighed 11 MB in a first sync of 100k rows); the planner
    # assigns a list whenever it has something to say.
    errors: list[str] | tuple[str, ...] = ()
    submission: Submission | None = None
    prior: KnownSubmission | None = None  # the stored submission this row is (None for a new row)
    first_recorded_at: datetime | None = None
    raw_hash: str | None = None
    addresses: ParsedAddresses | None = None  # the row's «Адреси» as read, when it gives any
    notes: list[str] | tuple[str, ...] = ()  # accepted, but worth the dispatcher's attention

    def as_json(self) -> dict[str, Any]:
        out = {
            "row": self.row,
            "status": self.status,
            "kind": self.kind._value_ if self.kind else None,  # _value_: Enum's .value is a slow descriptor
            "action": self.action._value_ if self.action else None,
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
        """The one verdict text of a row (outages/records/verdict.py): what the sheet, check and the reporter's
        mail show."""
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


def plan(table: SheetTable, headers: HeaderMap, state: State, settings: Settings, now: datetime | None = None) -> Plan:
    """One decision per non-blank row. `now`: the clock a stamp may not be later than (None: not checked)."""
    # A row whose raw cells are what its position held last time has the content hash stored then: only changed
    # and new rows pay for canonical hashing (and, below, for parsing).
    rows: list[SheetRow] = []
    keys: list[str] = []
    prints: list[str] = []
    hashes: list[str] = []
    match: list[KnownSubmission | None] = []
    # Rows not recognised at once are parsed right after hashing, while their time cells are still in the
    # times' cache (a year's sheet read them 100k rows earlier otherwise); parsing needs no state.
    parsed: list[Submission | None] = []
    claimed: set[str] = set()  # row_keys of stored submissions already matched to a row
    known_at = state.submissions.get
    for row in table.rows:
        key = row.identity
        raw = raw_fingerprint(row, headers)
        known = known_at(key)
        if known is not None and known.raw_hash == raw:
            # Pass 1, the quick way: the same cells where they were, so the same content.
            digest = known.content_hash  # stored rows are never blank
            claimed.add(key)
            parsed.append(None)
        else:
            fields = headers.fields(row)
            if is_blank(row, headers, fields):
                continue
            digest = content_hash(row, headers, fields)
            known = None
            parsed.append(parse_row(row, headers, settings, fields))
        rows.append(row)
        keys.append(key)
        prints.append(raw)
        hashes.append(digest)
        match.append(known)
    unmatched = [i for i, known in enumerate(match) if known is None]
    # Pass 1 for the other rows: exactly where and what they were.
    for i in unmatched:
        known = known_at(keys[i])
        if known is not None and known.content_hash == hashes[i]:
            match[i] = known
            claimed.add(known.row_key)
    # Pass 2: rows that moved (same content elsewhere), then edits in place.
    edited: list[bool] = [False] * len(rows)
    unmatched = [i for i in unmatched if match[i] is None]
    if unmatched:
        input_hashes = set(hashes)
        by_hash: dict[str, list[KnownSubmission]] = {}
        for known in state.submissions.values():
            by_hash.setdefault(known.content_hash, []).append(known)
    for i in unmatched:
        moved = next((k for k in by_hash.get(hashes[i], []) if k.row_key not in claimed), None)
        if moved is not None:
            match[i] = moved
        else:
            known = known_at(keys[i])
            if known is not None and known.row_key not in claimed and known.content_hash not in input_hashes:
                match[i], edited[i] = known, True
        if match[i] is not None:
            claimed.add(match[i].row_key)

    decisions: list[Decision] = []
    accepted_hashes: dict[str, Decision] = {}
    for i, row in enumerate(rows):
        known = match[i]
        if known is not None and not edited[i]:
            decision = _Stored(row.number, keys[i], hashes[i], known)
        elif hashes[i] in accepted_hashes:
            first = accepted_hashes[hashes[i]]
            decision = Decision(
                row=row.number, key=row.identity, content_hash=hashes[i], status="rejected", change="rejected",
                kind=first.kind, action=first.action, prior=known,
                errors=[f"Повторне надсилання: такий самий запис уже є в рядку {first.row}"
                        + (f" (№{first.record})" if first.record else "") + " — цей рядок не враховано"],
            )
        else:
            sub = parsed[i]  # every row not recognised at once was parsed in the first loop
            assert sub is not None
            decision = decide(sub, hashes[i], known, state, settings, now)
        parsed[i] = None
        decision.raw_hash = prints[i]  # saved with the submission: the next read of these cells skips the work
        if decision.status == "accepted":
            accepted_hashes.setdefault(hashes[i], decision)
        decisions.append(decision)
    gone = [k.id for k in state.submissions.values() if k.row_key not in claimed and not k.row_key.startswith(PARKED)]
    return Plan(source=table.source, decisions=decisions, gone=gone, held_keys=set(state.submissions),
                rules=settings.rules)


_ACTIONS: dict[str | None, Action] = {action.value: action for action in Action}


class _Stored(Decision):
    """An unchanged row: the decision stored for it. Status, action and number come from the store's columns; the
    rest of the verdict (kind, deadline, reasons) is decoded only when something reads it, since an unchanged
    re-sync of a year's sheet needs the details of few rows, if any."""

    __slots__ = ("_details",)

    def __init__(self, number: int, key: str, digest: str, known: KnownSubmission) -> None:
        self.row, self.key, self.content_hash, self.change = number, key, digest, "unchanged"
        self.status = known.status
        self.action = _ACTIONS.get(known.action)  # a dict, not Action(…): this runs for every row of the sheet
        self.record = known.record_number
        self.submission, self.prior, self.raw_hash = None, known, None
        self.addresses = None
        self._details: dict[str, Any] = {}

    def _detail(self, name: str) -> Any:
        if name not in self._details:
            verdict = self.prior.decoded()
            deadline = verdict.get("deadline")
            self._details.setdefault("kind", Kind(verdict["kind"]) if verdict.get("kind") else None)
            self._details.setdefault("deadline", Deadline(**deadline) if deadline else None)
            self._details.setdefault("errors", list(verdict.get("errors", [])))
            self._details.setdefault("notes", list(verdict.get("notes", [])))
        return self._details[name]

    first_recorded_at = property(lambda self: self.prior.first_recorded())
    kind = property(lambda self: self._detail("kind"), lambda self, v: self._details.__setitem__("kind", v))
    deadline = property(lambda self: self._detail("deadline"),
                        lambda self, v: self._details.__setitem__("deadline", v))
    errors = property(lambda self: self._detail("errors"), lambda self, v: self._details.__setitem__("errors", v))
    notes = property(lambda self: self._detail("notes"), lambda self, v: self._details.__setitem__("notes", v))


def decide(sub: Submission, digest: str, known: KnownSubmission | None, state: State,
            settings: Settings, now: datetime | None) -> Decision:
    # The first time a row was seen is its recorded time, whatever Google's timestamp says after an edit.
    first = (known.first_recorded() if known else None) or sub.recorded_at
    if first is not None:
        sub.recorded_at = first
    decision = Decision(row=sub.row, key=sub.key, content_hash=digest, status="rejected", change="rejected",
                        kind=sub.kind, action=sub.action, submission=sub, prior=known, first_recorded_at=first)
    errors = list(sub.errors) + rules.problems(sub, settings.rules, now, settings.tz)
    if (sub.action in (Action.UPDATE, Action.RESOLVE) and sub.reference is None and "reference" not in sub.invalid
            and sub.executor and "executor" not in sub.invalid):
        errors.append(_open_records(sub.executor, state))  # the number the dispatcher forgot is likely among these
    if not errors:
        if sub.action is Action.NEW:
            errors = _new(decision, sub, known, state, settings)
        else:
            errors = _follow_up(decision, sub, known, state, settings)
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
    elif sub.action is Action.NEW and sub.districts:
        # No «Адреси»: the record covers every house of its districts (search, the bot, subscriptions).
        decision.notes = ["адреси не вказано — запис стосується всіх будинків району: " + ", ".join(sub.districts)]
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
    numbers = sorted(n for n, r in state.records.items() if r.executor == executor and r.status == "active")
    return verdict.open_records(executor, numbers)


def _follow_up(decision: Decision, sub: Submission, known: KnownSubmission | None, state: State,
               settings: Settings) -> list[str]:
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
    if record.status == "cancelled":
        return [f"Повідомлення №{number} скасовано контакт-центром як помилкове — про нову подію надішліть нове"
                " повідомлення"]
    if record.status == "resolved" and not resolved_by_this_row:
        return [f"Повідомлення №{number} уже закрито як ліквідоване — про нову подію надішліть нове повідомлення"]
    errors = rules.update_problems(sub, record.event_at, settings.tz)
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
