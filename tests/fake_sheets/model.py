"""The fake's spreadsheets and what each served method does to them (Google's behaviour, within the fake's scope)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

EPOCH = datetime(1899, 12, 30)


@dataclass(frozen=True)
class DateCell:
    """A date-time cell, kept as Google keeps it: a serial number of days since 1899-12-30."""

    serial: float

    @classmethod
    def of(cls, moment: datetime) -> "DateCell":
        return cls((moment.replace(tzinfo=None) - EPOCH) / timedelta(days=1))

    def formatted(self) -> str:
        moment = EPOCH + timedelta(days=self.serial)
        moment = (moment + timedelta(microseconds=500_000)).replace(microsecond=0)
        return moment.strftime("%d.%m.%Y %H:%M:%S")



@dataclass
class FakeSheet:
    sheet_id: int
    title: str
    rows: list[list[Any]]
    row_count: int = 1000
    column_count: int = 26


@dataclass
class FakeSpreadsheet:
    key: str
    title: str
    time_zone: str
    locale: str
    sheets: list[FakeSheet]
    shared_with: set[str] = field(default_factory=set)


@dataclass
class Fault:
    route: str
    status: int | None  # None: answer normally, but only after `delay`
    times: int
    delay: float = 0.0
    who: str | None = None


def _filled(value: Any) -> bool:
    return value not in ("", None)


def _merge(old: list[Any], new: list[Any]) -> list[Any]:
    out = list(old) + [""] * max(0, len(new) - len(old))
    for i, v in enumerate(new):
        if _filled(v):
            out[i] = v
    return out


def _shown(value: Any) -> Any:
    if isinstance(value, DateCell):
        return value.formatted()
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, DateCell):
        return (0, value.serial)
    if isinstance(value, (int, float)):
        return (0, float(value))
    return (1, str(value))


# --- A1 ranges ----------------------------------------------------------------------------------------------------

_A1 = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[^!]+)!)?(?P<cells>.*)$")
_CELL = re.compile(r"^([A-Z]*)(\d*)$")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _col_letters(index: int) -> str:
    out, index = "", index + 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_range(book: FakeSpreadsheet, text: str) -> tuple[FakeSheet, int, int | None, int, int | None]:
    """(sheet, first row, last row or None, first col, last col or None), zero-based and inclusive."""
    found = _A1.match(text)
    assert found
    name, cells = found["sheet"], found["cells"]
    if name is None and "!" not in text:
        # "Sheet1" alone names a sheet; "A1:B2" alone means the first sheet.
        if any(s.title == text for s in book.sheets) or text.startswith("'"):
            name, cells = text, ""
    if name is not None and name.startswith("'"):
        name = name[1:-1].replace("''", "'")
    sheet = next((s for s in book.sheets if s.title == name), None) if name else book.sheets[0]
    if sheet is None:
        raise _ApiError(400, f"Unable to parse range: {text}")
    if not cells:
        return sheet, 0, None, 0, None
    first, _, last = cells.partition(":")
    a, b = _CELL.match(first.upper()), _CELL.match((last or first).upper())
    if not a or not b:
        raise _ApiError(400, f"Unable to parse range: {text}")
    r0 = int(a[2]) - 1 if a[2] else 0
    r1 = int(b[2]) - 1 if b[2] else None
    c0 = _col_index(a[1]) if a[1] else 0
    c1 = _col_index(b[1]) if b[1] else None
    return sheet, r0, r1, c0, c1


class _ApiError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _grid_limits(sheet: FakeSheet, text: str, rows: int, cols: int) -> None:
    if rows > sheet.row_count or cols > sheet.column_count:
        raise _ApiError(400, f"Range ({text}) exceeds grid limits. Max rows: {sheet.row_count}, max columns:"
                             f" {sheet.column_count}")



def _metadata(book: FakeSpreadsheet) -> dict[str, Any]:
    return {
        "spreadsheetId": book.key,
        "properties": {"title": book.title, "locale": book.locale, "autoRecalc": "ON_CHANGE",
                       "timeZone": book.time_zone},
        "sheets": [{"properties": {"sheetId": s.sheet_id, "title": s.title, "index": i, "sheetType": "GRID",
                                   "gridProperties": {"rowCount": s.row_count, "columnCount": s.column_count}}}
                   for i, s in enumerate(book.sheets)],
        "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.key}/edit",
    }


def _value_range(book: FakeSpreadsheet, text: str, render: str, dates: str) -> dict[str, Any]:
    sheet, r0, r1, c0, c1 = parse_range(book, text)
    _grid_limits(sheet, text, (r1 if r1 is not None else r0) + 1, (c1 if c1 is not None else c0) + 1)
    last_row = sheet.row_count - 1 if r1 is None else r1
    last_col = sheet.column_count - 1 if c1 is None else c1
    values = []
    for cells in sheet.rows[r0:last_row + 1]:
        row = [_render(v, render, dates) for v in cells[c0:last_col + 1]]
        while row and row[-1] == "":
            row.pop()
        values.append(row)
    while values and not values[-1]:
        values.pop()
    out: dict[str, Any] = {"range": f"'{sheet.title}'!{_col_letters(c0)}{r0 + 1}"
                                    f":{_col_letters(last_col)}{last_row + 1}",
                           "majorDimension": "ROWS"}
    if values:
        out["values"] = values
    return out


def _render(value: Any, render: str, dates: str) -> Any:
    if value is None or value == "":
        return ""
    if isinstance(value, DateCell):
        if render == "FORMATTED_VALUE" or dates == "FORMATTED_STRING":
            return value.formatted()
        return value.serial
    if render == "FORMATTED_VALUE":
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _values_batch_update(book: FakeSpreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    entered = body.get("valueInputOption") == "USER_ENTERED"
    if body.get("valueInputOption") not in ("RAW", "USER_ENTERED"):
        raise _ApiError(400, "Invalid valueInputOption")
    staged = _staged(book)
    shadow = FakeSpreadsheet(book.key, book.title, book.time_zone, book.locale, staged)
    responses, cells_total = [], 0
    for item in body.get("data", []):
        sheet, r0, _, c0, _ = parse_range(shadow, item["range"])
        values = item.get("values", [])
        width = max([len(r) for r in values] + [0])
        _grid_limits(sheet, item["range"], r0 + len(values), c0 + width)
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                _put(sheet, r0 + i, c0 + j, _typed(value) if entered else value)
        cells = sum(len(r) for r in values)
        cells_total += cells
        responses.append({"spreadsheetId": book.key, "updatedRange": item["range"], "updatedRows": len(values),
                          "updatedColumns": width, "updatedCells": cells})
    book.sheets[:] = staged
    return {"spreadsheetId": book.key, "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
            "totalUpdatedColumns": max([r["updatedColumns"] for r in responses] + [0]),
            "totalUpdatedCells": cells_total, "totalUpdatedSheets": len({r["updatedRange"] for r in responses}) and 1,
            "responses": responses}


_TYPED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _typed(value: Any) -> Any:
    """USER_ENTERED: what a person typing into a uk_UA sheet gets (dates become date cells)."""
    if isinstance(value, str):
        found = _TYPED_DATE.match(value.strip())
        if found:
            d, m, y, hh, mm, ss = found.groups()
            return DateCell.of(datetime(int(y), int(m), int(d), int(hh), int(mm), int(ss or 0)))
        if re.fullmatch(r"-?\d+", value.strip()) and not value.strip().startswith("0"):
            return int(value)
    return value


def _put(sheet: FakeSheet, r: int, c: int, value: Any) -> None:
    while len(sheet.rows) <= r:
        sheet.rows.append([])
    cells = sheet.rows[r]
    cells.extend([""] * (c + 1 - len(cells)))
    cells[c] = value


def _batch_update(book: FakeSpreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    """All requests are applied to a copy and swapped in only if every one succeeded (Google's atomicity)."""
    staged = _staged(book)
    replies = []
    for index, request in enumerate(body.get("requests", [])):
        if len(request) != 1:
            raise _ApiError(400, f"Invalid requests[{index}]: exactly one kind of request expected")
        kind, spec = next(iter(request.items()))
        if kind == "appendDimension":
            sheet = _by_id(staged, spec.get("sheetId", 0), index)
            if spec.get("dimension") == "COLUMNS":
                sheet.column_count += int(spec["length"])
            else:
                sheet.row_count += int(spec["length"])
        elif kind == "updateCells":
            if spec.get("fields") not in ("userEnteredValue", "*"):
                raise _ApiError(400, f"Invalid requests[{index}].updateCells: fields must be userEnteredValue")
            start = spec.get("start")
            if start is None:
                raise _ApiError(400, f"Invalid requests[{index}].updateCells: the fake needs `start`")
            sheet = _by_id(staged, start.get("sheetId", 0), index)
            r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
            rows = spec.get("rows", [])
            width = max([len(r.get("values", [])) for r in rows] + [0])
            if r0 + len(rows) > sheet.row_count or c0 + width > sheet.column_count:
                raise _ApiError(400, f"Invalid requests[{index}].updateCells: Range ('{sheet.title}'!"
                                     f"{_col_letters(c0)}{r0 + 1}:{_col_letters(c0 + width - 1)}{r0 + len(rows)})"
                                     f" exceeds grid limits. Max rows: {sheet.row_count}, max columns:"
                                     f" {sheet.column_count}")
            for i, row in enumerate(rows):
                for j, cell in enumerate(row.get("values", [])):
                    entered = cell.get("userEnteredValue", {})
                    value = entered.get("stringValue", entered.get("numberValue", entered.get("boolValue", "")))
                    if "formulaValue" in entered:
                        value = entered["formulaValue"]
                    _put(sheet, r0 + i, c0 + j, value)
        else:
            raise _ApiError(400, f"Invalid requests[{index}]: the fake does not implement {kind}")
        replies.append({})
    book.sheets[:] = staged
    return {"spreadsheetId": book.key, "replies": replies}


def _staged(book: FakeSpreadsheet) -> list[FakeSheet]:
    """A copy of the sheets to apply a request to (swapped in only if all of it succeeds). Rows are copied, cell
    values shared: a write replaces a value, never changes one in place (a deep copy of a 10k-row book took longer
    than the hub's whole push)."""
    return [replace(sheet, rows=[list(row) for row in sheet.rows]) for sheet in book.sheets]


def _by_id(sheets: list[FakeSheet], sheet_id: int, index: int) -> FakeSheet:
    found = next((s for s in sheets if s.sheet_id == sheet_id), None)
    if found is None:
        raise _ApiError(400, f"Invalid requests[{index}]: No grid with id: {sheet_id}")
    return found


