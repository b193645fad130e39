"""deploy/nginx.conf in front of the real `outages serve` (gunicorn): 200 slow clients, each sending its request
one byte every two seconds, hold connections to nginx while a normal request is answered in full; and when the
app is down, nginx answers from the static copy that `outages publish` wrote. nginx comes from Debian
(`make tools`); everything listens on 127.0.0.1 only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from clocks import child_env
from nginx_front import free_port as _free_port
from nginx_front import main_config as _main_config
from nginx_front import nginx_binary as _nginx
from nginx_front import wait_port as _wait_port
from web_demo import Page, make_app, sync_demo

from web.publish import publish

SLOW_CLIENTS = 200
REQUEST = b"GET /timeliness HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n\r\n"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_slow_clients_do_not_delay_a_normal_request_and_the_static_copy_stands_in(engine, settings, env,
                                                                                  tmp_path):
    nginx = _nginx()
    sync_demo(engine, settings)
    site = tmp_path / "site"
    publish(make_app(engine, settings), site, log=lambda line: None)
    app_port, nginx_port = _free_port(), _free_port()
    (tmp_path / "nginx").mkdir()
    conf = _main_config(tmp_path / "nginx", nginx_port, app_port, site)
    # One worker with its 25 threads: alone, 200 slow clients would hold every thread of it.
    app = subprocess.Popen([str(Path(sys.executable).parent / "outages"), "serve", "--port", str(app_port),
                            "--workers", "1"], env=child_env({**os.environ, **env}), cwd=tmp_path,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    front = subprocess.Popen([nginx, "-e", str(tmp_path / "nginx" / "error.log"), "-c", str(conf),
                              "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    slow: list[socket.socket] = []
    try:
        _wait_port(app_port, app)
        _wait_port(nginx_port, front)
        base = f"http://127.0.0.1:{nginx_port}"
        for _ in range(SLOW_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", nginx_port), timeout=5)
            sock.sendall(REQUEST[:1])
            slow.append(sock)
        stop = threading.Event()

        def trickle() -> None:  # one more header byte from every slow client every two seconds
            sent = 1
            while not stop.wait(2) and sent < len(REQUEST) - 1:
                for sock in slow:
                    sock.sendall(REQUEST[sent:sent + 1])
                sent += 1

        threading.Thread(target=trickle, daemon=True).start()
        stop.wait(2.5)  # every slow client has begun its request, and none can finish it
        for path, words in (("/", "Аварії зараз (5)"), ("/outages/8", "Аварія на магістральній тепломережі"),
                            ("/timeliness", "Своєчасність внесення інформації")):
            with urllib.request.urlopen(base + path, timeout=5) as response:
                assert response.status == 200 and "X-Served-From" not in response.headers
                assert words in Page(response.read().decode("utf-8")).text
        # The slow clients are all still connected, their requests unfinished: they delayed nobody.
        for sock in slow:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)  # no answer and no close yet
        stop.set()

        # The app goes down: nginx answers from the static copy.
        app.terminate()
        app.wait(20)
        for path, words in (("/", "Аварії зараз (5)"), ("/outages/8", "Аварія на магістральній тепломережі"),
                            ("/en/outages/8", "Heating")):
            with urllib.request.urlopen(base + path, timeout=5) as response:
                assert response.status == 200 and response.headers["X-Served-From"] == "static copy"
                assert words in Page(response.read().decode("utf-8")).text
    finally:
        for sock in slow:
            sock.close()
        for process in (front, app):
            if process.poll() is None:
                process.terminate()
                process.wait(20)
