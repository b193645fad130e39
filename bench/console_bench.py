"""Benchmark: the contact centre's console at a city's scale (issue 19): `/ops` with 5,000 active records and
50,000 stored, the record page `/ops/records/<n>` of a busy record (thousands of messages) and of a quiet one, and
the audit trail with 1,000,000 rows answering a record's story, a person's actions and a day.

Not a test: it prints medians of several runs, on a fresh SQLite database (and PostgreSQL with --postgres).
`/ops` and the record pages are asked through Flask's test client, signed in (the session check included); the
audit's pages through outages/console/audit.page, as /ops/audit and `outages audit --record N` read them.

    .venv/bin/python bench/console_bench.py [--audit 1000000] [--runs 7] [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from console_scale import fill_console
from sqlalchemy import text
from stores import on_each_store

from outages import db
from outages.console import audit as trail
from outages.console import people
from outages.db import bulk_insert
from outages.schema import audit, delivery_attempts, events, outbox
from outages.settings import load

NOW = datetime(2026, 11, 22, 21, 0, tzinfo=timezone.utc)
PASSWORD = "a bench pass phrase"
BUSY = 49_990  # an active record told to everyone: see busy_record()
OFFICIALS, RESIDENTS, UPDATES, ACTIONS = 3_000, 30_000, 500, 1_000


def fill(engine, active: int, stored: int, audit_rows: int) -> None:
    fill_console(engine, NOW, active, stored)  # the same city as the scale test of /ops
    rng = random.Random(19)
    actors = [f"operator{i}@example.org" for i in range(20)]
    actions = ("record_correct", "record_cancel", "relay_by_phone", "message_resend", "login")
    year = NOW - timedelta(days=365)
    for start in range(0, audit_rows, 100_000):
        chunk = [{"at": year + timedelta(seconds=31.5 * n), "actor": rng.choice(actors),
                  "action": rng.choice(actions), "object": f"record:{rng.randint(1, stored)}",
                  "reason": "телефонний дзвінок", "before": {"status": "active"}, "after": {"status": "cancelled"}}
                 for n in range(start, min(start + 100_000, audit_rows))]
        with engine.begin() as conn:
            bulk_insert(conn, audit, chunk)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def busy_record(engine, number: int) -> None:
    """One active record many people heard of: 3,000 messages to officials, the channel and webhooks (each with
    its delivery attempt; 100 failed, 200 asking to relay), 30,000 to residents, 500 updates and 1,000 people's
    actions, on top of the city's 20,000 messages and 1,000,000 audit rows."""
    channels = ("email", "email", "email", "telegram", "webhook")
    mail = [{
        "id": 1_000_000 + i, "dedup_key": f"busy:{i}", "record_number": number, "kind": "event",
        "recipient": f"official{i}@example.org", "recipient_name": f"Посадовець {i}", "role": "district_duty",
        "subject": f"[ОНОВЛЕНО] Водопостачання · вул. Соборна, {i}", "text_body": "t", "html_body": "h",
        "message_id": f"<busy{i}@example.org>", "relay": i % 15 == 0, "status": "failed" if i % 30 == 0 else "sent",
        "attempts": 1, "created_at": NOW - timedelta(minutes=i % 600), "next_attempt_at": NOW,
        "sent_at": None if i % 30 == 0 else NOW - timedelta(minutes=i % 600),
        "failed_at": NOW if i % 30 == 0 else None, "last_error": "550 mailbox unavailable" if i % 30 == 0 else None,
        "channel": channels[i % len(channels)], "subscription_id": None} for i in range(OFFICIALS)]
    mail += [{
        "id": 2_000_000 + i, "dedup_key": f"busy-resident:{i}", "record_number": number, "kind": "event",
        "recipient": f"r{i}@example.org", "recipient_name": "", "role": "subscriber", "subject": "s",
        "text_body": "t", "html_body": "h", "message_id": f"<r{i}@example.org>", "relay": False,
        "status": "sent", "attempts": 1, "created_at": NOW - timedelta(hours=2), "next_attempt_at": NOW,
        "sent_at": NOW - timedelta(hours=1), "failed_at": None, "last_error": None,
        "channel": ("email", "telegram")[i % 2], "subscription_id": i + 1}
        for i in range(RESIDENTS)]
    tries = [{"outbox_id": 1_000_000 + i, "worker": "bench", "started_at": NOW - timedelta(minutes=i % 600),
              "finished_at": NOW - timedelta(minutes=i % 600), "result": "failed" if i % 30 == 0 else "sent",
              "answer": "250 2.0.0 Ok", "error": None, "duration_ms": 12.0} for i in range(OFFICIALS)]
    updates = [{"record_number": number, "kind": "updated", "at": NOW - timedelta(minutes=UPDATES - i),
                "created_at": NOW - timedelta(minutes=UPDATES - i), "revision": i + 2,
                "data": {"text": f"Оновлення {i}", "changed": {"expected_end": ["a", "b"]}}} for i in range(UPDATES)]
    acts = [{"at": NOW - timedelta(minutes=ACTIONS - i), "actor": "operator1@example.org", "action": "record_correct",
             "object": f"record:{number}", "reason": f"уточнення {i}", "before": {"summary": "a"},
             "after": {"summary": "b"}} for i in range(ACTIONS)]
    with engine.begin() as conn:
        for start in range(0, len(mail), 10_000):
            bulk_insert(conn, outbox, mail[start:start + 10_000])
        bulk_insert(conn, delivery_attempts, tries)
        bulk_insert(conn, events, updates)
        bulk_insert(conn, audit, acts)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('outbox', 'id'), (SELECT max(id) FROM outbox))"))
            conn.execute(text("ANALYZE"))


