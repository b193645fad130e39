"""Surge benchmark of `/`: the app under gunicorn (`outages serve`) against nginx serving the `outages publish`
output of the same page, in one run, with wrk on loopback.

    .venv/bin/python bench/web_bench.py [--records 300] [--runs 3] [--seconds 10] [--connections 50]
    .venv/bin/python bench/web_bench.py --scale [--active 5000] [--stored 50000] [--runs 5]

--scale: a store of 50,000 records, 5,000 of them active, written straight into the tables. Reports
the bytes of `/` (the first screen), its uncached render time, req/s and p99 under wrk through gunicorn, and the
uncached (cache miss) time of `/api/v1/outages` and `/feed.atom`. Targets: `/` ≤ 150 KB, p99 ≤ 100 ms, each
cache miss ≤ 50 ms.

Needs the Debian packages `wrk` and `nginx`. Everything runs on 127.0.0.1 in a temporary folder and stops by
itself. Reports medians over the runs: requests/s, p99 latency, and the app's share of nginx's throughput.
Targets: the app at ≥ 25 % of nginx's throughput, p99 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from outages import db  # noqa: E402
from outages.demo.build import HEADERS  # noqa: E402
from outages.records.model import SheetRow, SheetTable  # noqa: E402
from outages.records.sync import sync  # noqa: E402
from outages.settings import load  # noqa: E402
from outages.times import UTC  # noqa: E402

BIN = Path(sys.executable).parent
NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    types {{ text/calendar ics; application/atom+xml atom; application/json json; }}
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        root {site};
        gzip_static on;
        location / {{ try_files $uri $uri.html $uri.json $uri/index.html =404; }}
    }}
}}
"""


