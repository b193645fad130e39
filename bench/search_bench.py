"""Benchmark: address search over 50,000 stored records (5,000 active), in SQL over the parsed addresses.

Not a test: it prints medians of several runs, on a fresh SQLite database (and PostgreSQL with --postgres).
Measured: reading every record's addresses again (`outages init` after a catalogue change), parsing a resident's
query (Cyrillic, and Latin letters as on the English pages; the mean of 1,000 parses), and selecting the records
that cover it (`Filters.records`, what `/?q=` does before rendering).

    .venv/bin/python bench/search_bench.py [--records 50000] [--runs 7] [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine
from stores import on_each_store

from outages import db
from outages.db import bulk_insert
from outages.places.addresses import parse_query
from outages.places.index import reindex
from outages.places.search import Filters
from outages.schema import records
from outages.settings import load

QUERIES = ("Соборна 14", "Потьомкінська 130", "Фалеевская 5", "потьомкинська 131", "Соборна", "Безіменна17 5",
           "Неіснуюча 5", "Soborna 14", "vul. Potiomkinska 130", "Sobornaya 5", "Neisnuiucha 5")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc)


def addresses(rng: random.Random, streets: list[str]) -> str:
    parts = []
    for _ in range(rng.choice((1, 1, 1, 2))):
        street = rng.choice(streets) if rng.random() < 0.95 else f"вул. Безіменна{rng.randint(1, 300)}"
        form = rng.random()
        lo = rng.randint(1, 150)
        if form < 0.4:
            parts.append(f"{street}, {lo}-{lo + rng.randint(2, 60)}")
        elif form < 0.7:
            parts.append(f"{street}, " + ", ".join(str(lo + 2 * k) for k in range(rng.randint(1, 4))))
        elif form < 0.8:
            parts.append(f"{street}, непарні {lo | 1}-{(lo | 1) + 30}")
        elif form < 0.9:
            parts.append(f"{street}, {lo}а, {lo}/1")
        else:
            parts.append(street)
    return "; ".join(parts)


def fill(engine, settings, count: int) -> float:
    rng = random.Random(7)
    streets = [s.full_name for s in settings.streets.entries]
    rows = []
    for n in range(1, count + 1):
        at = NOW - timedelta(hours=count - n)
        active = n > count - count // 10
        rows.append({
            "number": n, "executor": "КП «Водоканал»", "kind": "emergency", "service": "Водопостачання",
            "districts": ["Центральний"], "addresses": addresses(rng, streets), "summary": "Порив", "cause": "",
            "impact": "", "event_at": at, "expected_end": at + timedelta(hours=6), "first_recorded_at": at,
            "last_changed_at": at, "status": "active" if active else "resolved",
            "resolved_at": None if active else at + timedelta(hours=5), "deadline_met": True, "delay_minutes": 10.0,
            "lead_hours": None, "contact_name": "", "contact_phone": "", "reporter_email": "", "revision": 1,
            "overdue_for": None,
        })
    with engine.begin() as conn:
        bulk_insert(conn, records, rows)
    started = time.perf_counter()
    with engine.begin() as conn:
        reindex(conn, settings.streets)
    return time.perf_counter() - started


def median_ms(action, runs: int, calls: int = 1) -> float:
    """The median over `runs` of the mean time of `calls` calls, in ms."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(calls):
            action()
        times.append((time.perf_counter() - started) * 1000 / calls)
    return statistics.median(times)


def bench(url: str, count: int, runs: int) -> None:
    settings = load({})
    engine = create_engine(url)
    db.upgrade(engine)
    took = fill(engine, settings, count)
    print(f"{engine.dialect.name}: {count} records; re-reading every record's addresses: {took:.2f} s")
    for typed in QUERIES:
        filters = Filters(query=typed, streets=settings.streets)
        parse = median_ms(lambda: parse_query(typed, settings.streets), runs, calls=1000)
        with engine.connect() as conn:
            found = filters.records(conn, NOW)
            search = median_ms(lambda: filters.records(conn, NOW), runs)
        print(f"  «{typed}»: {len(found):5d} records; parse {parse * 1000:.1f} µs, select {search:.1f} ms "
              f"(median of {runs})")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", help="also on this PostgreSQL database (a schema of its own, dropped after)")
    args = parser.parse_args()
    on_each_store(bench, args.records, args.runs, args.postgres)


if __name__ == "__main__":
    main()
