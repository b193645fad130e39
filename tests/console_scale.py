"""The console's city at a year's scale, for the scale test of /ops (tests/test_ops_pages.py) and
bench/console_bench.py: one builder, so the test and the benchmark measure the same data."""

from __future__ import annotations

from datetime import datetime, timedelta

from outages.db import bulk_insert
from outages.schema import outbox, records, submissions


def fill_console(engine, now: datetime, active: int, stored: int) -> None:
    """`stored` records, `active` of them active emergencies (a fifth of those overdue), the rest resolved; a
    submission per record (one in ten rejected), and an outbox of 20,000 (1,000 failed, 500 unconfirmed relays)."""
    base = now - timedelta(minutes=7 * stored)
    rows, subs, mail = [], [], []
    for n in range(1, stored + 1):
        live = n > stored - active
        event = base + timedelta(minutes=7 * n)
        rows.append({
            "number": n, "executor": "КП «Водоканал»", "kind": "emergency", "service": "Водопостачання",
            "districts": ["Центральний"], "addresses": f"вул. Соборна, {n % 90 + 1}", "summary": f"Порив №{n}",
            "cause": "", "impact": "", "event_at": event,
            "expected_end": now - timedelta(hours=1) if live and n % 5 == 0 else now + timedelta(hours=n % 48 + 1),
            "first_recorded_at": event, "last_changed_at": event, "status": "active" if live else "resolved",
            "resolved_at": None if live else event + timedelta(hours=3), "deadline_met": True,
            "delay_minutes": 10.0, "lead_hours": None, "contact_name": "Диспетчер", "contact_phone": "0500000000",
            "reporter_email": "d@example.org", "revision": 1, "overdue_for": None})
        rejected = n % 10 == 0
        subs.append({
            "source": "year", "row_key": f"row:{n}", "row_number": n + 1, "content_hash": f"{n:064d}",
            "raw_hash": None, "first_recorded_at": event, "status": "rejected" if rejected else "accepted",
            "action": None if rejected else "new", "record_number": None if rejected else n,
            "verdict": {"row": n + 1, "status": "rejected", "errors": ["Район: «Південний» невідомий"]} if rejected
            else {"row": n + 1, "status": "accepted"},
            "first_seen_at": event, "last_seen_at": event,
            "detail": {"contact_name": f"Диспетчер {n}", "kind": "emergency"} if rejected else None})
    for i in range(20_000):
        number = stored - (i % active)
        status = "failed" if i < 1_000 else "sent"
        relay = 1_000 <= i < 1_500
        mail.append({
            "dedup_key": f"scale:{i}", "record_number": number, "kind": "event", "recipient": f"o{i}@example.org",
            "recipient_name": "", "role": "district_duty", "subject": "s", "text_body": "t", "html_body": "h",
            "message_id": f"<{i}@example.org>", "relay": relay, "status": status, "attempts": 1,
            "created_at": now - timedelta(hours=3), "next_attempt_at": now - timedelta(hours=3),
            "sent_at": None if status == "failed" else now - timedelta(hours=2),
            "failed_at": now - timedelta(hours=1) if status == "failed" else None,
            "last_error": "421 try later" if status == "failed" else None, "channel": "email"})
    with engine.begin() as conn:
        for start in range(0, stored, 10_000):
            bulk_insert(conn, records, rows[start:start + 10_000])
            bulk_insert(conn, submissions, subs[start:start + 10_000])
        bulk_insert(conn, outbox, mail)
