"""The same data gives the same page on every worker: through the real `outages serve` (gunicorn, 2 workers,
each with its own cache), requests carrying the ETag of the first answer all get 304 Not Modified, whichever
worker takes them, with the same Last-Modified (when the data changed, not when a worker rendered)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_worker_answers_304_to_the_etag_of_another(engine, settings, env, tmp_path):  # noqa: ANN001
    sync_demo(engine, settings)
    port = _free_port()
    # The access log names the worker process (%(p)s) of each answer, so the test sees both workers answer.
    log_args = "--access-logfile - --access-logformat '%(p)s %(s)s %(U)s'"
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "outages"), "serve", "--port", str(port), "--workers", "2"],
        env={**os.environ, **env, "GUNICORN_CMD_ARGS": log_args}, cwd=tmp_path, stdout=subprocess.PIPE,
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
            status, first = _get(url)
            assert status == 200
            answers: list[tuple[int, dict[str, str]]] = []
            with ThreadPoolExecutor(max_workers=10) as pool:
                # At least 20 requests; more (up to 200) only until both workers have answered some.
                while len(answers) < 200:
                    answers += pool.map(lambda _: _get(url, first["ETag"]), range(20))
                    if len(_workers(lines, path)) >= 2:
                        break
            assert [status for status, _ in answers] == [304] * len(answers)
            assert {h["ETag"] for _, h in answers} == {first["ETag"]}
            # (Werkzeug leaves Last-Modified out of the 304s Flask itself makes; the fast door keeps it.)
            assert {h.get("Last-Modified") for _, h in answers} - {None} == {first["Last-Modified"]}
            assert len(_workers(lines, path)) == 2, "".join(lines)
    finally:
        process.terminate()
        process.wait(20)


def _workers(lines: list[str], path: str) -> set[str]:
    """Worker process ids that answered 304 for this path, from the access log."""
    return {m.group(1) for line in list(lines) if (m := re.match(rf"<?(\d+)>? 304 {re.escape(path)}$", line.strip()))}
