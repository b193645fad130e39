"""A blackout's searches (issue 21): every resident asks about their own house, each typing it their own way.

    .venv/bin/python bench/houses_bench.py [--stored 50000] [--active 10000] [--runs 3] [--seconds 10]

A SQLite store of `--stored` records, the newest `--active` still open (bench/web_bench.py `seed_scale`: every
record on вул. Соборна, 0–199, and a range of просп. Центральний, 0–60), served by `outages serve` (gunicorn, the
deploy config). In each run wrk asks, in turn, for the cached `/` and for house searches from a Lua script that
makes every request a new query string: sixteen spellings of the two streets («вул. Соборна», «соборна»,
«Soborna», «Соборная», «проспект Центральний»…), houses 1–300 and ten ways of writing a suffix («14а», «14 А»,
«14-а», «14/1», «14 корп. 2»…), with a run's own spacing so no run repeats another's strings. A search is
answered from the worker's open records in memory and cached by the house it names, so different spellings of a
house share a page; a new spelling still passes through Flask and is parsed.

First, in process: the uncached page of a house under `--answer` (3,000) active emergencies, its size and time.

Reports each run with the load average beside it, the medians, and the searches' share of `/`'s throughput in
the same runs. Targets: searches ≥ 10 % of cached `/`, p99 ≤ 300 ms; the answer over 3,000 records ≤ 200 KB
within 1 s. Needs Debian's wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from web_bench import BIN, free_port, fresh_store, seed_scale, wait_http, wrk

from outages.times import UTC  # bench/web_bench.py put the repository on the path

STREETS = ("Соборна", "вул. Соборна", "соборна", "вул.Соборна", "вулиця Соборна", "Soborna", "vul. Soborna",
           "Соборная", "ул. Соборная", "Радянська", "просп. Центральний", "Центральний", "проспект Центральний",
           "Центральный", "Tsentralnyi", "prosp. Tsentralnyi")
SUFFIXES = ("", "а", "А", " а", "-а", "б", "/1", "/2", " корп. 2", "в")
HOUSES = 300

LUA = """
local streets = {%(streets)s}
local suffixes = {%(suffixes)s}
local houses = %(houses)d
local gap = "%(gap)s"
local counter = 0
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function request()
  local k = counter * 2 + id
  counter = counter + 1
  local s = k %% #streets
  local rest = math.floor(k / #streets)
  local house = rest %% houses + 1
  local suffix = math.floor(rest / houses) %% #suffixes
  return wrk.format(nil, "/?q=" .. streets[s + 1] .. gap .. house .. suffixes[suffix + 1])
end
"""


def lua_script(folder: Path, run: int) -> Path:
    """The searches of one run: `run + 1` spaces between street and house, so every run's strings are its own."""
    def listed(values: tuple[str, ...]) -> str:
        return ", ".join(f'"{quote(v, safe="")}"' for v in values)

    path = folder / f"houses-{run}.lua"
    path.write_text(LUA % {"streets": listed(STREETS), "suffixes": listed(SUFFIXES), "houses": HOUSES,
                           "gap": "+" * (run + 1)})
    return path


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 1)[0]


def wrk_script(url: str, script: Path, seconds: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)],
            "requests": total, "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": sockets.group(1) if sockets else ""}


def healthz(port: int, times: int = 8) -> list[dict]:
    """/healthz of each worker (asked a few times: the answering worker is whichever accepts)."""
    seen = {}
    for _ in range(times):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            body = json.loads(response.read())
        seen[json.dumps(body["houses"], sort_keys=True) + json.dumps(body["cache"]["max_bytes"])] = body
    return list(seen.values())


