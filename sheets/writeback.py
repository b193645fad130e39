"""Each row's verdict written back beside it: «Номер» and «Статус обробки», in one request per sync.

Runs inside the sync's transaction (outages.records.sync.sync(after=…)): if Google refuses the write, the store rolls
back too and the next cycle does it all again. Only cells whose text differs from what the sheet shows are
written, so an unchanged sheet costs no write; dispatchers' columns are never in a request.

Where each verdict goes is decided from *this* read, never from row numbers remembered in the store: a
decision is written to the row it was made for only after checking that row's identity and content again.
Rows left without a decision (cleared, or emptied by a sort) lose stale hub cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, update

from outages.records import verdict
from outages.records.parse import content_hash, raw_fingerprint, read_table
from outages.records.planner import Decision
from outages.records.sync import SyncResult
from outages.schema import submissions
from outages.settings import Rules, Settings
from sheets.snapshot import Snapshot, record_number, row_key

if TYPE_CHECKING:
    from sheets.gsheet import GSheetSource

def verdict_text(d: Decision, rules: Rules) -> str:
    """What the dispatcher reads in «Статус обробки»: the one verdict text (outages/records/verdict.py)."""
    return verdict.text(d, rules)


def number_of(d: Decision) -> int | None:
    return d.record if d.record else None


@dataclass
class Changes:
    """The hub cells to write, by sheet row: (number, status)."""

    rows: dict[int, tuple[Any, str]] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return 2 * len(self.rows)


def desired(snapshot: Snapshot, decisions: list[Decision], settings: Settings,
            texts: dict[str, str] | None = None) -> tuple[dict[int, tuple[Any, str]], list[int]]:
    """Per data row of the snapshot, the hub cells it should show; rows whose decision does not match are left.

    texts: the verdict texts of the previous sync by stored verdict (JSON text), replaced by this sync's. A row
    that did not change has the same stored verdict and so the same text: a push to a year's sheet composes the
    text of the new row only, not of every row (settings, and so the rules, are fixed for a source's life)."""
    previous = texts.copy() if texts is not None else {}
    if texts is not None:
        texts.clear()
    headers = read_table(snapshot.table, settings)
    by_number = {row.number: row for row in snapshot.table.rows}
    want: dict[int, tuple[Any, str]] = {}
    skipped: list[int] = []
    for d in decisions:
        row = by_number.get(d.row)
        # The re-check: the row at this position must still be the one the decision was made for.
        # The cells' fingerprint settles it for rows read in this very snapshot; the content hash is the slow proof.
        if row is None or row.identity != d.key or (
                raw_fingerprint(row, headers) != d.raw_hash and content_hash(row, headers) != d.content_hash):
            skipped.append(d.row)
            continue
        stored = d.prior.verdict if d.change == "unchanged" and d.prior is not None else None
        if type(stored) is str:
            said = previous.get(stored)
            if said is None:
                said = verdict_text(d, settings.rules)
            if texts is not None:
                texts[stored] = said
        else:
            said = verdict_text(d, settings.rules)
        want[d.row] = (number_of(d) or "", said)
    return want, skipped


def changes(snapshot: Snapshot, want: dict[int, tuple[Any, str]]) -> Changes:
    out = Changes()
    for row_number in range(2, len(snapshot.grid) + 1):
        number, status = want.get(row_number, ("", ""))
        shown_number, shown_status = snapshot.hub_cells(row_number)
        if _same_number(shown_number, number) and _text(shown_status) == status:
            continue
        out.rows[row_number] = (number, status)
    return out


def requests_for(snapshot: Snapshot, found: Changes) -> list[dict[str, Any]]:
    """`spreadsheets.batchUpdate` requests: widen the grid if the new hub columns need it, write the headers,
    then one `updateCells` per run of consecutive changed rows and hub column."""
    meta = snapshot.meta
    requests: list[dict[str, Any]] = []
    needed = max(snapshot.number_col, snapshot.status_col) + 1
    if snapshot.missing_headers and needed > meta.column_count:
        requests.append({"appendDimension": {"sheetId": meta.sheet_id, "dimension": "COLUMNS",
                                             "length": needed - meta.column_count}})
    for col, header in sorted(snapshot.missing_headers.items()):
        requests.append(_update_cells(meta.sheet_id, 0, col, [[header]]))
    adjacent = snapshot.status_col == snapshot.number_col + 1
    for start, values in _runs(found.rows):
        if adjacent:
            requests.append(_update_cells(meta.sheet_id, start - 1, snapshot.number_col, values))
        else:
            requests.append(_update_cells(meta.sheet_id, start - 1, snapshot.number_col, [[v[0]] for v in values]))
            requests.append(_update_cells(meta.sheet_id, start - 1, snapshot.status_col, [[v[1]] for v in values]))
    return requests


def _runs(rows: dict[int, tuple[Any, str]]) -> list[tuple[int, list[list[Any]]]]:
    runs: list[tuple[int, list[list[Any]]]] = []
    for number in sorted(rows):
        if runs and runs[-1][0] + len(runs[-1][1]) == number:
            runs[-1][1].append(list(rows[number]))
        else:
            runs.append((number, [list(rows[number])]))
    return runs


def _update_cells(sheet_id: int, row_index: int, col_index: int, values: list[list[Any]]) -> dict[str, Any]:
    return {"updateCells": {
        "start": {"sheetId": sheet_id, "rowIndex": row_index, "columnIndex": col_index},
        "rows": [{"values": [_cell(v) for v in row]} for row in values],
        "fields": "userEnteredValue",
    }}


def _cell(value: Any) -> dict[str, Any]:
    # stringValue is stored as typed, never parsed: a verdict quoting "=…" cannot become a formula.
    if value == "" or value is None:
        return {}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def _same_number(shown: Any, wanted: Any) -> bool:
    if wanted == "":
        return _text(shown) == ""
    return record_number(shown) == wanted and not isinstance(shown, str)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class WriteBack:
    """The `after` callback of one sync, bound to the snapshot that sync read."""

    def __init__(self, source: GSheetSource, snapshot: Snapshot) -> None:
        self.source = source
        self.snapshot = snapshot
        self.stats: dict[str, int] = {"cells_written": 0, "write_requests": 0, "skipped": 0}

    def __call__(self, conn: Connection, result: SyncResult) -> None:
        settings = self.source.settings
        want, skipped = desired(self.snapshot, result.plan.decisions, settings, self.source.verdict_texts)
        self.stats["skipped"] = len(skipped)
        rekey(conn, self.snapshot, result.plan.decisions, want)
        found = changes(self.snapshot, want)
        if not found.rows and not self.snapshot.missing_headers:
            return
        self.source.write(requests_for(self.snapshot, found))
        if self.snapshot.missing_headers:
            needed = max(self.snapshot.number_col, self.snapshot.status_col) + 1
            self.snapshot.meta.column_count = max(self.snapshot.meta.column_count, needed)
        self.stats["cells_written"] = found.cells + len(self.snapshot.missing_headers)
        self.stats["write_requests"] = 1


def rekey(conn: Connection, snapshot: Snapshot, decisions: list[Decision], want: dict[int, tuple[Any, str]]) -> None:
    """Store each submission under the key its row will carry once the number is written («rec:N»), so an edit
    of a moved row is recognised on the next read. Two phases, because keys may be swapped between rows."""
    by_number = {row.number: row for row in snapshot.table.rows}
    moves: dict[str, str] = {}
    targets: set[str] = set()
    for d in decisions:
        if d.row not in want or d.row not in by_number:
            continue
        row = by_number[d.row]
        action = row.values.get(snapshot.action_header, "") if snapshot.action_header else ""
        future = row_key(action, want[d.row][0]) or f"row:{d.row}"
        if future in targets:
            future = f"row:{d.row}"
        targets.add(future)
        if future != d.key:
            moves[d.key] = future
    if not moves:
        return
    olds = list(moves)
    found: list[tuple[int, str]] = []
    for start in range(0, len(olds), 500):
        found += conn.execute(select(submissions.c.id, submissions.c.row_key)
                              .where(submissions.c.row_key.in_(olds[start:start + 500]))).all()
    stmt = update(submissions).where(submissions.c.id == bindparam("sid"))
    if found:
        conn.execute(stmt, [{"sid": sid, "row_key": f"moving:{sid}"} for sid, _ in found])
    wanted = list(moves.values())
    for start in range(0, len(wanted), 500):
        holders = conn.execute(select(submissions.c.id, submissions.c.row_key)
                               .where(submissions.c.row_key.in_(wanted[start:start + 500]))).all()
        if holders:  # a submission whose row is gone still holds the key: park it, found again by content
            conn.execute(stmt, [{"sid": sid, "row_key": f"parked:{sid}:{key}"} for sid, key in holders])
    if found:
        conn.execute(stmt, [{"sid": sid, "row_key": moves[key]} for sid, key in found])