def median_ms(work, runs: int) -> tuple[float, list[int]]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), [round(t) for t in timings]


def bench(url: str, audit_rows: int, runs: int) -> None:
    from web import create_app

    settings = load({"OUTAGES_DATABASE_URL": url, "OUTAGES_SECRET_KEY": "bench"})
    engine = db.engine_for(settings)
    db.upgrade(engine)
    started = time.perf_counter()
    fill(engine, 5_000, 50_000, audit_rows)
    busy_record(engine, BUSY)
    print(f"{engine.dialect.name}: filled 50,000 records (5,000 active), 20,000 messages, {audit_rows:,} audit rows"
          f"; record №{BUSY} with {OFFICIALS:,} messages to officials, {RESIDENTS:,} to residents, {UPDATES} updates"
          f" and {ACTIONS:,} actions; in {time.perf_counter() - started:.0f} s")
    with engine.begin() as conn:
        people.add(conn, "bench@example.org", "operator", PASSWORD, now=NOW, actor="cli:bench")
    app = create_app(settings, engine=engine)
    app.extensions["outages"].clock = lambda: NOW
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ops/login").get_data(as_text=True))[1]
    assert client.post("/ops/login", data={"email": "bench@example.org", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 303

    def ops() -> None:
        assert client.get("/ops").status_code == 200

    median, all_runs = median_ms(ops, runs)
    print(f"  GET /ops: median {median:.1f} ms {all_runs}")
    for label, number in ((f"a busy record (№{BUSY})", BUSY), ("a quiet record (№49000)", 49_000)):
        def record_page(number: int = number) -> None:
            page = client.get(f"/ops/records/{number}")
            assert page.status_code == 200 and f"Запис №{number}" in page.get_data(as_text=True)

        median, all_runs = median_ms(record_page, runs)
        print(f"  GET /ops/records/<n>, {label}: median {median:.1f} ms {all_runs}")
    with engine.connect() as conn:
        told = conn.execute(text("SELECT count(*) FROM outbox WHERE record_number = :n AND subscription_id IS NULL"
                                 " AND role <> 'subscriber'"), {"n": BUSY}).scalar()
    busy = client.get(f"/ops/records/{BUSY}").get_data(as_text=True)
    assert f'Повідомлення <span class="count">({told})</span>' in busy and busy.count("Надіслати повторно</button>") > 0
    rng = random.Random(7)
    with engine.connect() as conn:
        for name, filters in (
                ("a record's story", lambda: trail.Filters(record=rng.randint(1, 50_000))),
                ("a person's actions (newest 50)", lambda: trail.Filters(actor="operator7@example.org")),
                ("a day (newest 50)", lambda: trail.Filters(since=NOW - timedelta(days=100),
                                                            until=NOW - timedelta(days=99)))):
            median, all_runs = median_ms(lambda: trail.page(conn, filters()), runs)
            print(f"  audit, {name}: median {median:.1f} ms {all_runs}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", help="also on this PostgreSQL database (a schema of its own, dropped after)")
    args = parser.parse_args()
    on_each_store(bench, args.audit, args.runs, args.postgres)


if __name__ == "__main__":
    main()
