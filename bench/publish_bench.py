"""`outages publish` at scale: a first publish of a 50,000-record store, then one changed record and an incremental
publish, several times; and how long a push waits for its sync while the worker's lane is publishing.

    .venv/bin/python bench/publish_bench.py [--stored 50000] [--active 5000] [--runs 5] [--pushes 5]

The store is written straight into the tables (bench/web_bench.py's seed_scale). Each publish is `outages publish
DIR` in a child process of its own: wall time, and its peak RSS (its own VmHWM, read as it exits). A change is
what a sync writes for an update: the record's new text and revision, and an `updated` event. Size on disk is
`du -sk`, which counts a hard-linked file once: the release alone, and both kept releases together.

Then the worker runs in this process (Worker.run in a thread, its publishing lane on the same DIR): each time a
record changes, the lane starts a publish; a push (sync request) is made at once, and the time until its sync's
cycle ended is taken, with whether the publish was still running then. Targets (issue 21): the second publish
≤ 10 s and ≤ 200 MiB; a push's sync ≤ 2 s while a publish runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import insert, select, update  # noqa: E402
from web_bench import fresh_store, rows, seed_scale  # noqa: E402

from outages.schema import events, records  # noqa: E402
from outages.times import UTC  # noqa: E402

BIN = Path(sys.executable).parent


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


# `outages publish` as its console script runs it, reporting its own peak RSS (VmHWM) as it exits. Not wait4's
# ru_maxrss: the child starts as a vfork of this process, and Linux keeps that image's high-water mark across exec,
# so ru_maxrss would report this process's own size (hundreds of MiB after seeding) instead of the publish's.
PEAK = ("import atexit, sys; atexit.register(lambda: sys.stderr.write(next(l for l in open('/proc/self/status')"
        " if l.startswith('VmHWM')))); from outages.cli import main; sys.argv = ['outages', 'publish', sys.argv[1]];"
        " main()")


def child_publish(site: Path, env: dict, cwd: Path) -> dict:
    started = time.perf_counter()
    process = subprocess.run([sys.executable, "-c", PEAK, str(site)], env=env, cwd=cwd, capture_output=True,
                             text=True)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"publish failed: {process.stdout} {process.stderr}")
    peak_kib = int(next(line for line in process.stderr.splitlines() if line.startswith("VmHWM")).split()[1])
    release = Path(os.path.realpath(site))
    manifest = json.loads((release / "publish.json").read_text("utf-8"))
    live = re.search(r"([\d.]+) с / s", process.stdout)
    # seconds: the whole process (start, app, publish, removing the oldest release); live_s: until the new release
    # was switched in, as the command reports it.
    return {"seconds": round(seconds, 2), "live_s": float(live.group(1)) if live else None,
            "peak_mib": round(peak_kib / 1024, 1), "urls": manifest["urls"],
            "rendered": manifest["rendered"], "incremental": manifest["incremental"],
            "load": Path("/proc/loadavg").read_text().split()[:3]}


def change_one(engine, number: int, n: int) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        revision = conn.execute(select(records.c.revision).where(records.c.number == number)).scalar_one() + 1
        conn.execute(update(records).where(records.c.number == number)
                     .values(summary=f"Оновлення {n}: бригада на місці", revision=revision, last_changed_at=now))
        conn.execute(insert(events).values(record_number=number, kind="updated", at=now, created_at=now,
                                           revision=revision, data={"text": f"Оновлення {n}",
                                                                    "changed": {"summary": ["", f"Оновлення {n}"]}}))


def disk(site: Path) -> dict:
    release = Path(os.path.realpath(site))
    count = sum(1 for p in release.rglob("*") if p.is_file())
    alone = int(subprocess.run(["du", "-sk", str(release)], capture_output=True, text=True).stdout.split()[0])
    kept = [p for p in site.parent.iterdir() if p.is_dir() and not p.is_symlink() and p.name.startswith(".site.")]
    both = subprocess.run(["du", "-skc", *map(str, kept)], capture_output=True, text=True).stdout.split()
    return {"files": count, "release_mib": round(alone / 1024, 1), "releases_kept": len(kept),
            "all_kept_mib": round(int(both[-2]) / 1024, 1)}


def push_latency(engine, settings, site: Path, pushes: int, first: int) -> list[dict]:
    """The worker in this process: a change starts its lane's publish; a push is made during it."""
    from outages import worker as hub_worker
    from outages.worker import Batch
    from web.publish import publish_site

    settings.data["sync_interval"] = 3600
    publishing, finished = threading.Event(), threading.Event()
    table = {"rows": 1}

    def publish() -> None:
        finished.clear()
        publishing.set()
        try:
            publish_site(settings, engine, site, log=lambda line: None)
        finally:
            publishing.clear()
            finished.set()

    def pull() -> Batch:
        return Batch(rows(table["rows"], datetime.now(UTC), settings.tz))

    worker = hub_worker.Worker(engine, settings, pull, "bench", publish=publish, echo=lambda line: None)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    out = []
    try:
        assert worker.wait_for_cycles(1, timeout=600)
        finished.wait(900)  # the lane's first publish (the sync's new row)
        for n in range(pushes):
            finished.clear()
            change_one(engine, first - n, 100 + n)
            assert publishing.wait(60), "the lane did not start publishing"
            time.sleep(0.5)  # well inside the publish (seconds): not its first queries
            done = worker.cycles
            table["rows"] += 1  # the push brings one new form row
            pushed = time.perf_counter()
            hub_worker.request_sync(engine, datetime.now(UTC), "bench")
            assert worker.wait_for_cycles(done + 1, timeout=120)
            latency = time.perf_counter() - pushed
            out.append({"push_s": round(latency, 3), "publish_still_running": publishing.is_set(),
                        "load": Path("/proc/loadavg").read_text().split()[:3]})
            print(f"push during publish {n + 1}: sync done in {latency:.3f} s, publish still running: "
                  f"{publishing.is_set()}, loadavg {' '.join(out[-1]['load'])}", flush=True)
            finished.wait(300)
    finally:
        worker.stop.set()
        thread.join(300)  # a publish the lane began is let finish before the store is removed
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=50000)
    parser.add_argument("--active", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pushes", type=int, default=5)
    args = parser.parse_args()
    tmp, env, settings, engine = fresh_store("outages-publish-bench-")
    try:
        started = time.perf_counter()
        seed_scale(engine, settings, args.active, args.stored, datetime.now(UTC))
        print(f"store: {args.stored} records, {args.active} active (SQLite), seeded in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        site = tmp / "www" / "site"
        first = child_publish(site, env, tmp)
        print(f"first publish: {first} {disk(site)}", flush=True)
        seconds = []
        for n in range(args.runs):
            change_one(engine, args.stored - 10 - n, n)
            again = child_publish(site, env, tmp)
            seconds.append(again)
            print(f"after one change, run {n + 1}: {again} {disk(site)}", flush=True)
        median_s = statistics.median(r["seconds"] for r in seconds)
        median_mib = statistics.median(r["peak_mib"] for r in seconds)
        pushes = push_latency(engine, settings, site, args.pushes, args.stored - 100)
        median_push = statistics.median(p["push_s"] for p in pushes) if pushes else None
        summary = {"first": first, "second_median_s": median_s, "second_median_peak_mib": median_mib,
                   "second_runs": seconds, "disk": disk(site), "push_during_publish_median_s": median_push,
                   "pushes": pushes,
                   "checks": {"second ≤ 10 s": median_s <= 10, "second ≤ 200 MiB": median_mib <= 200,
                              "push ≤ 2 s": median_push is not None and median_push <= 2}}
        print(f"\nmedians: second publish {median_s} s, peak {median_mib} MiB; push during publish {median_push} s")
        print(json.dumps(summary, ensure_ascii=False))
    finally:
        engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
