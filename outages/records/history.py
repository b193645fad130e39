"""A record as it stood right after each of its changes, rebuilt from the current record and its events.

Every event carries the fields it changed as [old, new] pairs; walking back from the record as it is now and
undoing them gives each earlier state. Feeds, CAP alerts and e-mail describe a change with the state right after
it: an old entry, or a message queued in the same sync as a later update, must not show a later expected end.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Collection, Sequence

from outages.records.model import RECORD_KINDS, Kind
from outages.records.views import EventView, RecordView, histories, records_by_number, restate


def states(record: RecordView, public: list[EventView]) -> list[tuple[EventView, RecordView]]:
    """(event, the record right after it) for each public event, in event order."""
    state = record
    out: list[tuple[EventView, RecordView]] = []
    for event in reversed(public):
        if state.last_changed_at != event.at or state.revision != event.revision:  # the newest usually matches
            state = replace(state, last_changed_at=event.at, revision=event.revision)
        if event.kind == "resolved" and state.status == "resolved":
            state = replace(state, resolved_at=event.at)
        out.append((event, restate(state, event.at)))
        for name, pair in (event.data or {}).get("changed", {}).items():
            if isinstance(pair, list) and len(pair) == 2:
                state = _undo(state, name, pair[0])
    out.reverse()
    return out


def states_by_event(conn, numbers: list[int], kinds, now: datetime) -> dict[int, RecordView]:  # noqa: ANN001
    """Event id → the record right after that event, for the given records' events of `kinds`: what the
    residents' channels and the subscribers' fan-out describe each change with."""
    views = records_by_number(conn, numbers, now)
    past = histories(conn, numbers, kinds)
    after: dict[int, RecordView] = {}
    for number, record in views.items():
        for event, state in states(record, past.get(number, [])):
            after[event.id] = state
    return after


def _undo(state: RecordView, name: str, old: Any) -> RecordView:
    try:
        if name in ("event_at", "expected_end"):
            return replace(state, **{name: datetime.fromisoformat(old) if old else None})
        if name == "districts":
            return replace(state, districts=tuple(old or ()))
        if name == "kind":
            return replace(state, kind=Kind(old))
        if name == "deadline_met":
            return replace(state, deadline=replace(state.deadline, met=bool(old)))
        if name == "status":
            return replace(state, status=str(old), resolved_at=state.resolved_at if old == "resolved" else None)
        if name in ("executor", "service", "addresses", "summary", "cause", "impact"):
            return replace(state, **{name: str(old or "")})
    except (TypeError, ValueError):  # an unreadable old value: keep the later one rather than fail the feed
        pass
    return state


def fold(found: Sequence[Any], kinds: Collection[str] = RECORD_KINDS) -> list[Any]:
    """The events of a batch (in id order) with each record's changes of `kinds` folded into one: after a backlog
    (a worker or a mail server down for hours, a first import) an official or a resident gets «[АВАРІЯ] №4» in
    its current state, or «[ЛІКВІДОВАНО] №4», not the creation, each update and the resolution in one minute.
    Other events (breach, overdue) pass unchanged."""
    changes: dict[int, list[Any]] = {}
    for event in found:
        if event.kind in kinds:
            changes.setdefault(event.record_number, []).append(event)
    out: list[Any] = []
    for event in found:
        if event.kind not in kinds:
            out.append(event)
            continue
        mine = changes[event.record_number]
        if event is not mine[-1]:
            continue  # superseded by a later change of the same record in this batch
        kind = event.kind
        if len(mine) > 1 and kind in ("updated", "edited") and any(e.kind == "created" for e in mine):
            kind = "created"
        out.append(event if kind == event.kind else EventView(
            id=event.id, record_number=event.record_number, kind=kind, at=event.at, revision=event.revision,
            data=dict(event.data or {})))
    return out
