"""Benchmark: check and sync of a generated 10,000-row export, first sync and unchanged re-sync.

Not a test: it prints medians of several runs, each in a fresh SQLite database (and PostgreSQL when reachable).
Target on the 2-core machine: first sync <= 2 s, unchanged re-sync <= 1 s.

    .venv/bin/python bench/sync_bench.py [--rows 10000] [--runs 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from outages import db  # noqa: E402
from outages.demo.build import HEADERS  # noqa: E402
from outages.settings import load  # noqa: E402
from outages.sync import check, sync  # noqa: E402
from sheets.files import read_file  # noqa: E402

UTILITIES = {"КП «Водоканал»": "Водопостачання", "КП «Теплоенерго»": "Теплопостачання",
             "АТ «Обленерго»": "Електропостачання", "КП «Ліфтсервіс»": "Ліфти", "КП «Автодор»": "Дороги і транспорт"}
DISTRICTS = ["Заводський", "Інгульський", "Корабельний", "Центральний"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """A realistic mix: 60 % emergencies, 25 % planned works, 10 % updates, 5 % resolutions, ~3 % broken."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, 6, 0)
    made = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for i in range(rows):
            recorded = start + timedelta(minutes=45 * i + rng.randint(0, 30))
            executor = rng.choice(list(UTILITIES))
            roll = rng.random()
            fmt = "%d.%m.%Y %H:%M:%S"
            if roll < 0.10 and made:
                ref = str(rng.randint(1, made))
                writer.writerow([recorded.strftime(fmt), executor, "Аварійна ситуація", "Оновлення", ref, "", "", "",
                                 "", "", "", (recorded + timedelta(hours=5)).strftime("%d.%m.%Y %H:%M"), "", "", "", ""])
                continue
            if roll < 0.15 and made:
                writer.writerow([recorded.strftime(fmt), executor, "", "Ліквідовано", str(rng.randint(1, made)), "",
                                 "", "", "Відновлено", "", "", "", "", "", "", ""])
                continue
            planned = roll > 0.75
            event = recorded + (timedelta(hours=rng.randint(40, 200)) if planned
                                else -timedelta(minutes=rng.randint(0, 60)))
            district = rng.choice(DISTRICTS) if rng.random() > 0.03 else "Південний"
            writer.writerow([
                recorded.strftime(fmt), executor, "Планові роботи" if planned else "Аварійна ситуація", "", "",
                UTILITIES[executor], district, f"вул. Соборна, {i % 200 + 1}", f"Подія {i}", "Знос мереж",
                "Немає послуги", (event + timedelta(hours=rng.randint(2, 12))).strftime("%d.%m.%Y %H:%M"),
                event.strftime("%d.%m.%Y %H:%M"), "Диспетчер", "0500000000", "",
            ])
            made += 1


def timed(fn):  # noqa: ANN001, ANN201
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def one_run(url: str, export: Path, settings_env: dict[str, str]) -> dict[str, float]:
    settings = load(environ=settings_env | {"OUTAGES_DATABASE_URL": url})
    engine = db.engine_for(settings)
    db.upgrade(engine)
    now = datetime(2026, 12, 31, 12, 0).astimezone()
    out = {}
    out["read"], table = timed(lambda: read_file(export))
    out["check"], _ = timed(lambda: check(engine, table, settings))
    out["first sync"], first = timed(lambda: sync(engine, read_file(export), settings, now))
    out["unchanged re-sync"], again = timed(lambda: sync(engine, read_file(export), settings, now))
    assert again.counts["unchanged"] == sum(first.counts[k] for k in ("new", "updated", "resolved", "rejected"))
    out["new records"] = first.counts["new"]
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.csv"
        generate(export, args.rows)
        targets = {"sqlite": lambda i: f"sqlite:///{tmp}/bench{i}.db"}
        try:
            create_engine(args.postgres).connect().close()
            targets["postgresql"] = None  # a fresh schema per run, below
        except Exception as exc:  # noqa: BLE001
            print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        for name in targets:
            runs = []
            for i in range(args.runs):
                if name == "sqlite":
                    runs.append(one_run(targets[name](i), export, {}))
                    continue
                schema = f"bench_{uuid.uuid4().hex[:8]}"
                admin = create_engine(args.postgres)
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                try:
                    runs.append(one_run(f"{args.postgres}?options=-csearch_path%3D{schema}", export, {}))
                finally:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
            print(f"\n{name}: {args.rows} rows, {runs[0]['new records']:.0f} new records, median of {args.runs} runs")
            for key in ("read", "check", "first sync", "unchanged re-sync"):
                values = [r[key] for r in runs]
                print(f"  {key:<18} median {statistics.median(values):6.3f} s   "
                      f"(min {min(values):.3f}, max {max(values):.3f})")


if __name__ == "__main__":
    main()
