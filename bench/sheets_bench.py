"""Sync of a 10,000-row response sheet through the fake Sheets API (real gspread, real HTTP on 127.0.0.1).

For each run: a fresh SQLite store and a fresh fake spreadsheet; the first sync (token, metadata, one read, one
batched write of 20,000 verdict cells), then an unchanged sync (one read, no write), then a push: one new form
row, and the sync that writes its verdict (push → verdict in the sheet; target <= 0.5 s at 10k rows). Prints
requests per sync and seconds, medians of the runs.

    .venv/bin/python bench/sheets_bench.py [--rows 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_sheets import DateCell, FakeSheets, proxy_env  # noqa: E402

from outages import db  # noqa: E402
from outages.gcpause import collector_paused  # noqa: E402
from outages.records.sync import sync  # noqa: E402
from outages.settings import load  # noqa: E402
from sheets.sources import open_source  # noqa: E402

HEADERS = ["Позначка часу", "Виконавець", "Тип", "Дія", "Номер повідомлення", "Послуга", "Район", "Адреси",
           "Коротка інформація", "Причини виникнення", "Наслідки для мешканців", "Термін ліквідації",
           "Час настання події", "Відповідальна особа", "Контактний телефон", "Адреса електронної пошти"]
UTILITIES = [("КП «Водоканал»", "Водопостачання"), ("АТ «Обленерго»", "Електропостачання"),
             ("КП «Теплоенерго»", "Теплопостачання"), ("КП «Ліфтсервіс»", "Ліфти"),
             ("КП «Автодор»", "Дороги і транспорт")]
DISTRICTS = ["Заводський", "Інгульський", "Корабельний", "Центральний"]
END = datetime(2027, 6, 30, 18, 0)  # every record still active at the bench's clock: no overdue flood


def grid(rows: int) -> list[list[object]]:
    start = datetime(2026, 1, 1, 8, 0)
    out: list[list[object]] = [HEADERS]
    for i in range(rows):
        executor, service = UTILITIES[i % len(UTILITIES)]
        recorded = start + timedelta(minutes=37 * i)
        emergency = i % 3 != 0
        event = recorded - timedelta(minutes=10 + i % 40) if emergency else recorded + timedelta(hours=80)
        out.append([DateCell.of(recorded), executor, "Аварійна ситуація" if emergency else "Планові роботи", "", "",
                    service, DISTRICTS[i % 4], f"вул. Соборна, {i % 200 + 1}", f"Подія №{i}: ремонт мережі",
                    "Зношеність", "Немає послуги", DateCell.of(END), DateCell.of(event),
                    "Черговий", f"050 {i:07d}", ""])
    return out


def one_run(rows: int, data: list[list[object]]) -> dict[str, float]:
    # The fake checks requests against the discovery document as in the tests, not its own 10k-row answers.
    with FakeSheets(check_responses=False) as fake, tempfile.TemporaryDirectory() as tmp:
        info = fake.service_account()
        fake.add_spreadsheet("BENCH", data, shared_with={info["client_email"]}, row_count=rows + 1)
        env = {"OUTAGES_GOOGLE_CREDENTIALS": json.dumps(info), "OUTAGES_SHEETS_KEY": "BENCH",
               "OUTAGES_SHEETS_API_URL": fake.base_url, "OUTAGES_DATABASE_URL": f"sqlite:///{tmp}/bench.db"}
        os.environ.update(proxy_env(fake))
        settings = load(env)
        engine = db.engine_for(settings)
        db.upgrade(engine)
        source = open_source(None, settings)
        now = datetime(2026, 12, 31, 12, 0).astimezone()
        out: dict[str, float] = {}
        for name in ("first", "unchanged", "push1", "push2", "push3"):
            if name.startswith("push"):
                # A dispatcher submits the form: one new row below the year's rows; the worker, woken by the push,
                # reads the sheet, decides and writes the verdict back. This is the push → verdict time.
                wall = now.astimezone(settings.tz).replace(tzinfo=None)
                added = fake.append_form_row("BENCH", dict(zip(HEADERS, [
                    DateCell.of(wall - timedelta(minutes=2)), "КП «Водоканал»", "Аварійна ситуація", "", "",
                    "Водопостачання", "Центральний", f"вул. Соборна, {name[-1]}", "Порив на вводі", "Зношеність",
                    "Немає води", DateCell.of(wall + timedelta(hours=4)), DateCell.of(wall - timedelta(minutes=12)),
                    "Черговий", "050 0000000", ""])))
            fake.reset_log()
            spent = {"write_back": 0.0}
            write_back = None

            def timed(conn, result):
                t0 = time.perf_counter()
                write_back(conn, result)
                spent["write_back"] = time.perf_counter() - t0

            with collector_paused():  # as the worker's cycle does, around the read and the sync
                began = time.perf_counter()
                batch = source.pull()
                read = time.perf_counter()
                write_back = batch.after
                result = sync(engine, batch.take_table(), settings, now, after=timed)
                done = time.perf_counter()
            out[f"{name}_seconds"] = done - began
            out[f"{name}_read_seconds"] = read - began
            out[f"{name}_writeback_seconds"] = spent["write_back"]
            calls = fake.calls(info["client_email"])
            out[f"{name}_requests"] = len(calls)
            out[f"{name}_reads"] = calls.count("spreadsheets.values.get")
            out[f"{name}_writes"] = calls.count("spreadsheets.batchUpdate")
            out[f"{name}_cells"] = batch.stats.get("cells_written", 0)
            out[f"{name}_new"] = result.counts["new"]
            if name.startswith("push"):
                verdict = fake.row("BENCH", added)["Статус обробки"]
                assert verdict.startswith("Прийнято, №"), verdict
        assert fake.violations == [], fake.violations[:3]
        engine.dispose()
        return out


LABELS = {"first": "first", "unchanged": "unchanged", "push1": "push, the worker's first",
          "push": "push (median of 3 pushes)"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = grid(args.rows)
    runs = []
    for index in range(args.runs):
        runs.append(one_run(args.rows, data))
        print(f"run {index + 1}: " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                             for k, v in runs[-1].items()), flush=True)
    for run in runs:  # a worker's pushes after its first: the median of the three (the first also loads templates)
        for key in [k for k in run if k.startswith("push1_")]:
            metric = key.removeprefix("push1_")
            run[f"push_{metric}"] = statistics.median(run[f"push{i}_{metric}"] for i in (1, 2, 3))
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"\n{args.rows} rows, median of {args.runs} runs (SQLite, fake Sheets API on 127.0.0.1):")
    for name in ("first", "unchanged", "push1", "push"):
        print(f"  {LABELS[name]:32} sync: {median[name + '_seconds']:.2f} s"
              f" (read {median[name + '_read_seconds']:.2f} s,"
              f" verdicts composed and written {median[name + '_writeback_seconds']:.2f} s, the rest is the core's"
              f" sync and the outbox), {median[name + '_requests']:g} requests"
              f" ({median[name + '_reads']:g} read, {median[name + '_writes']:g} write; metadata only in the first),"
              f" {median[name + '_cells']:g} cells written, {median[name + '_new']:g} new records")


if __name__ == "__main__":
    main()
