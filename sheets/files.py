"""CSV and XLSX exports of the response sheet, read into a SheetTable."""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from outages.records.model import Columns, RowValues, SheetRow, SheetTable
from outages.records.parse import UnusableInput

_ZIP_MAGIC = b"PK\x03\x04"


def read_file(path: str | Path) -> SheetTable:
    """Read an export; raise UnusableInput (in Ukrainian and English) when it cannot be a response sheet."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise UnusableInput(f"«{path}» — це тека, а не файл / is a directory, not a file") from None
    except OSError as exc:
        raise UnusableInput(f"Не вдається прочитати «{path}»: {exc.strerror} / cannot read the file") from None
    source = f"file:{path.name}"
    if data.startswith(_ZIP_MAGIC) or path.suffix.lower() in (".xlsx", ".xlsm"):
        return table_from_xlsx(data, source)
    return table_from_csv(data, source)


def table_from_csv(data: bytes, source: str) -> SheetTable:
    if b"\x00" in data[:4096]:
        raise UnusableInput(f"{source}: це не CSV і не XLSX (двійковий файл) / not a CSV or XLSX file")
    try:
        first_line = data[:65536].split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        # Checked whole here so the error can name the byte; the text itself is read below line by line.
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnusableInput(
            f"{source}: файл не в кодуванні UTF-8 (байт {exc.start}); експортуйте «CSV UTF-8» з Google Таблиць"
            " / the file is not UTF-8"
        ) from None
    # The csv module refuses a whole file over one field beyond 128 KiB. A cell that long is refused by the parser
    # for its row alone (parse.MAX_CELL_CHARS), so the reader must let it through. The limit is process-wide; a
    # bigger one harms no other reader.
    if csv.field_size_limit() < len(data):
        csv.field_size_limit(min(sys.maxsize, max(len(data), 1 << 20)))
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    # Decoded a chunk at a time as the reader asks for lines (newline="" as the csv module wants: quoted line
    # breaks stay in their cells). A StringIO of the whole text held it again as 4 bytes a character: at 100k
    # rows that was 90 MiB more at the peak of every sync.
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    try:
        # Row by row into the table: the whole grid of lists is never held beside it.
        return _table(source, csv.reader(lines, delimiter=delimiter))
    except csv.Error as exc:
        raise UnusableInput(f"{source}: не вдається розібрати CSV: {exc} / malformed CSV") from None


def table_from_xlsx(data: bytes, source: str, worksheet: str | None = None) -> SheetTable:
    from openpyxl import load_workbook  # imported here: CSV-only deployments never pay for it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnusableInput(f"{source}: пошкоджений або не XLSX-файл ({exc}) / not a readable XLSX file") from None
    try:
        sheet = book[worksheet] if worksheet else book.worksheets[0]
        grid = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return _table(source, grid)


def _table(source: str, grid: Iterable[list[Any]]) -> SheetTable:
    lines = iter(grid)
    first = next(lines, None)
    if not first or not any(_cell(v) for v in first):
        raise UnusableInput(f"{source}: немає рядка заголовків / no header row")
    headers = tuple(_cell(v).strip() for v in first)
    # The first column of each (non-empty) header holds its value; the rest are never read.
    keep: dict[str, int] = {}
    for index, header in enumerate(headers):
        if header and header not in keep:
            keep[header] = index
    names, positions = tuple(keep), tuple(keep.values())
    width = max(positions, default=-1) + 1
    rows = []
    columns = Columns(names)
    # The same utility, service, district or cause repeats in thousands of rows: one string object each, not one
    # per cell (a year's sheet is a third smaller in memory).
    seen: dict[Any, Any] = {}
    share = seen.setdefault
    # A year's sheet is 100k rows of this loop: one list per row, read through the table's shared columns.
    every = positions == tuple(range(len(headers)))  # no empty or repeated header: take the cells as they are
    for offset, cells in enumerate(lines, start=2):
        if len(cells) != width:  # short rows padded, cells beyond the last header never read
            cells = list(cells[:width]) + [None] * (width - len(cells))
        picked = [share(v, v) if type(v) is str and len(v) <= 64 else v
                  for v in (cells if every else [cells[i] for i in positions])]
        picked.append(None)  # what a header the table lacks reads as (Columns.getter)
        rows.append(SheetRow(number=offset, values=RowValues(columns, picked)))
    return SheetTable(source=source, headers=headers, rows=tuple(rows))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
