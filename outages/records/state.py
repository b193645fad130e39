"""One account of a record's state, computed from its data and a clock: every channel (pages, API, feeds, CAP,
calendar, the bot, channel posts, officials' and subscribers' mail) words this one state in its own form, so they
cannot disagree about whether something is still off.

- active: reported and not over; planned works may not have started yet (the channels say when);
- overdue: an emergency whose term to fix passed with no update and no resolution (the hub's inference);
- ended: planned works past their stated end with no update extending them («завершено за планом о …»); nobody
  is chased about them;
- resolved: the utility reported the end (the record's `status` is "resolved");
- cancelled: withdrawn as a false alarm (the record's `status` is "cancelled"; the console issue writes it).

Imports nothing of the project but the model and the times, so the views, the answer line and the posts can
all use it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, or_

from outages.records.model import Kind


class State(StrEnum):
    ACTIVE = "active"
    OVERDUE = "overdue"
    ENDED = "ended"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"

    @property
    def is_live(self) -> bool:
        """Something is (or will be) off: what a search answer, the bot and the list of current records show."""
        return self in (State.ACTIVE, State.OVERDUE)


def state_of(kind: Kind | str, status: str, expected_end: datetime | None, now: datetime) -> State:
    if status == "resolved":
        return State.RESOLVED
    if status == "cancelled":
        return State.CANCELLED
    if expected_end is None or expected_end >= now:  # the term's own minute is still within it
        return State.ACTIVE
    return State.ENDED if Kind(kind) is Kind.PLANNED else State.OVERDUE


def live(columns, now: datetime) -> ColumnElement[bool]:  # noqa: ANN001 (a Table's .c)
    """SQL for "state is active or overdue" over the records table's columns: active, and not planned works whose
    stated end has passed."""
    return and_(columns.status == "active",
                or_(columns.kind != Kind.PLANNED.value, columns.expected_end.is_(None), columns.expected_end >= now))


def ended(columns, now: datetime) -> ColumnElement[bool]:  # noqa: ANN001
    """SQL for "planned works that ended as planned by `now`"."""
    return and_(columns.status == "active", columns.kind == Kind.PLANNED.value, columns.expected_end < now)


def within_term(columns, now: datetime) -> ColumnElement[bool]:  # noqa: ANN001
    """SQL for "state is active": reported, not over, its term not passed (what a first import still announces)."""
    return and_(columns.status == "active", or_(columns.expected_end.is_(None), columns.expected_end >= now))
