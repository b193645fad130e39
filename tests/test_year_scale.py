"""A year's sheet: 50,000 rows as bench/sync_bench.py generates them (stamps in the past, updates and resolutions
by the same utility, 2 % broken rows), on SQLite and PostgreSQL.

What a city sees at that size: every row is judged (the broken ones refused, every other one taken), a re-sync of
the same sheet changes nothing and queues nothing, and a push of two new rows is judged without reading the
year's records again. The time and memory of the same syncs are measured in bench/sync_bench.py, not here.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from outages.records.sync import sync
from outages.schema import events, outbox, records
from sheets.files import read_file

ROOT = Path(__file__).resolve().parent.parent
YEAR = 50_000


def _bench():
    spec = importlib.util.spec_from_file_location("sync_bench", ROOT / "bench" / "sync_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


@pytest.fixture(scope="module")
def year_sheet(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("year") / "responses.csv"
    BENCH.generate(path, YEAR)
    return path


def _expected(path: Path) -> dict[str, int]:
    """What each row should become, read from the sheet itself: the action column, and the district no city has."""
    with path.open(encoding="utf-8", newline="") as lines:
        rows = list(csv.DictReader(lines))
    assert len(rows) == YEAR
    broken = sum(r["Район"] == "Південний" for r in rows)
    return {"new": sum(r["Дія"] == "" for r in rows) - broken, "updated": sum(r["Дія"] == "Оновлення" for r in rows),
            "resolved": sum(r["Дія"] == "Ліквідовано" for r in rows), "rejected": broken}


def test_a_years_sheet_is_judged_row_by_row_and_a_push_reads_only_what_it_names(engine, settings, year_sheet,
                                                                               tmp_path):
    year_sheet = Path(shutil.copy(year_sheet, tmp_path / "responses.csv"))  # the push below writes to it
    expected = _expected(year_sheet)
    first = sync(engine, read_file(year_sheet), settings, BENCH.NOW)
    assert {k: first.counts[k] for k in expected} == expected
    assert expected["rejected"] > 400 and expected["resolved"] > 15_000  # the generator's mix, not an empty case
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(records)).scalar()
        active = conn.execute(select(func.count()).select_from(records).where(records.c.status == "active")).scalar()
        last_event = conn.execute(select(func.max(events.c.id))).scalar()
        queued = conn.execute(select(func.count()).select_from(outbox)).scalar()
        open_record = conn.execute(select(records.c.number).where(records.c.status == "active")
                                   .order_by(records.c.number).limit(1)).scalar()
    assert stored == expected["new"] and active == expected["new"] - expected["resolved"]

    again = sync(engine, read_file(year_sheet), settings, BENCH.NOW)
    assert again.counts == {"new": 0, "updated": 0, "resolved": 0, "rejected": 0, "late": 0, "unchanged": YEAR,
                            "overdue": 0}
    with engine.connect() as conn:
        assert conn.execute(select(func.max(events.c.id))).scalar() == last_event
        assert conn.execute(select(func.count()).select_from(outbox)).scalar() == queued

    # A push: the form adds a new emergency and an update of an open record from months ago.
    now = BENCH.NOW + timedelta(minutes=30)
    with year_sheet.open("a", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([BENCH.wall(now - timedelta(minutes=5), seconds=True), "КП «Водоканал»", "Аварійна ситуація",
                         "", "", "Водопостачання", "Центральний", "вул. Соборна, 12", "Порив водогону",
                         "Корозія", "Немає води", BENCH.wall(now + timedelta(hours=6)),
                         BENCH.wall(now - timedelta(minutes=20)), "Черговий", "0501234567", ""])
        writer.writerow([BENCH.wall(now - timedelta(minutes=4), seconds=True), "", "", "Оновлення",
                         str(open_record), "", "", "", "Уточнено термін", "", "", BENCH.wall(now + timedelta(hours=8)),
                         "", "", "", ""])
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        push = sync(engine, read_file(year_sheet), settings, now)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert push.counts["new"] == 1 and push.counts["unchanged"] == YEAR and push.counts["rejected"] == 0
    decisions = {d.row: d for d in push.plan.decisions if d.change != "unchanged"}
    assert [(d.change, d.record) for d in decisions.values()] == [("new", stored + 1), ("update", open_record)]
    # The year's records are never read whole for two rows: every read of the records table names its slice.
    whole = [s for s in statements if s.startswith("SELECT") and " FROM records" in s and " WHERE " not in s
             and "max(" not in s.lower()]
    assert whole == []
    assert any(" FROM records WHERE records.number = " in s for s in statements)  # the one record it names
