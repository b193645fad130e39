"""A blackout's mixed traffic for minutes on end (issue 21): does the site keep answering, and do its workers keep
their memory?

    .venv/bin/python bench/mixed_bench.py [--minutes 10] [--stored 50000] [--active 10000] [--api-pages 1500]

The store of bench/houses_bench.py (bench/web_bench.py `seed_scale`, SQLite), served by `outages serve` (gunicorn,
the deploy config). wrk with 50 connections asks, request by request at random: 40 % `/`, 15 % feeds
(`/feed.atom`, `/feed.rss`, `/planned.ics`, `/cap/index.atom`), 15 % house searches (every query string new, as in
houses_bench.py), 20 % record pages (any of the year's records), 5 % API pages (`/api/v1/outages?offset=…`) and 5 %
section pages. The first 10 s of that mix are not measured (each worker reads its open records and renders each
feed once, as in the first seconds of a surge). During the run a probe asks for the cached `/` and `/feed.atom`
ten times a second, on a connection of its own, and records how long each answer took (what a resident waits for
a cached page while the rest goes on), and the workers' resident memory (VmRSS) is sampled every 5 s.

`--front`: the same through deploy/nginx.conf as shipped (bench/front_bench.py's way: ports and folders changed),
as the site runs in production: nginx's cache answers what is public and the same for everyone, gunicorn the rest.

Then `--api-pages` distinct large API pages (`/api/v1/outages?limit=1000&offset=K`) are asked for, four at a time,
straight from gunicorn, and the workers' memory is compared before and after.

Targets: no timeouts (wrk's 2 s) and no errors; the probe's p99 ≤ 100 ms; each worker's memory over the last half
of the run (5 minutes of 10) within ±10 % of its mean; the large API pages grow the workers by ≤ 150 MiB in all.
Each figure is printed with the load average beside it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from front_bench import MAIN, front_config
from houses_bench import STREETS, SUFFIXES, load
from web_bench import BIN, free_port, fresh_store, seed_scale, wait_http

from outages.times import UTC  # bench/web_bench.py put the repository on the path

LUA = """
local streets = {%(streets)s}
local suffixes = {%(suffixes)s}
local feeds = {"/feed.atom", "/feed.rss", "/planned.ics", "/cap/index.atom"}
local counter = 0
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  math.randomseed(7 + id)
end

