"""Benchmark: what one resident's message to the bot costs, with ~5,000 active records (issue 22: an address reply
cost 1.23 s of CPU at 5,080, so a flood of messages was a denial of service).

Not a test: it prints medians of several runs, on a fresh SQLite database (and PostgreSQL with --postgres).
Measured, each in a transaction rolled back afterwards (the store stays as filled):
1. the bot's reply to an address (`bot.replies`: the street matcher, the subscription, and what is off there now
   and planned: one SQL search over the parsed addresses, outages.places.index.condition), wall and CPU time;
2. a flood of 1,000 messages from one chat through the per-chat limit (10 answers a minute, then one
   «зачекайте» and silence): CPU time for the whole flood.

    .venv/bin/python bench/bot_bench.py [--records 5080] [--runs 7] [--postgres URL]
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
from outages.places.index import reindex
from outages.residents.bot import ChatLimit, replies
from outages.schema import records
from outages.settings import load

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc)
ADDRESSES = ("Соборна 14", "Потьомкінська 130", "Фалеевская 5", "Неіснуюча 5")


def fill(engine, settings, count: int) -> None:
    """`count` active records (emergencies and planned works) over the catalogue's streets."""
    rng = random.Random(7)
    streets = [s.full_name for s in settings.streets.entries]
    rows = []
    for n in range(1, count + 1):
        at = NOW - timedelta(minutes=n)
        planned = n % 3 == 0
        lo = rng.randint(1, 150)
        street = "вул. Соборна" if n % 50 == 0 else rng.choice(streets)
        rows.append({
            "number": n, "executor": "КП «Водоканал»", "kind": "planned" if planned else "emergency",
            "service": "Водопостачання", "districts": ["Центральний"],
            "addresses": f"{street}, {lo}-{lo + rng.randint(2, 60)}", "summary": "Порив", "cause": "", "impact": "",
            "event_at": at + (timedelta(days=1) if planned else timedelta()),
            "expected_end": at + timedelta(days=2), "first_recorded_at": at, "last_changed_at": at,
            "status": "active", "resolved_at": None, "deadline_met": True, "delay_minutes": 10.0,
            "lead_hours": 30.0 if planned else None, "contact_name": "", "contact_phone": "", "reporter_email": "",
            "revision": 1, "overdue_for": None,
        })
    with engine.begin() as conn:
        bulk_insert(conn, records, rows)
        reindex(conn, settings.streets)


def update(number: int, chat: int, said: str) -> dict:
    return {"update_id": number, "message": {"message_id": number, "text": said,
                                             "chat": {"id": chat, "type": "private"}}}


def rolled_back(engine, action):
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            return action(conn)
        finally:
            outer.rollback()


def measure(action, runs: int) -> tuple[float, float]:
    """Medians over `runs` of (wall ms, CPU ms)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def bench(url: str, count: int, runs: int) -> None:
    settings = load({})
    engine = create_engine(url)
    db.upgrade(engine)
    fill(engine, settings, count)
    print(f"{engine.dialect.name}: {count} active records")
    for said in ADDRESSES:
        answer = rolled_back(engine, lambda conn, said=said: replies(conn, update(1, 4242, said), settings, NOW))
        wall, cpu = measure(lambda said=said: rolled_back(
            engine, lambda conn: replies(conn, update(1, 4242, said), settings, NOW)), runs)
        lines = answer[0]["text_body"].count("\n") + 1
        print(f"  reply to «{said}»: {wall:.1f} ms wall, {cpu:.1f} ms CPU (median of {runs}; {lines} lines)")

    def flood(conn) -> int:
        limit = ChatLimit()
        return sum(len(replies(conn, update(n, 4343, f"Соборна {n % 150 + 1}"), settings, NOW, limit))
                   for n in range(1, 1001))

    answered = rolled_back(engine, flood)
    wall, cpu = measure(lambda: rolled_back(engine, flood), max(3, runs // 2))
    print(f"  a flood of 1,000 messages from one chat: {answered} answers, {wall:.0f} ms wall, {cpu:.0f} ms CPU "
          f"in all (median of {max(3, runs // 2)})")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5080)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", help="also on this PostgreSQL database (a schema of its own, dropped after)")
    args = parser.parse_args()
    on_each_store(bench, args.records, args.runs, args.postgres)


if __name__ == "__main__":
    main()
