"""gunicorn configuration for the public site (`outages serve`, or `gunicorn -c deploy/gunicorn.conf.py
web.wsgi:app`). Settings of the hub itself come from OUTAGES_* and the city's TOML, not from here."""

import multiprocessing

# Answers come from each worker's memory cache: short, CPU-bound work under one GIL per process. One
# process per core, each with enough threads for every open connection, measured best on `bench/web_bench.py`
# (2 cores, 50 connections: 2×25 gave a p99 of 38–44 ms where 3×4 gave 50–130 ms, at the same throughput).
# Threads mostly wait on sockets (slow phones, keep-alive), which costs no CPU.
workers = multiprocessing.cpu_count()
worker_class = "gthread"
threads = 25
# Keep-alive behind a load balancer or CDN saves a handshake per request.
keepalive = 5
timeout = 30
graceful_timeout = 20
# No max_requests: a surge of thousands of requests a second would recycle workers every few seconds and
# throw their caches away; the cache's own LRU bounds memory.
# No access log here: the proxy or CDN in front logs requests, and a log line per request costs throughput
# in a surge. Add `--access-logfile -` when running gunicorn bare.
errorlog = "-"
# Trust X-Forwarded-Proto only from the local proxy. gunicorn never takes the client's address from
# X-Forwarded-For: the app does (web.create_app, OUTAGES_BEHIND_PROXY, one hop).
forwarded_allow_ips = "127.0.0.1"
# gunicorn ≥ 24 opens a control socket in $HOME by default; two sites (or a test and a benchmark) on one
# machine would fight over it, and nothing here uses it.
control_socket_disable = True


def post_worker_init(worker) -> None:  # noqa: ANN001
    # A worker's threads share one GIL. A thread that answers from memory (microseconds of work) needs the GIL a few
    # times per request, and each time waits while a rendering thread holds it for up to the switch interval
    # (5 ms by default): under a surge a cached page waited tens of milliseconds for renders of other pages. 1 ms
    # hands it over sooner (bench/mixed_bench.py: the probe of cached pages).
    import sys

    sys.setswitchinterval(0.001)