function request()
  counter = counter + 1
  local r = math.random(100)
  local path
  if r <= 40 then
    path = "/"
  elseif r <= 55 then
    path = feeds[math.random(#feeds)]
  elseif r <= 70 then
    local k = counter * 2 + id
    local rest = math.floor(k / #streets)
    -- a new string every time: past every combination, one more space between street and house
    local gap = string.rep("+", 1 + math.floor(k / (#streets * 300 * #suffixes)))
    path = "/?q=" .. streets[k %% #streets + 1] .. gap .. (rest %% 300 + 1)
      .. suffixes[math.floor(rest / 300) %% #suffixes + 1]
  elseif r <= 90 then
    path = "/outages/" .. math.random(%(stored)d)
  elseif r <= 95 then
    path = "/api/v1/outages?offset=" .. math.random(0, 4000)
  else
    path = "/sections/emergencies/" .. math.random(1, 50)
  end
  return wrk.format(nil, path)
end
"""


def workers_of(master: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if re.search(rf"^PPid:\s+{master}$", status, re.M):
                out.append(int(entry.name))
    return sorted(out)


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024


class Sampler(threading.Thread):
    """Each worker's RSS every `every` seconds, and the probe's latencies of cached pages."""

    def __init__(self, master: int, port: int, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.master, self.port, self.every = master, port, every
        self.samples: list[tuple[float, dict[int, float]]] = []
        self.latencies: list[float] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        next_sample = started
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        paths = ("/", "/feed.atom")
        n = 0
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_sample:
                self.samples.append((now - started, {pid: rss_mib(pid) for pid in workers_of(self.master)}))
                next_sample += self.every
            begun = time.perf_counter()
            try:
                conn.request("GET", paths[n % 2])
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    self.failures += 1
                self.latencies.append((time.perf_counter() - begun) * 1000)
            except OSError:
                self.failures += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            n += 1
            self.stop.wait(0.1)


def api_pages(port: int, count: int, stored: int) -> int:
    """`count` distinct pages of 1,000 records, four at a time; how many failed."""
    offsets = [(k * 37) % max(1, stored - 1000) for k in range(count)]
    assert len(set(offsets)) == count
    failed = [0]
    lock = threading.Lock()

    def ask(mine: list[int]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for offset in mine:
            conn.request("GET", f"/api/v1/outages?limit=1000&offset={offset}")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                with lock:
                    failed[0] += 1

    threads = [threading.Thread(target=ask, args=(offsets[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failed[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--stored", type=int, default=50_000)
    parser.add_argument("--active", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--api-pages", type=int, default=1500)
    parser.add_argument("--front", action="store_true",
                        help="through deploy/nginx.conf as shipped (its cache in front of gunicorn), as in production")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    tmp, env, settings, engine = fresh_store("outages-mixed-bench-")
    seed_scale(engine, settings, args.active, args.stored, datetime.now(UTC))
    engine.dispose()
    print(f"store: {args.stored} records, {args.active} open (SQLite); load {load()}", flush=True)

    def listed(values: tuple[str, ...]) -> str:
        return ", ".join(f'"{quote(v, safe="")}"' for v in values)

    script = tmp / "mixed.lua"
    script.write_text(LUA % {"streets": listed(STREETS), "suffixes": listed(SUFFIXES), "stored": args.stored})
    port = free_port()
    server = subprocess.Popen([str(BIN / "outages"), "serve", "--port", str(port)], env=env, cwd=tmp,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    processes = [server]
    target = port
    if args.front:
        target, site, cache = free_port(), tmp / "site", tmp / "nginx-cache"
        site.mkdir()
        (tmp / "front.conf").write_text(front_config(target, port, site, cache))
        (tmp / "nginx.conf").write_text(MAIN.format(
            user="user root;\n" if os.geteuid() == 0 else "", workers=os.cpu_count() or 2, tmp=tmp, site=site,
            static_port=free_port()))
        processes.append(subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(tmp / "nginx.conf"),
                                           "-p", str(tmp), "-e", str(tmp / "nginx-error.log")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True))
    seconds = int(args.minutes * 60)
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        wait_http(f"http://127.0.0.1:{target}/")
        # The first seconds of a surge, not measured: each worker reads its open records and renders each feed once.
        subprocess.run(["wrk", "-t2", f"-c{args.connections}", "-d10s", "-s", str(script),
                        f"http://127.0.0.1:{target}/"], capture_output=True, timeout=90)
        sampler = Sampler(server.pid, target)
        sampler.start()
        before = load()
        out = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{seconds}s", "--latency", "-s",
                              str(script), f"http://127.0.0.1:{target}/"], capture_output=True, text=True,
                             check=True, timeout=seconds + 120).stdout
        after = load()
        sampler.stop.set()
        sampler.join(15)
        print(out, flush=True)
        time.sleep(5)
        grown_from = {pid: rss_mib(pid) for pid in workers_of(server.pid)}
        api_load = load()
        started = time.perf_counter()
        api_failed = api_pages(port, args.api_pages, args.stored) if args.api_pages else 0
        took = time.perf_counter() - started
        grown_to = {pid: rss_mib(pid) for pid in workers_of(server.pid)}
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            process.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    timeouts = int(sockets.group(4)) if sockets else 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    probe = sorted(sampler.latencies)
    probe_p99 = probe[int(len(probe) * 0.99) - 1] if probe else float("nan")
    half = [rss for at, rss in sampler.samples if at >= seconds / 2]
    flat = {}
    for pid in sorted({pid for rss in half for pid in rss}):
        series = [rss[pid] for rss in half if pid in rss]
        mean = statistics.mean(series)
        flat[pid] = {"min": round(min(series), 1), "max": round(max(series), 1), "mean": round(mean, 1),
                     "within": round(max(abs(max(series) - mean), abs(mean - min(series))) / mean * 100, 1)}
    growth = sum(grown_to.get(pid, 0) - grown_from.get(pid, 0) for pid in grown_from)
    print(f"mixed run{' through deploy/nginx.conf' if args.front else ' on gunicorn alone'}: {seconds} s, "
          f"{args.connections} connections, load {before} → {after}")
    print(f"  wrk: {rps:.0f} req/s, p99 {p99_ms:.1f} ms, timeouts {timeouts}, non-2xx "
          f"{non_2xx.group(1) if non_2xx else 0}")
    print(f"  probe (cached / and /feed.atom): {len(probe)} answers, median {statistics.median(probe):.1f} ms, "
          f"p99 {probe_p99:.1f} ms, failures {sampler.failures}")
    print("  workers' RSS over the last half (MiB):")
    for pid, figures in flat.items():
        print(f"    worker {pid}: min {figures['min']} max {figures['max']} mean {figures['mean']} "
              f"(±{figures['within']} %)")
    print("  RSS every 5 s (MiB, per worker): " + "; ".join(
        f"{at:.0f}s " + "/".join(f"{v:.0f}" for _, v in sorted(rss.items())) for at, rss in sampler.samples[::6]))
    print(f"  {args.api_pages} large API pages in {took:.0f} s (load {api_load} → {load()}), failed {api_failed}: "
          f"workers {', '.join(f'{grown_from[p]:.0f}→{grown_to.get(p, 0):.0f}' for p in grown_from)} MiB, "
          f"grown {growth:.0f} MiB in all")
    checks = {"no timeouts": timeouts == 0 and not non_2xx and sampler.failures == 0,
              "cached pages p99 ≤ 100 ms": probe_p99 <= 100,
              "RSS flat (±10 %) over the last half": all(f["within"] <= 10 for f in flat.values()),
              "large API pages grow workers ≤ 150 MiB": growth <= 150 and api_failed == 0}
    for name, met in checks.items():
        print(f"  {name}: {'MET' if met else 'NOT MET'}")
    print(json.dumps({"rps": rps, "p99_ms": p99_ms, "timeouts": timeouts, "probe_p99_ms": probe_p99, "rss": flat,
                      "api_growth_mib": growth, "checks": checks}))


if __name__ == "__main__":
    main()
