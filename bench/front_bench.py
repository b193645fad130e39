"""The shipped front (deploy/nginx.conf, with its cache) against nginx serving a static file, in one run.

    .venv/bin/python bench/front_bench.py [--records 300] [--runs 3] [--seconds 5] [--connections 50]

300 active records synced into a SQLite store, `outages publish` into a folder, `outages serve` (gunicorn) behind
the very deploy/nginx.conf of the repository (ports, root and cache folder changed, nothing else), and a second
nginx server serving the published `/` as a file. wrk asks, in turn: `/` through the front (served from its cache
after the first request), the static `/`, and `/` straight from gunicorn for comparison. Reports the median
requests/s and p99 of each over the runs, with the load average beside every run (the machine may be shared), and
the front's share of the static file's throughput. Target (issue 21): cached `/` through the front ≥ 50 % of
nginx serving the static export.

Uses wrk when installed (Debian's `wrk`); otherwise a small Python load loop of threads with keep-alive
connections, which measures Python as much as the servers (its figures compare only with each other).
Everything runs on 127.0.0.1 in a temporary folder and stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from web_bench import free_port, fresh_store, rows, wait_http, wrk

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

MAIN = """{user}worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    include {tmp}/front.conf;
    server {{
        listen 127.0.0.1:{static_port};
        root {site};
        location / {{ try_files $uri $uri.html $uri.json $uri/index.html =404; }}
    }}
}}
"""


def front_config(front_port: int, app_port: int, site: Path, cache: Path) -> str:
    """deploy/nginx.conf as shipped, with this run's ports and folders."""
    text = (ROOT / "deploy" / "nginx.conf").read_text("utf-8")
    for old, new in (("listen 80;", f"listen 127.0.0.1:{front_port};"),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
                     ("root /srv/outages/site;", f"root {site};"),
                     ("proxy_cache_path /var/cache/nginx/outages ", f"proxy_cache_path {cache} ")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def python_load(url: str, seconds: float, connections: int) -> dict[str, float]:
    """wrk's figures from threads, each with one keep-alive connection: requests/s and p99 in ms."""
    host, _, rest = url.removeprefix("http://").partition("/")
    name, _, port = host.partition(":")
    path = "/" + rest
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    stop = time.perf_counter() + seconds

    def client(n: int) -> None:
        connection = http.client.HTTPConnection(name, int(port), timeout=10)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures[n] += 1
            except OSError:
                failures[n] += 1
                connection.close()
                connection = http.client.HTTPConnection(name, int(port), timeout=10)
                continue
            latencies[n].append(time.perf_counter() - started)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(t for ts in latencies for t in ts)
    p99 = every[int(len(every) * 0.99) - 1] * 1000 if every else float("nan")
    return {"rps": len(every) / elapsed, "p99_ms": p99, "non_2xx": sum(failures), "socket_errors": ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: deploy config)")
    parser.add_argument("--python-load", action="store_true", help="the Python load loop even when wrk is there")
    args = parser.parse_args()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx is missing: apt-get install -y nginx-light")
    use_wrk = bool(shutil.which("wrk")) and not args.python_load
    load = wrk if use_wrk else python_load

    tmp, env, settings, engine = fresh_store("outages-front-bench-")
    tmp.chmod(0o755)
    from outages.records.sync import sync
    from outages.times import UTC

    now = datetime.now(UTC)
    result = sync(engine, rows(args.records, now, settings.tz), settings, now)
    engine.dispose()
    site = tmp / "site"
    subprocess.run([str(BIN / "outages"), "publish", str(site)], env=env, cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    app_port, front_port, static_port = free_port(), free_port(), free_port()
    (tmp / "cache").mkdir()
    (tmp / "front.conf").write_text(front_config(front_port, app_port, site, tmp / "cache"), "utf-8")
    (tmp / "nginx.conf").write_text(MAIN.format(
        user="user root;\n" if os.geteuid() == 0 else "", workers=os.cpu_count() or 2, tmp=tmp, site=site,
        static_port=static_port), "utf-8")
    print(f"store: {result.counts['new']} active records (SQLite); load: {'wrk' if use_wrk else 'Python loop'}, "
          f"{args.connections} connections, {args.seconds} s per run", flush=True)
    processes = [
        subprocess.Popen([str(BIN / "outages"), "serve", "--port", str(app_port),
                          *(["--workers", str(args.workers)] if args.workers else [])], env=env, cwd=tmp,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True),
        subprocess.Popen([nginx, "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-e", str(tmp / "nginx-error.log")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True),
    ]
    urls = {"front": f"http://127.0.0.1:{front_port}/", "static": f"http://127.0.0.1:{static_port}/",
            "app": f"http://127.0.0.1:{app_port}/"}
    runs: dict[str, list[dict]] = {name: [] for name in urls}
    try:
        for url in urls.values():
            wait_http(url)
        with urllib.request.urlopen(urls["front"]) as first, urllib.request.urlopen(urls["front"]) as second, \
                urllib.request.urlopen(urls["app"]) as direct, urllib.request.urlopen(urls["static"]) as static:
            bodies = first.read(), second.read(), direct.read(), static.read()
            status = second.headers["X-Cache-Status"]
        assert status == "HIT", f"the front's second `/` is {status}, not HIT"
        same = "identical to" if bodies[0] == bodies[1] == bodies[2] else "NOT the same as"
        print(f"page /: front (cache {status}) {len(bodies[1])} B, {same} the app's; static file "
              f"{len(bodies[3])} B", flush=True)
        # Every worker's own cache and the front's entry for wrk's headers (its variant: no Accept-Encoding) warm,
        # as after the first seconds of a surge: the first requests for a cold entry wait on proxy_cache_lock.
        load(urls["app"], 2, args.connections)
        load(urls["front"], 2, args.connections)
        for n in range(args.runs):
            for name, url in urls.items():
                r = load(url, args.seconds, args.connections)
                r["load1"] = os.getloadavg()[0]
                runs[name].append(r)
                print(f"run {n + 1} {name:6}: {r['rps']:9.0f} req/s  p99 {r['p99_ms']:7.2f} ms  "
                      f"load {r['load1']:.2f}" + (f"  non-2xx {r['non_2xx']}" if r["non_2xx"] else "")
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

    summary = {name: {key: statistics.median(r[key] for r in rs) for key in ("rps", "p99_ms", "load1")}
               for name, rs in runs.items()}
    ratio = summary["front"]["rps"] / summary["static"]["rps"]
    # Each run's own ratio too: on a shared machine the two medians may come from runs under different loads.
    per_run = [f["rps"] / s["rps"] for f, s in zip(runs["front"], runs["static"])]
    print(f"\nmedian of {args.runs} runs, {args.connections} connections, {args.seconds} s each "
          f"({os.cpu_count()} cores, load average 1 min {os.getloadavg()[0]:.2f} at the end):")
    for name, label in (("front", "front, cached / "), ("static", "nginx, static / "), ("app", "gunicorn alone  ")):
        s = summary[name]
        print(f"  {label}: {s['rps']:9.0f} req/s  p99 {s['p99_ms']:7.2f} ms  (load {s['load1']:.2f})")
    print(f"  front/static: {ratio:.1%} of the medians, {statistics.median(per_run):.1%} the median of the runs' "
          f"ratios ({', '.join(f'{r:.0%}' for r in per_run)}); target ≥ 50 %: "
          f"{'MET' if min(ratio, statistics.median(per_run)) >= 0.5 else 'NOT MET'};  "
          f"front/gunicorn: {summary['front']['rps'] / summary['app']['rps']:.1f}×")
    print(json.dumps({"median": summary, "ratio": round(ratio, 4), "per_run": [round(r, 4) for r in per_run],
                      "tool": "wrk" if use_wrk else "python", "runs": runs}))


if __name__ == "__main__":
    main()
