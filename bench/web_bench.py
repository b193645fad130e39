"""Surge benchmark of `/`: the app under gunicorn (`outages serve`) against nginx serving the `outages publish`
output of the same page, in one run, with wrk on loopback.

    .venv/bin/python bench/web_bench.py [--records 300] [--runs 3] [--seconds 10] [--connections 50]

Needs the Debian packages `wrk` and `nginx`. Everything runs on 127.0.0.1 in a temporary folder and stops by
itself. Reports medians over the runs: requests/s, p99 latency, and the app's share of nginx's throughput.
Targets (issue 5): the app at ≥ 25 % of nginx's throughput, p99 ≤ 50 ms.
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
from outages.record import SheetRow, SheetTable  # noqa: E402
from outages.settings import load  # noqa: E402
from outages.sync import sync  # noqa: E402
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
        location / {{ try_files $uri $uri/index.html $uri/index.json =404; }}
    }}
}}
"""


def rows(count: int, now: datetime, tz) -> SheetTable:  # noqa: ANN001
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: deploy config)")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is missing: apt-get install -y {tool}")

    tmp = Path(tempfile.mkdtemp(prefix="outages-web-bench-"))
    tmp.chmod(0o755)  # nginx's workers run as another user and must read the published site
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGES_")}
    env["OUTAGES_DATABASE_URL"] = f"sqlite:///{tmp / 'outages.db'}"
    os.environ.update(env)
    settings = load()
    engine = db.engine_for(settings)
    db.upgrade(engine)
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
