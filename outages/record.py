"""The record as a dispatcher submits it (regulation 7.4), before and after it meets the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Mapping


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


@dataclass(frozen=True)
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
    invalid: set[str] = field(default_factory=set)  # fields given but unusable (already explained in errors)


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
