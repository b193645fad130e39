"""Benchmark: first sync and unchanged re-sync of a generated export, SQLite and PostgreSQL in one run.

Not a test: it prints medians of several runs, each in a fresh SQLite database and a fresh PostgreSQL schema.
Every sync runs in its own process, so each figure comes with that process's peak memory (ru_maxrss): the first
sync in one process, the unchanged re-sync of the same store in the next.

Targets on the 2-core machine: unchanged re-sync of 10k rows <= 0.2 s and of 100k <= 2 s; first sync
of 10k <= 2 s on both stores; first sync of 100k <= 15 s with peak memory <= 400 MiB.

    .venv/bin/python bench/sync_bench.py [--rows 10000] [--runs 5] [--postgres URL]
    .venv/bin/python bench/sync_bench.py --scale 1000,10000,50000,100000 --runs 1     # the scaling table

The generator makes what a city would see over a year: stamps in the past, emergencies recorded minutes after
the event (some late), planned works announced days ahead (some too late), most records followed by an update
and/or a resolution from the same utility, and a few broken rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADERS = [
    "Позначка часу", "Виконавець", "Тип", "Дія", "Номер повідомлення", "Послуга", "Район", "Адреси",
    "Коротка інформація", "Причини виникнення", "Наслідки для мешканців", "Термін ліквідації",
    "Час настання події", "Відповідальна особа", "Контактний телефон", "Адреса електронної пошти",
]
UTILITIES = {"КП «Водоканал»": "Водопостачання", "КП «Теплоенерго»": "Теплопостачання",
             "АТ «Обленерго»": "Електропостачання", "КП «Ліфтсервіс»": "Ліфти", "КП «Автодор»": "Дороги і транспорт"}
DISTRICTS = ["Заводський", "Інгульський", "Корабельний", "Центральний"]
STREETS = ["вул. Соборна", "просп. Центральний", "вул. Садова", "вул. Велика Морська", "вул. Океанівська",
           "вул. Заводська", "просп. Миру", "вул. Фалеєвська", "пров. Парковий", "бульв. Морський"]
KYIV = ZoneInfo("Europe/Kyiv")
# The bench's clock: the sheet holds the year before it.
NOW = datetime(2026, 12, 31, 12, 0, tzinfo=KYIV)


def wall(at: datetime, seconds: bool = False) -> str:
    """The sheet's day-first local time of an instant (arithmetic stays on UTC: the spring-forward hour exists
    on no Kyiv clock)."""
    return at.astimezone(KYIV).strftime("%d.%m.%Y %H:%M:%S" if seconds else "%d.%m.%Y %H:%M")


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """`rows` form responses spread over the year before NOW, in submission order (as Google Forms writes them).

    Each incident is a new message (70 % emergencies, 30 % planned works); about 30 % of them get an update with a
    new expected end, about 90 % a resolution by the same utility. About 2 % of new messages are broken (an
    unknown district): they get no number, so nobody follows them up."""
    rng = random.Random(seed)
    span = timedelta(days=365)
    begin = NOW.astimezone(timezone.utc) - span - timedelta(days=2)
    incidents = max(1, round(rows / 2.1))
    step = span / incidents
    entries: list[tuple[datetime, int, list[str]]] = []  # (recorded, order, cells); follow-ups get their number later
    follow: list[tuple[datetime, int, int, str, str, datetime | None]] = []
    for i in range(incidents):
        recorded = begin + step * i + timedelta(seconds=rng.randint(0, 600))
        executor = rng.choice(list(UTILITIES))
        planned = rng.random() < 0.30
        if planned:
            event = recorded + timedelta(hours=rng.choice([24, 48, 80, 96, 120, 168, 240]))
            end = event + timedelta(hours=rng.randint(4, 10))
        else:
            event = recorded - timedelta(minutes=rng.choice([3, 8, 12, 17, 25, 28, 35, 50, 90]))
            end = event + timedelta(hours=rng.randint(2, 12))
        if any(map(_ambiguous, (recorded, event, end))):
            continue  # the autumn hour that happens twice: a sheet's wall time cannot say which (one night a year)
        broken = rng.random() < 0.02
        district = "Південний" if broken else rng.choice(DISTRICTS)
        street = rng.choice(STREETS)
        entries.append((recorded, len(entries), [
            wall(recorded, seconds=True), executor, "Планові роботи" if planned else "Аварійна ситуація", "", "",
            UTILITIES[executor], district, f"{street}, {rng.randint(1, 120)}, {rng.randint(121, 200)}",
            f"{'Планові роботи' if planned else 'Аварія'} №{i}: {rng.choice(['порив', 'заміна', 'ремонт', 'огляд'])}"
            f" на {street}", rng.choice(["Знос мереж", "Планова реконструкція", "Пошкодження кабелю"]),
            rng.choice(["Немає послуги", "Знижений тиск", "Об'їзд"]), wall(end), wall(event),
            "Черговий диспетчер", f"050{rng.randint(1000000, 9999999)}", "",
        ]))
        if broken:
            continue
        start = max(recorded, event)
        if rng.random() < 0.30:
            moved = end + timedelta(hours=rng.randint(1, 6))
            follow.append((start + timedelta(minutes=rng.randint(30, 180)), i, len(entries) - 1, executor,
                           "Оновлення", moved))
        if rng.random() < 0.90:
            follow.append((start + timedelta(hours=rng.randint(3, 14)), i, len(entries) - 1, executor,
                           "Ліквідовано", None))
    for at, i, _, executor, action, moved in follow:
        if at >= NOW - timedelta(minutes=5) or _ambiguous(at) or (moved is not None and _ambiguous(moved)):
            continue
        cells = [wall(at, seconds=True), executor, "", action, "#{}".format(i), "", "", "", "", "", "", "", "", "",
                 "", ""]
        if moved is not None:
            cells[11] = wall(moved)
            cells[8] = "Уточнено термін"
        else:
            cells[8] = "Відновлено"
        entries.append((at, len(entries), cells))
    entries.sort(key=lambda e: (e[0], e[1]))
    entries = entries[:rows]
    # Numbers are what the hub gives new messages in sheet order; follow-ups quote them.
    number_of: dict[int, int] = {}
    made = 0
    for _, _, cells in entries:
        if cells[3] == "" and cells[6] != "Південний":
            made += 1
            incident = int(cells[8].split("№", 1)[1].split(":", 1)[0])
            number_of[incident] = made
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for _, _, cells in entries:
            if cells[4].startswith("#"):
                incident = int(cells[4][1:])
                if incident not in number_of:
                    continue  # its new message fell beyond the cut
                cells[4] = str(number_of[incident])
            writer.writerow(cells)


def _ambiguous(at: datetime) -> bool:
    local = at.astimezone(KYIV).replace(tzinfo=None)
    return local.replace(tzinfo=KYIV, fold=0).utcoffset() != local.replace(tzinfo=KYIV, fold=1).utcoffset()


# --- one measurement, in its own process ----------------------------------------------------------------------

def measure(url: str, export: Path) -> dict[str, float]:
    from outages import db
    from outages.gcpause import collector_paused
    from outages.officials import event_mail as outbox  # noqa: F401  (loaded in a worker before its first sync)
    from outages.records.sync import sync
    from outages.settings import load
    from sheets.files import read_file

    settings = load(environ={"OUTAGES_DATABASE_URL": url})
    engine = db.engine_for(settings)
    db.upgrade(engine)
    engine.connect().close()  # a worker keeps its connection: do not time the first connect
    with collector_paused():  # as the worker's cycle does, around the read and the sync
        began = time.perf_counter()
        result = sync(engine, read_file(export), settings, NOW)
        seconds = time.perf_counter() - began
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib": peak, **{k: float(v) for k, v in result.counts.items()}}


def run_child(url: str, export: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--measure", url, str(export)], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"measurement failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_run(store: str, export: Path, tmp: str, postgres: str) -> dict[str, dict[str, float]]:
    """A first sync and an unchanged re-sync of the same fresh store, each in a new process."""
    if store == "sqlite":
        url = f"sqlite:///{tmp}/bench_{uuid.uuid4().hex[:8]}.db"
        first = run_child(url, export)
        again = run_child(url, export)
        return {"first": first, "unchanged": again}
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{postgres}?options=-csearch_path%3D{schema}"
        first = run_child(url, export)
        again = run_child(url, export)
        return {"first": first, "unchanged": again}
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--scale", default="", help="comma-separated row counts, e.g. 1000,10000,50000,100000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--measure", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return
    sizes = [int(n) for n in args.scale.split(",") if n.strip()] or [args.rows]
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if "postgresql" in stores:
        from sqlalchemy import create_engine

        try:
            create_engine(args.postgres).connect().close()
        except Exception as exc:  # noqa: BLE001
            print(f"postgresql skipped: {str(exc).splitlines()[0]}")
            stores.remove("postgresql")
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            export = Path(tmp) / f"export_{rows}.csv"
            generate(export, rows)
            for store in stores:
                runs = [one_run(store, export, tmp, args.postgres) for _ in range(args.runs)]
                first = runs[0]["first"]
                print(f"\n{store}: {rows} rows — {first['new']:.0f} new, {first['updated']:.0f} updated,"
                      f" {first['resolved']:.0f} resolved, {first['rejected']:.0f} rejected,"
                      f" {first['late']:.0f} late, {first['overdue']:.0f} overdue; median of {args.runs} runs",
                      flush=True)
                line = {"store": store, "rows": rows}
                for phase in ("first", "unchanged"):
                    seconds = [r[phase]["seconds"] for r in runs]
                    peak = [r[phase]["peak_mib"] for r in runs]
                    line[phase] = (statistics.median(seconds), statistics.median(peak))
                    print(f"  {phase + ' sync':<16} median {statistics.median(seconds):7.3f} s"
                          f"   (min {min(seconds):.3f}, max {max(seconds):.3f})"
                          f"   peak memory {statistics.median(peak):6.0f} MiB", flush=True)
                table.append(line)
    if len(table) > 1:
        print("\n| store | rows | first sync | peak | unchanged re-sync | peak |\n|---|---:|---:|---:|---:|---:|")
        for line in table:
            print(f"| {line['store']} | {line['rows']:,} | {line['first'][0]:.3f} s | {line['first'][1]:.0f} MiB"
                  f" | {line['unchanged'][0]:.3f} s | {line['unchanged'][1]:.0f} MiB |")


if __name__ == "__main__":
    main()
