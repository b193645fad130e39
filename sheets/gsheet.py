"""The live source: the form's response sheet read through the Sheets API, one request per sync.

The spreadsheet's metadata (its time zone, the worksheet's id and size) is fetched once per process; each sync
then reads the whole worksheet in one `values.get` (unformatted values, dates as serial numbers) and hands the
rows to the core exactly like a file export. The two hub columns («Номер», «Статус обробки») are found by
header, kept out of the rows the planner sees, and written by sheets/writeback.py in the same sync.
"""

from __future__ import annotations

import threading
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import gspread
from gspread.utils import DateTimeOption, ValueRenderOption
from gspread.worksheet import Worksheet

from outages.records.model import Columns, RowValues, SheetRow, SheetTable, picker
from outages.settings import Settings
from outages.text import fold
from outages.times import from_serial
from outages.worker import Batch
from sheets.client import SheetsError, make_client
from sheets.snapshot import SheetMeta, Snapshot, cell_text, row_key
from sheets.writeback import WriteBack

DATE_FIELDS = ("recorded_at", "event_at", "expected_end")


class GSheetSource:
    """`gsheet:KEY[#WORKSHEET]`. One instance per process keeps the client and the metadata."""

    def __init__(self, settings: Settings, key: str, worksheet: str | None = None, *,
                 client: gspread.Client | None = None, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.key = key
        self.worksheet = worksheet or None
        self.stop = stop
        self._client = client
        self._meta: SheetMeta | None = None
        # The verdict texts the last write-back composed, by stored verdict (sheets/writeback.py: desired).
        self.verdict_texts: dict[str, str] = {}

    @property
    def label(self) -> str:
        return f"gsheet:{self.key}" + (f"#{self.worksheet}" if self.worksheet else "")

    @property
    def client(self) -> gspread.Client:
        if self._client is None:
            self._client = make_client(self.settings, self.stop)
        return self._client

    def forget(self) -> None:
        """Drop the cached metadata (after an error that a renamed or resized sheet may explain)."""
        self._meta = None

    def meta(self) -> SheetMeta:
        if self._meta is None:
            data = self.client.http_client.fetch_sheet_metadata(self.key)
            self._meta = _pick_sheet(self.key, data, self.worksheet)
        return self._meta

    def pull(self) -> Batch:
        try:
            snapshot = self.read()
        except SheetsError as exc:
            if exc.permanent:
                self.forget()
            raise
        return Batch(snapshot.table, after=WriteBack(self, snapshot))

    def read(self) -> Snapshot:
        meta = self.meta()
        worksheet = Worksheet(None, {"sheetId": meta.sheet_id, "title": meta.title}, self.key,  # type: ignore[arg-type]
                              self.client.http_client)
        grid = worksheet.get_values(value_render_option=ValueRenderOption.unformatted,
                                    date_time_render_option=DateTimeOption.serial_number, pad_values=False)
        return build_snapshot(meta, grid or [[]], self.settings, self.label)

    def write(self, requests: list[dict[str, Any]]) -> None:
        """One `spreadsheets.batchUpdate`: applied by Google atomically, all or nothing."""
        try:
            self.client.http_client.batch_update(self.key, {"requests": requests})
        except SheetsError as exc:
            if exc.permanent:
                self.forget()  # a resized or renamed sheet: refetch its metadata next time
            raise


def _pick_sheet(key: str, data: dict[str, Any], wanted: str | None) -> SheetMeta:
    sheets = [s.get("properties", {}) for s in data.get("sheets", [])]
    sheets = [p for p in sheets if p.get("sheetType", "GRID") == "GRID"]
    if not sheets:
        raise SheetsError(f"У таблиці {key} немає аркушів з даними / the spreadsheet has no grid sheets",
                          permanent=True)
    chosen = sheets[0]
    if wanted:
        exact = [p for p in sheets if p.get("title") == wanted]
        loose = [p for p in sheets if fold(p.get("title", "")) == fold(wanted)]
        if not (exact or loose):
            titles = ", ".join(f"«{p.get('title')}»" for p in sheets)
            raise SheetsError(f"Аркуш «{wanted}» не знайдено в таблиці {key}; є: {titles}. Виправте"
                              " OUTAGES_SHEETS_WORKSHEET. / Worksheet not found.", permanent=True)
        chosen = (exact or loose)[0]
    zone = str(data.get("properties", {}).get("timeZone") or "")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SheetsError(f"Таблиця має невідомий часовий пояс «{zone}»: виправте його в Файл → Налаштування."
                          " / Unknown spreadsheet time zone.", permanent=True) from None
    grid = chosen.get("gridProperties", {})
    return SheetMeta(key=key, title=str(chosen.get("title", "")), sheet_id=int(chosen.get("sheetId", 0)), tz=tz,
                     column_count=int(grid.get("columnCount", 26)), row_count=int(grid.get("rowCount", 1000)))


def build_snapshot(meta: SheetMeta, grid: list[list[Any]], settings: Settings, label: str) -> Snapshot:
    header_cells = [cell_text(v).strip() for v in (grid[0] if grid else [])]
    number_col = _find(header_cells, settings.sheets_number_header)
    status_col = _find(header_cells, settings.sheets_status_header)
    last = max((i for i, h in enumerate(header_cells) if h), default=-1)
    missing: dict[int, str] = {}
    if number_col is None:
        last += 1
        number_col, missing[last] = last, settings.sheets_number_header
    if status_col is None:
        last = max(last, number_col) + 1
        status_col, missing[last] = last, settings.sheets_status_header
    hub = {number_col, status_col}
    columns = [(i, h) for i, h in enumerate(header_cells) if h and i not in hub]
    seen: set[str] = set()
    columns = [(i, h) for i, h in columns if not (h in seen or seen.add(h))]  # the first of duplicate headers
    date_headers = {fold(settings.columns[name]) for name in DATE_FIELDS}
    dates = {i for i, h in columns if fold(h) in date_headers}
    action_col = next((i for i, h in columns if fold(h) == fold(settings.columns["action"])), None)
    rows: list[SheetRow] = []
    keys_taken: set[str] = set()
    city = settings.tz
    # Serial days are in the spreadsheet's zone; the core reads a serial number in the city's zone itself (the
    # same instant, content hash and verdict), so they pass as they are when the two zones agree, as they do in
    # a city's own sheet: converting 30k date cells on every read was a good part of a push's time.
    convert = meta.tz != city
    columns_at = Columns(tuple(h for _, h in columns))
    positions = [i for i, _ in columns]
    take = picker(positions)
    needed = max(positions, default=-1) + 1
    date_at = [k for k, i in enumerate(positions) if i in dates]  # places in `picked` of the date columns
    for index, cells in enumerate(grid[1:], start=2):
        if len(cells) < needed:
            cells = cells + [""] * (needed - len(cells))
        picked = list(take(cells))
        for k in date_at:
            value = picked[k]
            if type(value) in (int, float) and (value < 1 or convert) and value > 0:
                picked[k] = from_serial(value, meta.tz).astimezone(city)
        picked.append(None)  # RowValues: what a header the table lacks reads as
        values = RowValues(columns_at, picked)
        key = row_key(cells[action_col] if action_col is not None and action_col < len(cells) else "",
                      _cell(cells, number_col))
        if key in keys_taken:  # a copied row carries someone else's number: identify it by position
            key = ""
        keys_taken.add(key)
        rows.append(SheetRow(number=index, values=values, key=key))
    table = SheetTable(source=label, headers=tuple(h for _, h in columns), rows=tuple(rows))
    return Snapshot(meta=meta, grid=grid, number_col=number_col, status_col=status_col, missing_headers=missing,
                    table=table, action_header=dict(columns).get(action_col) if action_col is not None else None)


def _cell(cells: list[Any], col: int) -> Any:
    return cells[col] if col < len(cells) else ""


def _find(headers: list[str], wanted: str) -> int | None:
    target = fold(wanted)
    return next((i for i, h in enumerate(headers) if h and fold(h) == target), None)