def rows(count: int, now: datetime, tz) -> SheetTable:
    """`count` active records: emergencies and planned works in every district, recorded on time."""
    settings = load()
    districts, services = settings.districts.names, settings.services.names
    utilities = settings.utilities.names or ["КП «Водоканал»"]
    out = []
    for i in range(count):
        local = now.astimezone(tz)
        if i % 3:
            event = local - timedelta(minutes=20 + i)
            recorded = event + timedelta(minutes=10)
            kind, end = "Аварійна ситуація", local + timedelta(hours=3 + i % 20)
        else:
            event = local + timedelta(days=1 + i % 12, hours=1)
            recorded = local - timedelta(days=4)
            kind, end = "Планові роботи", event + timedelta(hours=8)
        values = [recorded.strftime("%d.%m.%Y %H:%M:%S"), utilities[i % len(utilities)], kind, "", "",
                  services[i % len(services)], districts[i % len(districts)],
                  f"вул. Соборна, {i}; просп. Центральний, {i % 50}-{i % 50 + 10}",
                  f"Подія №{i}: порив мережі", "Зношеність мережі", "Немає послуги у кількох будинках",
                  end.strftime("%d.%m.%Y %H:%M"), event.strftime("%d.%m.%Y %H:%M"), "Диспетчер", "0500000000", ""]
        out.append(SheetRow(number=i + 2, values=dict(zip(HEADERS, values))))
    return SheetTable(source="bench", headers=tuple(HEADERS), rows=tuple(out))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer in {seconds} s")
            time.sleep(0.2)


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def fresh_store(prefix: str):
    """A new SQLite store in a temporary folder, and the environment for the hub's processes: no OUTAGES_* of the
    shell, only the store's URL."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGES_")}
    env["OUTAGES_DATABASE_URL"] = f"sqlite:///{tmp / 'outages.db'}"
    os.environ.update(env)
    settings = load()
    engine = db.engine_for(settings)
    db.upgrade(engine)
    return tmp, env, settings, engine


def seed_scale(engine, settings, active: int, stored: int, now: datetime) -> None:
    """`stored` records, the newest `active` of them still active (two thirds emergencies, a third planned works
    in the next 12 days), the rest resolved over the past years; each with its created and (if fixed) resolved
    event. Written in bulk, straight into the tables: the benchmark is about reading them."""
    from outages.db import bulk_insert
    from outages.places.index import reindex
    from outages.schema import events, record_districts, records

    districts, services = settings.districts.names, settings.services.names
    utilities = settings.utilities.names or ["КП «Водоканал»"]
    rows, places, happened = [], [], []
    for number in range(1, stored + 1):
        is_active = number > stored - active
        if is_active and number % 3:
            kind, event_at = "emergency", now - timedelta(minutes=20 + number % 600)
            recorded, end = event_at + timedelta(minutes=10), now + timedelta(hours=3 + number % 20)
        elif is_active:
            kind, event_at = "planned", now + timedelta(days=number % 12, hours=1)
            recorded, end = now - timedelta(days=4), event_at + timedelta(hours=8)
        else:
            kind = "emergency" if number % 3 else "planned"
            event_at = now - timedelta(hours=(stored - number) // 4 + 30)
            recorded, end = event_at + timedelta(minutes=15), event_at + timedelta(hours=6)
        resolved = None if is_active else end
        names = [districts[number % len(districts)]] + ([districts[(number + 1) % len(districts)]]
                                                        if number % 5 == 0 else [])
        rows.append({
            "number": number, "executor": utilities[number % len(utilities)], "kind": kind,
            "service": services[number % len(services)], "districts": names,
            "addresses": f"вул. Соборна, {number % 200}; просп. Центральний, {number % 50}-{number % 50 + 10}",
            "summary": f"Подія №{number}: порив мережі", "cause": "Зношеність мережі",
            "impact": "Немає послуги у кількох будинках", "event_at": event_at, "expected_end": end,
            "first_recorded_at": recorded, "last_changed_at": resolved or recorded,
            "status": "active" if is_active else "resolved", "resolved_at": resolved, "deadline_met": True,
            "delay_minutes": 10.0 if kind == "emergency" else None, "lead_hours": None if kind == "emergency" else 96.0,
            "contact_name": "Диспетчер", "contact_phone": "0500000000", "reporter_email": "", "revision": 1 if is_active
            else 2, "overdue_for": None})
        places += [{"record_number": number, "district": name} for name in names]
        happened.append({"record_number": number, "kind": "created", "at": recorded, "created_at": recorded,
                         "revision": 1, "data": {"row": number + 1}})
        if resolved:
            happened.append({"record_number": number, "kind": "resolved", "at": resolved, "created_at": resolved,
                             "revision": 2, "data": {"row": number + 1, "text": "Послугу відновлено",
                                                     "changed": {"status": ["active", "resolved"]}}})
    happened.sort(key=lambda e: e["created_at"])
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            bulk_insert(conn, records, rows[start:start + 5000])
        bulk_insert(conn, record_districts, places)
        for start in range(0, len(happened), 5000):
            bulk_insert(conn, events, happened[start:start + 5000])
        # The parsed addresses, as the sync writes them: what a search reads.
        reindex(conn, settings.streets)


def uncached_ms(app, url: str, runs: int) -> tuple[float, int]:
    """Median milliseconds of rendering `url` with the response cache off (every request a cache miss), and
    the size of the answer."""
    client = app.test_client()
    times, size = [], 0
    for _ in range(runs + 1):  # the first one warms imports and templates
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.data)
    return statistics.median(times[1:]), size


def scale(args: argparse.Namespace) -> None:
    import gzip

    from web import create_app

    tmp, env, settings, engine = fresh_store("outages-web-scale-")
    now = datetime.now(UTC)
    started = time.perf_counter()
    seed_scale(engine, settings, args.active, args.stored, now)
    print(f"store: {args.stored} records, {args.active} active (SQLite), seeded in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    settings.data["cache_seconds"] = 0  # every request renders: the cache-miss cost
    app = create_app(settings, engine=engine)
    results: dict[str, dict[str, float]] = {}
    for url in ("/", "/api/v1/outages", "/feed.atom", "/sections/emergencies/50", "/planned.ics", "/cap/index.atom"):
        ms, size = uncached_ms(app, url, args.runs)
        results[url] = {"uncached_ms": round(ms, 2), "bytes": size}
        print(f"uncached {url:26} {ms:8.2f} ms  {size:9d} B", flush=True)
    home = app.test_client().get("/").data
    results["/"]["gzip_bytes"] = len(gzip.compress(home))
    engine.dispose()

    port = free_port()
    server = subprocess.Popen([str(BIN / "outages"), "serve", "--port", str(port),
                               *(["--workers", str(args.workers)] if args.workers else [])], env=env, cwd=tmp,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_http(url)
        subprocess.run(["wrk", "-t2", f"-c{args.connections}", "-d3s", url], capture_output=True)
        runs = [wrk(url, args.seconds, args.connections) for _ in range(args.runs)]
        for n, r in enumerate(runs, 1):
            print(f"wrk run {n}: {r['rps']:9.0f} req/s  p99 {r['p99_ms']:7.2f} ms"
                  + (f"  non-2xx {r['non_2xx']}" if r["non_2xx"] else ""), flush=True)
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        server.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)
    rps, p99 = statistics.median(r["rps"] for r in runs), statistics.median(r["p99_ms"] for r in runs)
    checks = {
        "first screen ≤ 150 KB": results["/"]["bytes"] <= 150 * 1024,
        "p99 ≤ 100 ms": p99 <= 100,
        "/api/v1/outages miss ≤ 50 ms": results["/api/v1/outages"]["uncached_ms"] <= 50,
        "/feed.atom miss ≤ 50 ms": results["/feed.atom"]["uncached_ms"] <= 50,
    }
    print(f"\nmedians of {args.runs} runs, {args.stored} stored / {args.active} active records:")
    print(f"  /: {results['/']['bytes'] / 1024:.1f} KB ({results['/']['gzip_bytes'] / 1024:.1f} KB gzip), "
          f"uncached render {results['/']['uncached_ms']:.1f} ms; wrk {args.connections} connections: "
          f"{rps:.0f} req/s, p99 {p99:.1f} ms")
    for name, met in checks.items():
        print(f"  {name}: {'MET' if met else 'NOT MET'}")
    print(json.dumps({"uncached": results, "wrk": {"rps": rps, "p99_ms": p99, "runs": runs}, "checks": checks},
                     ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="a store of 50,000 records, 5,000 active")
    parser.add_argument("--active", type=int, default=5000)
    parser.add_argument("--stored", type=int, default=50000)
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: deploy config)")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is missing: apt-get install -y {tool}")
    if args.scale:
        scale(args)
        return

    tmp, env, settings, engine = fresh_store("outages-web-bench-")
    tmp.chmod(0o755)  # nginx's workers run as another user and must read the published site
    now = datetime.now(UTC)
    result = sync(engine, rows(args.records, now, settings.tz), settings, now)
    engine.dispose()
    print(f"store: {result.counts['new']} records (SQLite), {args.records} rows", flush=True)

    site = tmp / "site"
    subprocess.run([str(BIN / "outages"), "publish", str(site)], env=env, cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    app_port, nginx_port = free_port(), free_port()
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=nginx_port, site=site,
                                                      workers=os.cpu_count() or 2))
    processes = [
        subprocess.Popen([str(BIN / "outages"), "serve", "--port", str(app_port),
                          *(["--workers", str(args.workers)] if args.workers else [])], env=env, cwd=tmp,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True),
        subprocess.Popen(["nginx", "-c", str(tmp / "nginx.conf"), "-p", str(tmp)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True),
    ]
    try:
        app_url, nginx_url = f"http://127.0.0.1:{app_port}/", f"http://127.0.0.1:{nginx_port}/"
        wait_http(app_url)
        wait_http(nginx_url)
        app_page = urllib.request.urlopen(app_url).read()
        static_page = urllib.request.urlopen(nginx_url).read()
        shown = app_page.count(b'<article class="card')
        print(f"page /: app {len(app_page)} B, published {len(static_page)} B ({shown} records shown)", flush=True)
        # Warm every worker's cache, as the first seconds of a surge would.
        subprocess.run(["wrk", "-t2", f"-c{args.connections}", "-d3s", app_url], capture_output=True)
        runs: dict[str, list[dict]] = {"app": [], "nginx": []}
        for n in range(args.runs):
            for name, url in (("app", app_url), ("nginx", nginx_url)):
                runs[name].append(wrk(url, args.seconds, args.connections))
                r = runs[name][-1]
                print(f"run {n + 1} {name:5}: {r['rps']:9.0f} req/s  p99 {r['p99_ms']:7.2f} ms"
                      + (f"  non-2xx {r['non_2xx']}" if r["non_2xx"] else "")
                      + (f"  socket errors {r['socket_errors']}" if r["socket_errors"] else ""), flush=True)
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)

    summary = {name: {"rps": statistics.median(r["rps"] for r in rs),
                      "p99_ms": statistics.median(r["p99_ms"] for r in rs)} for name, rs in runs.items()}
    ratio = summary["app"]["rps"] / summary["nginx"]["rps"]
    ok = ratio >= 0.25 and summary["app"]["p99_ms"] <= 50
    print(f"\nmedian of {args.runs} runs, {args.connections} connections, {args.seconds} s each, "
          f"{args.records} active records:")
    print(f"  app (gunicorn): {summary['app']['rps']:9.0f} req/s  p99 {summary['app']['p99_ms']:.2f} ms")
    print(f"  nginx (static): {summary['nginx']['rps']:9.0f} req/s  p99 {summary['nginx']['p99_ms']:.2f} ms")
    print(f"  ratio app/nginx: {ratio:.1%}  (target ≥ 25 %, app p99 ≤ 50 ms): {'MET' if ok else 'NOT MET'}")
    print(json.dumps({"median": summary, "ratio": round(ratio, 4), "target_met": ok, "runs": runs}))


if __name__ == "__main__":
    main()
