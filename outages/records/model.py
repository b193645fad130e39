"""The record as a dispatcher submits it (regulation 7.4), before and after it meets the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from operator import itemgetter
from typing import Any, Callable, Iterator, Mapping


class Kind(StrEnum):
    EMERGENCY = "emergency"
    PLANNED = "planned"

    @property
    def uk(self) -> str:
        return {"emergency": "Аварійна ситуація", "planned": "Планові роботи"}[self.value]


class Action(StrEnum):
    NEW = "new"
    UPDATE = "update"
    RESOLVE = "resolve"

    @property
    def uk(self) -> str:
        return {"new": "Нове повідомлення", "update": "Оновлення", "resolve": "Ліквідовано"}[self.value]


# The event kinds that are changes of a record itself, as a sync writes them (breach and overdue, the other
# kinds, are raised against its deadlines): what its history, posts, webhooks and officials' mail are made of.
# Here, in a module that imports nothing of the project, so settings (webhooks) and events.py's consumers can
# share it without an import circle.
RECORD_KINDS = ("created", "edited", "updated", "resolved", "corrected", "cancelled")


class Columns:
    """The header -> position map that every row of one table shares (see RowValues)."""

    __slots__ = ("index", "_getters")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.index: dict[str, int] = {name: i for i, name in enumerate(names)}
        self._getters: dict[tuple[str, ...], Callable[[list[Any]], tuple[Any, ...]]] = {}

    def getter(self, names: tuple[str, ...]) -> Callable[[list[Any]], tuple[Any, ...]]:
        """A function of a row's cells giving the values of `names`, None for a name the table lacks."""
        found = self._getters.get(names)
        if found is None:
            width = len(self.index)  # RowValues keep one None after their cells: where absent names point
            found = self._getters[names] = picker([self.index.get(name, width) for name in names])
        return found


def picker(positions: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """A function of a list giving the items at these positions as a tuple (itemgetter, which returns a bare
    item rather than a tuple for a single position)."""
    if len(positions) > 1:
        return itemgetter(*positions)
    return lambda cells: tuple(cells[i] for i in positions)


class RowValues(Mapping[str, Any]):
    """One row's cells by header, without a dict per row: a year's sheet is 100k rows, and a dict of 16 cells
    weighs four times the list it is built from."""

    __slots__ = ("columns", "cells", "fingerprint")

    def __init__(self, columns: Columns, cells: list[Any]) -> None:
        # cells: one per header, then a None for headers the table lacks (the list is the reader's own).
        self.columns = columns
        self.cells = cells
        # (key, digest) of parse.raw_fingerprint, kept: the sync and then the write-back's re-check both take it.
        self.fingerprint: tuple[bytes, str] | None = None

    def __getitem__(self, name: str) -> Any:
        return self.cells[self.columns.index[name]]

    def get(self, name: str, default: Any = None) -> Any:
        position = self.columns.index.get(name)
        return default if position is None else self.cells[position]

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns.index)

    def __len__(self) -> int:
        return len(self.columns.index)

    def pick(self, names: tuple[str, ...]) -> tuple[Any, ...]:
        return self.columns.getter(names)(self.cells)


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs twice as much, 100k times a read
class SheetRow:
    """One row of the response sheet, as plain values keyed by header.

    number: the sheet row (the header is row 1). key: what identifies the row between two reads of the
    same source; a reader with a better identity than the row number (the hub's own column) supplies it.
    """

    number: int
    values: Mapping[str, Any]
    key: str = ""

    @property
    def identity(self) -> str:
        return self.key or f"row:{self.number}"


@dataclass(frozen=True)
class SheetTable:
    """What a source yields: the headers in sheet order and the rows below them."""

    source: str
    headers: tuple[str, ...]
    rows: tuple[SheetRow, ...]


@dataclass(slots=True)  # a first sync of a year's sheet holds 100k of them at once
class Submission:
    """A parsed row. Fields that failed to parse are None and explained in `errors`."""

    row: int
    key: str
    recorded_at: datetime | None = None
    executor: str = ""
    kind: Kind | None = None
    action: Action | None = None
    reference: int | None = None
    service: str = ""
    districts: tuple[str, ...] = ()
    addresses: str = ""
    summary: str = ""
    cause: str = ""
    impact: str = ""
    expected_end: datetime | None = None
    event_at: datetime | None = None
    contact_name: str = ""
    contact_phone: str = ""
    reporter_email: str = ""
    errors: list[str] = field(default_factory=list)
    invalid: set[str] | frozenset[str] = field(default_factory=set)  # given but unusable (explained in errors)


@dataclass(frozen=True)
class Deadline:
    """Timeliness of a new record (regulation 7.2, 7.3). Exactly one of delay/lead is set."""

    met: bool
    delay_minutes: float | None = None
    lead_hours: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"met": self.met, "delay_minutes": self.delay_minutes, "lead_hours": self.lead_hours}

    def describe(self) -> str:
        """For the dispatcher's status cell and the public page (Ukrainian)."""
        if self.delay_minutes is not None:
            mins = round(self.delay_minutes)
            return f"внесено через {mins} хв після події" + ("" if self.met else " — запізнення")
        hours = self.lead_hours or 0.0
        text = f"внесено за {hours:.0f} год до початку робіт"
        return text if self.met else text + " — із порушенням строку"