def answer_over(count: int, runs: int = 7) -> dict:
    """A house under `count` active emergencies (all on вул. Соборна, 2-40, synced as form rows): the uncached page
    `/?q=Соборна 14` in process, its size, the first answer (reading the open records) and the median of the rest."""
    from datetime import timedelta

    from outages.demo.build import HEADERS
    from outages.records.model import SheetRow, SheetTable
    from outages.records.sync import sync
    from web import create_app

    tmp, _env, settings, engine = fresh_store("outages-answer-bench-")
    now = datetime.now(UTC)
    local = now.astimezone(settings.tz)
    out = []
    for i in range(count):
        event = local - timedelta(minutes=30 + i % 600)
        values = [(event + timedelta(minutes=5)).strftime("%d.%m.%Y %H:%M:%S"), "КП «Водоканал»", "Аварійна ситуація",
                  "", "", "Водопостачання", "Центральний", "вул. Соборна, 2-40", f"Порив №{i}", "Корозія",
                  "Немає води", (local + timedelta(hours=6)).strftime("%d.%m.%Y %H:%M"),
                  event.strftime("%d.%m.%Y %H:%M"), "Диспетчер", "0500000000", ""]
        out.append(SheetRow(number=i + 2, values=dict(zip(HEADERS, values))))
    sync(engine, SheetTable(source="bench", headers=tuple(HEADERS), rows=tuple(out)), settings, now)
    settings.data["cache_seconds"] = 0
    client = create_app(settings, engine=engine).test_client()
    url = "/?q=" + quote("Соборна 14")
    times, size = [], 0
    for _ in range(runs + 1):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and "і ще".encode() in response.data
        size = len(response.data)
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    return {"records": count, "bytes": size, "first_ms": round(times[0], 1),
            "median_ms": round(statistics.median(times[1:]), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=50_000)
    parser.add_argument("--active", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--answer", type=int, default=3000, help="records over the house of the answer check (0: skip)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    said = answer_over(args.answer) if args.answer else None
    if said:
        print(f"answer over {said['records']} records: {said['bytes'] / 1024:.1f} KB, uncached {said['median_ms']} ms "
              f"(median; the worker's first, reading the open records: {said['first_ms']} ms); load {load()}",
              flush=True)
    tmp, env, settings, engine = fresh_store("outages-houses-bench-")
    started = time.perf_counter()
    seed_scale(engine, settings, args.active, args.stored, datetime.now(UTC))
    engine.dispose()
    print(f"store: {args.stored} records, {args.active} open (SQLite), seeded in "
          f"{time.perf_counter() - started:.1f} s; load {load()}", flush=True)
    port = free_port()
    server = subprocess.Popen([str(BIN / "outages"), "serve", "--port", str(port),
                               *(["--workers", str(args.workers)] if args.workers else [])], env=env, cwd=tmp,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    home = f"http://127.0.0.1:{port}/"
    runs: dict[str, list[dict]] = {"home": [], "houses": []}
    try:
        wait_http(home)
        subprocess.run(["wrk", "-t2", f"-c{args.connections}", "-d3s", home], capture_output=True)
        warm = lua_script(tmp, 99)  # reads each worker's open records once, as the first searches of a surge do
        wrk_script(home, warm, 3, args.connections)
        for n in range(args.runs):
            for name in ("home", "houses"):
                before = load()
                r = (wrk(home, args.seconds, args.connections) if name == "home"
                     else wrk_script(home, lua_script(tmp, n), args.seconds, args.connections))
                r["load"] = f"{before} → {load()}"
                runs[name].append(r)
                print(f"run {n + 1} {name:6}: {r['rps']:8.0f} req/s  p99 {r['p99_ms']:7.1f} ms"
                      + (f"  ({r['requests']} distinct searches)" if name == "houses" else "")
                      + (f"  non-2xx {r['non_2xx']}" if r["non_2xx"] else "")
                      + (f"  socket errors {r['socket_errors']}" if r["socket_errors"] else "")
                      + f"  load {r['load']}", flush=True)
        workers = healthz(port)
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        server.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)
    median = {name: {"rps": statistics.median(r["rps"] for r in rs),
                     "p99_ms": statistics.median(r["p99_ms"] for r in rs)} for name, rs in runs.items()}
    ratio = median["houses"]["rps"] / median["home"]["rps"]
    ratios = [h["rps"] / c["rps"] for h, c in zip(runs["houses"], runs["home"])]
    checks = {"searches ≥ 10 % of cached /": ratio >= 0.10, "searches p99 ≤ 300 ms": median["houses"]["p99_ms"] <= 300}
    if said:
        checks[f"answer over {said['records']} records ≤ 200 KB within 1 s"] = (
            said["bytes"] <= 200 * 1024 and max(said["first_ms"], said["median_ms"]) <= 1000)
    print(f"\nmedians of {args.runs} runs of {args.seconds} s, {args.connections} connections:")
    print(f"  cached /:        {median['home']['rps']:8.0f} req/s  p99 {median['home']['p99_ms']:.1f} ms")
    print(f"  house searches:  {median['houses']['rps']:8.0f} req/s  p99 {median['houses']['p99_ms']:.1f} ms")
    print(f"  searches / cached /: {ratio:.1%} (runs: {', '.join(f'{r:.0%}' for r in ratios)})")
    for body in workers:
        print(f"  a worker: houses {body['houses']}, cache found {body['cache']['found']} rendered "
              f"{body['cache']['rendered']} entries {body['cache']['entries']} evicted {body['cache']['evicted']}")
    for name, met in checks.items():
        print(f"  {name}: {'MET' if met else 'NOT MET'}")
    print(json.dumps({"median": median, "ratio": round(ratio, 4), "runs": runs, "answer": said, "checks": checks},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
