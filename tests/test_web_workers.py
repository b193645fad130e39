"""The same data gives the same page on every worker: through the real `outages serve` (gunicorn, 2 workers,
each with its own cache), requests carrying the ETag of the first answer all get 304 Not Modified, whichever
worker takes them, with the same Last-Modified (when the data changed, not when a worker rendered)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from clocks import child_env
from web_demo import sync_demo


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, etag: str | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:  # 304 comes as an "error" from urllib
        return exc.code, dict(exc.headers)


@pytest.mark.clock
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_worker_answers_304_to_the_etag_of_another(engine, settings, env, tmp_path):
    sync_demo(engine, settings)
    port = _free_port()
    # The access log names the worker process (%(p)s) of each answer, so the test sees both workers answer.
    log_args = "--access-logfile - --access-logformat '%(p)s %(s)s %(U)s'"
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "outages"), "serve", "--port", str(port), "--workers", "2"],
        env=child_env({**os.environ, **env, "GUNICORN_CMD_ARGS": log_args}), cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    booted = threading.Semaphore(0)
    lines: list[str] = []

    def watch() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if "Booting worker" in line:
                booted.release()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert booted.acquire(timeout=30) and booted.acquire(timeout=30), "".join(lines)
        for path in ("/", "/en/outages/8", "/feed.atom"):
            url = f"http://127.0.0.1:{port}{path}"
            # Until both workers have rendered the page themselves (a worker still starting takes no requests).
            firsts = _until_both(lambda: _get(url), lines, path, 200)
            assert {status for status, _ in firsts} == {200}
            assert len({h["ETag"] for _, h in firsts}) == 1, "two workers made two different pages"
            etag = firsts[0][1]["ETag"]
            answers = _until_both(lambda: _get(url, etag), lines, path, 304)
            assert len(answers) >= 20
            assert [status for status, _ in answers] == [304] * len(answers)
            assert {h["ETag"] for _, h in answers} == {etag}
            # (Werkzeug leaves Last-Modified out of the 304s Flask itself makes; the fast door keeps it.)
            assert {h.get("Last-Modified") for _, h in answers} - {None} == {firsts[0][1]["Last-Modified"]}
            assert len(_workers(lines, path, 304)) == 2, "".join(lines)
    finally:
        process.terminate()
        process.wait(20)


def _until_both(call, lines: list[str], path: str, status: int) -> list:
    """Batches of 20 concurrent requests until both workers have answered `status` for `path` (60 s at most)."""
    answers: list = []
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(max_workers=10) as pool:
        while time.monotonic() < deadline:
            answers += pool.map(lambda _: call(), range(20))
            if len(_workers(lines, path, status)) >= 2:
                break
    return answers


def _workers(lines: list[str], path: str, status: int) -> set[str]:
    """Worker process ids that answered `status` for this path, from the access log."""
    return {m.group(1) for line in list(lines)
            if (m := re.match(rf"<?(\d+)>? {status} {re.escape(path)}$", line.strip()))}
