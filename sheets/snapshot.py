"""One read of the response worksheet as the hub keeps it for the write-back: where the hub's columns are, and
how a row is recognised again (its «Номер» for the row that created a record).

Apart from gsheet.py (which reads) so that writeback.py (which writes) needs nothing of the reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from outages.records.model import Action, SheetTable
from outages.records.parse import ACTIONS
from outages.text import fold


@dataclass
class SheetMeta:
    """What one metadata request tells, kept for the life of the process."""

    key: str
    title: str
    sheet_id: int
    tz: ZoneInfo
    column_count: int
    row_count: int


@dataclass
class Snapshot:
    """One read of the worksheet: the grid as Google gave it and where the hub's columns are (or will be)."""

    meta: SheetMeta
    grid: list[list[Any]]
    number_col: int
    status_col: int
    missing_headers: dict[int, str]  # hub columns to create: column index -> header
    table: SheetTable
    action_header: str | None = None

    def hub_cells(self, row_number: int) -> tuple[Any, Any]:
        cells = self.grid[row_number - 1] if row_number - 1 < len(self.grid) else []
        pick = lambda col: cells[col] if col < len(cells) else ""  # noqa: E731
        return pick(self.number_col), pick(self.status_col)


def row_key(action: Any, number: Any) -> str:
    """The identity a row carries in the sheet: «rec:N» for the row that created record N (the number the hub
    wrote into «Номер»), so it survives sorting, deleted and inserted rows; "" (its position) otherwise.
    Follow-up rows («Оновлення», «Ліквідовано») show a number too, but many rows share it: not an identity."""
    if ACTIONS.get(fold(cell_text(action))) is not Action.NEW:
        return ""
    number = record_number(number)
    return f"rec:{number}" if number else ""


def record_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer() and value > 0:
        return int(value)
    text = cell_text(value).strip().lstrip("№").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

