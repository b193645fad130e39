"""A blackout's reports through the intake (issue 20): 1,000 residents' reports within a minute against a store of
50,000 records, 10,000 of them active, timed per call of `outages.reports.intake.submit` (each in its own
transaction, the commit included), on SQLite and, with --postgres, PostgreSQL.

    .venv/bin/python bench/reports_bench.py [--reports 1000] [--active 10000] [--stored 50000] [--runs 3]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--profile]

The store is written straight into the tables (records, their parsed addresses and districts), over the default
street catalogue: every street carries 40 live records of each service, spans of 7 houses covering houses 1-280,
and resolved records spread over houses 1-600 (not live: they must not take a report). Half the reports name a
house a live record of their service covers (it must take them at once); the other half name houses 401-600, which
no live record covers, spread so that crowds form: 10 (street, service) pairs of 30 reports, 20 of exactly
`reports.crowd_min` (3), 40 of 2 and 60 of 1. The clock is pinned: report i arrives at 12:00 + i × 60 ms (city
time, in the contact centre's hours).

Printed per store: intake p50/p99 (median over the runs; target p99 ≤ 100 ms), and the checks: every known-house
report attached to a live record of its service whose span covers the house, every other one not attached, one
report_signals row per (street, service) pair of ≥ crowd_min reports and none for the others, and one outbox row
of kind report_signal per signal and recipient (control told of every signal, each utility of its own). Each run
starts from the same store (the reports, signals and outbox rows of the last run are deleted).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import delete, select  # noqa: E402
from stores import on_each_store  # noqa: E402

from outages import db  # noqa: E402
from outages.db import bulk_insert  # noqa: E402
from outages.officials import directory  # noqa: E402
from outages.reports.intake import Intake, submit  # noqa: E402
from outages.reports.options import report_options  # noqa: E402
from outages.schema import (  # noqa: E402
    outbox,
    record_addresses,
    record_districts,
    records,
    report_signals,
    reports,
)
from outages.settings import load  # noqa: E402

SPAN = 7  # houses per live record's span
PER_PAIR = 40  # live records per (street, service): houses 1-280
UNKNOWN_HOUSES = (401, 600)
CROWDS = ((10, 30), (20, 3), (40, 2), (60, 1))  # (pairs, reports each) of the unknown half: 500 reports


def seed(engine, settings, active: int, stored: int, now: datetime) -> None:
    """`stored` records, the last `active` live; written in bulk with their parsed addresses and districts."""
    streets = settings.streets.entries
    services = settings.services.names
    utilities = settings.utilities.names or ["КП «Водоканал»"]
    rows, places, spans = [], [], []
    for number in range(1, stored + 1):
        i = number - (stored - active) - 1  # 0.. for the live ones
        is_active = i >= 0
        street = streets[number % len(streets)]
        service = services[(number // len(streets)) % len(services)]
        if is_active:
            lo = 1 + (i // (len(streets) * len(services))) % PER_PAIR * SPAN
            planned = i % 3 == 0
            event_at = now + timedelta(hours=2 + i % 40) if planned else now - timedelta(minutes=20 + i % 600)
            recorded, end = (now - timedelta(days=2), event_at + timedelta(hours=8)) if planned else \
                (event_at + timedelta(minutes=10), now + timedelta(hours=3 + i % 20))
        else:
            lo = 1 + number % 86 * SPAN  # up to house 602: the resolved ones cover the unknown houses too
            planned = number % 3 == 0
            event_at = now - timedelta(hours=(stored - number) // 4 + 30)
            recorded, end = event_at + timedelta(minutes=15), event_at + timedelta(hours=6)
        hi = lo + SPAN - 1
        resolved = None if is_active else end
        rows.append({
            "number": number, "executor": utilities[number % len(utilities)],
            "kind": "planned" if planned else "emergency", "service": service, "districts": list(street.districts),
            "addresses": f"{street.type} {street.name}, {lo}-{hi}", "summary": f"Подія №{number}: порив мережі",
            "cause": "Зношеність мережі", "impact": "Немає послуги у кількох будинках", "event_at": event_at,
            "expected_end": end, "first_recorded_at": recorded, "last_changed_at": resolved or recorded,
            "status": "active" if is_active else "resolved", "resolved_at": resolved, "deadline_met": True,
            "delay_minutes": None if planned else 10.0, "lead_hours": 96.0 if planned else None,
            "contact_name": "Диспетчер", "contact_phone": "0500000000", "reporter_email": "",
            "revision": 1 if is_active else 2, "overdue_for": None})
        places += [{"record_number": number, "district": name} for name in street.districts]
        spans.append({"record_number": number, "position": 0, "street_key": street.key, "street": street.full_name,
                      "known": True, "whole": False, "lo": lo, "hi": hi, "parity": None, "suffix": ""})
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            bulk_insert(conn, records, rows[start:start + 5000])
            bulk_insert(conn, record_addresses, spans[start:start + 5000])
        bulk_insert(conn, record_districts, places)


def plan(engine, settings, count: int, now: datetime, rng: random.Random) -> list[tuple[Intake, str]]:
    """The reports, in arrival order: (intake, "known" | "unknown")."""
    options = report_options(settings)
    codes = {s.name: s.code for s in options.services}
    with engine.connect() as conn:
        live = conn.execute(select(records.c.service, record_addresses.c.street_key, record_addresses.c.lo,
                                   record_addresses.c.hi)
                            .join(record_addresses, record_addresses.c.record_number == records.c.number)
                            .where(records.c.status == "active")).all()
    by_key = {s.key: s for s in settings.streets.entries}
    out: list[tuple[Intake, str]] = []
    for n in range(count // 2):
        service, key, lo, hi = rng.choice(live)
        out.append((Intake(service_code=codes[service], address=f"{by_key[key].name} {rng.randint(lo, hi)}",
                           description="Немає послуги", client=f"bench-known-{n}", source="web"), "known"))
    pairs = [(s, c.code) for s in settings.streets.entries for c in options.services]
    rng.shuffle(pairs)
    for pairs_n, each in CROWDS:  # for 1,000 reports; scaled for another count
        for street, code in (pairs.pop() for _ in range(max(1, pairs_n * count // 1000))):
            for _ in range(each):
                house = rng.randint(*UNKNOWN_HOUSES)
                out.append((Intake(service_code=code, address=f"{street.name} {house}", description="Аварія?",
                                   client=f"bench-unknown-{len(out)}", source="bot",
                                   chat_id=str(900_000 + len(out))), "unknown"))
    rng.shuffle(out)
    return out


def clear(engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(outbox))
        conn.execute(delete(report_signals))
        conn.execute(delete(reports))


def one_run(engine, settings, planned: list[tuple[Intake, str]], now: datetime,
            profile: cProfile.Profile | None) -> tuple[list[float], list[int]]:
    times, ids = [], []
    for n, (intake, _) in enumerate(planned):
        at = now + timedelta(milliseconds=60 * n)
        start = time.perf_counter()
        if profile:
            profile.enable()
        with engine.begin() as conn:
            received = submit(conn, settings, intake, at)
        if profile:
            profile.disable()
        times.append((time.perf_counter() - start) * 1000)
        ids.append(received.report.id)
    return times, ids


def check(engine, settings, planned: list[tuple[Intake, str]], ids: list[int]) -> list[str]:
    """What went wrong (empty: every check holds); prints the counts."""
    problems = []
    options = report_options(settings)
    names = {s.code: s.name for s in options.services}
    with engine.connect() as conn:
        stored = {r.id: r for r in conn.execute(select(reports)).all()}
        spans: dict[int, list] = {}
        for row in conn.execute(select(record_addresses.c.record_number, record_addresses.c.street_key,
                                       record_addresses.c.lo, record_addresses.c.hi)):
            spans.setdefault(row.record_number, []).append(row)
        live = dict(conn.execute(select(records.c.number, records.c.service)
                                 .where(records.c.status == "active")).all())
        signals = conn.execute(select(report_signals)).all()
        mails = conn.execute(select(outbox.c.dedup_key, outbox.c.recipient).where(
            outbox.c.kind == "report_signal")).all()
    attached = unattached = 0
    crowd = Counter()
    for (intake, kind), report_id in zip(planned, ids):
        report = stored[report_id]
        if kind == "known":
            number = report.record_number
            covers = number in live and live[number] == names[report.service_code] and any(
                s.street_key == report.street_key and s.lo <= report.house <= s.hi for s in spans.get(number, ()))
            attached += covers
            if not covers:
                problems.append(f"known report {report_id} ({report.address}) attached to {number}")
        else:
            unattached += report.record_number is None
            if report.record_number is not None:
                problems.append(f"unknown report {report_id} ({report.address}) attached to {report.record_number}")
            crowd[(report.street_key, report.service_code)] += 1
    expected = {pair for pair, n in crowd.items() if n >= options.crowd_min}
    raised = Counter((s.street_key, s.service_code) for s in signals)
    if set(raised) != expected or any(n != 1 for n in raised.values()):
        problems.append(f"signals: {len(raised)} pairs raised ({sum(raised.values())} rows), {len(expected)} expected")
    per_signal = Counter(key.split(":")[1] for key, _ in mails)
    per_key = Counter(key for key, _ in mails)
    recipients = Counter(recipient for _, recipient in mails)
    if set(per_signal) != {str(s.id) for s in signals} or any(n != 1 for n in per_key.values()):
        problems.append(f"signal mails: {len(per_key)} rows for {len(per_signal)} signals of {len(signals)}")
    control = {r.email.lower() for r in directory.load(settings) if r.role == "control"}
    if not control or any(recipients[address] != len(signals) for address in control):
        problems.append(f"control is not told of every signal once: {dict(recipients)}")
    print(f"    checks: known attached to a covering live record {attached}/{len(planned) // 2}; unknown not "
          f"attached {unattached}/{len(planned) - len(planned) // 2}; crowds raised {len(raised)} "
          f"(expected {len(expected)}; rows {len(signals)}); report_signal outbox rows {len(mails)} = "
          + ", ".join(f"{r}: {n}" for r, n in sorted(recipients.items())))
    return problems


def bench(url: str, args: argparse.Namespace) -> None:
    os.environ["OUTAGES_DATABASE_URL"] = url
    settings = load()
    engine = db.engine_for(settings)
    db.upgrade(engine)
    tz = ZoneInfo(str(settings.tz))
    now = datetime(2026, 11, 23, 12, 0, tzinfo=tz)
    began = time.perf_counter()
    seed(engine, settings, args.active, args.stored, now)
    planned = plan(engine, settings, args.reports, now, random.Random(20))
    print(f"  {engine.dialect.name}: {args.stored:,} records, {args.active:,} live, seeded in "
          f"{time.perf_counter() - began:.1f} s; {len(planned)} reports over "
          f"{60 * len(planned) / 1000:.0f} s of pinned clock")
    p50s, p99s, maxes, problems = [], [], [], []
    profile = cProfile.Profile() if args.profile else None
    for run in range(args.runs):
        clear(engine)
        times, ids = one_run(engine, settings, planned, now, profile)
        ordered = sorted(times)
        p50s.append(statistics.median(times))
        p99s.append(ordered[int(len(ordered) * 0.99) - 1])
        maxes.append(ordered[-1])
        print(f"    run {run + 1}: p50 {p50s[-1]:.1f} ms, p99 {p99s[-1]:.1f} ms, max {maxes[-1]:.1f} ms; "
              f"loadavg {Path('/proc/loadavg').read_text().split(' ', 3)[:3]}")
        problems += check(engine, settings, planned, ids)
    verdict = "ok" if statistics.median(p99s) <= 100 else "MISSED"
    print(f"  {engine.dialect.name}: intake p50 {statistics.median(p50s):.1f} ms, p99 {statistics.median(p99s):.1f} ms"
          f" (median of {args.runs}; target p99 ≤ 100 ms: {verdict}); checks: "
          + ("all hold" if not problems else f"{len(problems)} FAILED: " + "; ".join(problems[:5])))
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--active", type=int, default=10_000)
    parser.add_argument("--stored", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL; the bench runs in a schema of its own, dropped after")
    parser.add_argument("--profile", action="store_true", help="cProfile of the intake calls, top 25 by cumulative")
    args = parser.parse_args()
    os.environ.pop("OUTAGES_CONFIG", None)
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # no outages.toml of the working folder
        print(f"reports bench: loadavg {Path('/proc/loadavg').read_text().strip()}")
        on_each_store(lambda url, _size, _runs: bench(url, args), args.reports, args.runs, args.postgres)


if __name__ == "__main__":
    main()
