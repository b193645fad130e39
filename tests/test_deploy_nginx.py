"""deploy/nginx.conf in front of the real `outages serve` (gunicorn): 200 slow clients, each sending its request
one byte every two seconds, hold connections to nginx while a normal request is answered in full; when the app is
down, nginx answers from its cache or the static copy that `outages publish` wrote. The front's cache: each page
and each search its own entry, served again with the same bytes; the console, sign-up pages and POSTs never in it,
and no one's cookie in anyone else's answer; a stale entry answers while the app is killed or hangs. nginx comes
from Debian (`make tools`); everything listens on 127.0.0.1 only."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, urlencode

import pytest
from clocks import child_env
from nginx_front import free_port as _free_port
from nginx_front import main_config as _main_config
from nginx_front import nginx_binary as _nginx
from nginx_front import start_nginx as _start_nginx
from nginx_front import wait_port as _wait_port
from ops_client import PASSWORD, TOKEN, add_person
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

        # The app goes down: what the front has cached answers from its cache, the rest from the static copy.
        app.terminate()
        app.wait(20)
        for path, words, source in (("/", "Аварії зараз (5)", "cache"),
                                    ("/outages/8", "Аварія на магістральній тепломережі", "cache"),
                                    ("/en/outages/8", "Heating", "static copy")):
            with urllib.request.urlopen(base + path, timeout=5) as response:
                assert response.status == 200
                if source == "cache":
                    assert response.headers["X-Cache-Status"] in ("HIT", "STALE")
                    assert "X-Served-From" not in response.headers
                else:
                    assert response.headers["X-Served-From"] == "static copy"
                assert words in Page(response.read().decode("utf-8")).text
    finally:
        for sock in slow:
            sock.close()
        for process in (front, app):
            if process.poll() is None:
                process.terminate()
                process.wait(20)


# ---- the front's cache ------------------------------------------------------------------------------------------

SECRET = "front-test-secret"


@contextmanager
def _front(tmp_path: Path, env: dict[str, str], engine, settings, *, toml: str = "",
           changes: dict[str, str] | None = None) -> Iterator[tuple[int, subprocess.Popen]]:
    """The demo synced and published, `outages serve` (its own process group, so a test can stop it whole) with
    `toml` as its outages.toml, and the shipped nginx in front with `changes`: yields (nginx's port, the app)."""
    sync_demo(engine, settings)
    site = tmp_path / "site"
    publish(make_app(engine, settings), site, log=lambda line: None)
    (tmp_path / "outages.toml").write_text(toml, "utf-8")
    app_port, nginx_port = _free_port(), _free_port()
    app = subprocess.Popen([str(Path(sys.executable).parent / "outages"), "serve", "--port", str(app_port),
                            "--workers", "1"], env=child_env({**os.environ, **env, "OUTAGES_SECRET_KEY": SECRET}),
                           cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    front = _start_nginx(tmp_path, nginx_port, app_port, site, changes)
    try:
        _wait_port(app_port, app)
        _wait_port(nginx_port, front)
        yield nginx_port, app
    finally:
        for process in (front, app):
            if process.poll() is None:
                if process is app:
                    os.killpg(app.pid, signal.SIGCONT)  # a test may have stopped it
                process.terminate()
                process.wait(20)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def cache(self) -> str | None:
        return self.headers["X-Cache-Status"]

    def cookie(self, name: str) -> str | None:
        for line in self.headers.get_all("Set-Cookie") or []:
            key, _, rest = line.partition("=")
            if key.strip() == name:
                return rest.split(";", 1)[0]
        return None


def _ask(port: int, path: str, method: str = "GET", cookie: str | None = None,
         form: dict[str, str] | None = None) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def _search(text: str) -> str:
    return "/?q=" + quote(text)


# Public answers: the first is a MISS, the same URL again a HIT with the same bytes; each search its own entry.
CACHED = [
    ("/", "Аварії зараз (5)"),
    (_search("Соборна 14"), "Соборна"),
    (_search("Соборна 16"), "Соборна"),
    ("/en/", "Emergencies now (5)"),
    ("/feed.atom", "<feed"),
    ("/api/v1/outages", '"number"'),
]
# Never stored: (method, path, form, the X-Cache-Status every answer carries). The rooms of one person are never
# looked up (BYPASS); a POST is never even a candidate (no header); answers the app did not mark public are looked
# up but never kept (MISS each time).
NEVER_CACHED = [
    ("GET", "/ops/login", None, "BYPASS"),
    ("GET", "/ops", None, "BYPASS"),
    ("POST", "/ops/login", {"email": "x@example.org", "password": "x"}, None),
    ("GET", "/subscribe", None, "BYPASS"),
    ("GET", "/subscribe?address=" + quote("Соборна 14"), None, "BYPASS"),
    ("POST", "/subscribe", {"email": "a@example.org", "address": "Соборна 14"}, None),
    ("POST", "/", {"q": "Соборна 14"}, None),
    ("GET", "/healthz", None, "MISS"),
    ("GET", "/no-such-page", None, "MISS"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_front_caches_each_public_page_and_each_search_and_nothing_personal(engine, settings, env, tmp_path):
    _nginx()
    add_person(engine, "olena@example.org")
    with _front(tmp_path, env, engine, settings) as (port, _app):
        first = {path: _ask(port, path) for path, _words in CACHED}
        again = {path: _ask(port, path) for path, _words in CACHED}
        for path, words in CACHED:
            assert (first[path].status, first[path].cache, again[path].cache) == (200, "MISS", "HIT"), path
            assert again[path].body == first[path].body, path
            body = again[path].body.decode("utf-8")
            assert words in body or words in Page(body).text, path
        # Two searches, two entries: each answers its own house.
        soborna_14, soborna_16 = again[_search("Соборна 14")].body, again[_search("Соборна 16")].body
        assert soborna_14 != soborna_16
        assert "Соборна, 14" in Page(soborna_14.decode()).text and "Соборна, 16" in Page(soborna_16.decode()).text

        for method, path, form, status in NEVER_CACHED:
            answers = [_ask(port, path, method, form=form) for _ in range(3)]
            assert [a.cache for a in answers] == [status] * 3, (method, path)

        # One person signs in through the front; their session's pages and cookies reach only them.
        login = _ask(port, "/ops/login")
        cookie = "outages_ops=" + login.cookie("outages_ops")
        token = TOKEN.search(login.body.decode()).group(1)
        signed_in = _ask(port, "/ops/login", "POST", cookie=cookie,
                         form={"email": "olena@example.org", "password": PASSWORD, "csrf_token": token})
        assert signed_in.status == 303 and signed_in.cookie("outages_ops")
        cookie = "outages_ops=" + signed_in.cookie("outages_ops")
        mine = [_ask(port, "/ops", cookie=cookie) for _ in range(2)]
        assert [(a.status, a.cache) for a in mine] == [(200, "BYPASS")] * 2
        assert all("olena@example.org" in a.body.decode() for a in mine)
        # Another client, without that cookie, asking the same URLs right after.
        theirs = _ask(port, "/ops")
        assert theirs.status in (302, 303) and b"olena@example.org" not in theirs.body
        assert theirs.cookie("outages_ops") != signed_in.cookie("outages_ops")
        other_login = _ask(port, "/ops/login")
        assert other_login.cookie("outages_ops") not in (None, login.cookie("outages_ops"),
                                                         signed_in.cookie("outages_ops"))
        # A public page asked with the session cookie and then without: one entry, never a Set-Cookie.
        for answer in (_ask(port, "/", cookie=cookie), _ask(port, "/")):
            assert answer.cache == "HIT" and answer.headers["Set-Cookie"] is None


# How the app fails once the entries have expired, and the shipped config's changes for the case: with the
# background update off, `error` (the app killed) and `timeout` (the app hung) of proxy_cache_use_stale answer.
STALE = [
    ("killed", {}),
    ("killed", {"proxy_cache_background_update on;": "proxy_cache_background_update off;"}),
    ("hung", {"proxy_cache_background_update on;": "proxy_cache_background_update off;",
              "proxy_read_timeout 20s;": "proxy_read_timeout 2s;"}),
]


@pytest.mark.parametrize(("failure", "changes"), STALE)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_stale_entry_answers_while_the_app_is_down(engine, settings, env, tmp_path, failure, changes):
    _nginx()
    # The app's answers say max-age=1: nginx keeps them that long, not its 30 s fallback.
    with _front(tmp_path, env, engine, settings, toml="cache_seconds = 1\n", changes=changes) as (port, app):
        paths = ("/", _search("Соборна 14"))
        fresh = {path: _ask(port, path) for path in paths}
        assert all(a.status == 200 and a.cache == "MISS" for a in fresh.values())
        # Past the app's max-age: nginx counts whole seconds (an entry stored at 10.05 with max-age=1 is fresh until
        # 11.999), so two seconds make every entry stale.
        time.sleep(2.2)
        if failure == "killed":
            app.terminate()
            app.wait(20)
        else:
            os.killpg(app.pid, signal.SIGSTOP)  # accepts connections (the kernel's backlog), never answers
        for path in paths:
            answer = _ask(port, path)
            assert (answer.status, answer.cache) == (200, "STALE"), path
            assert answer.body == fresh[path].body and "X-Served-From" not in answer.headers
        # A page the front never kept: the static copy, as before.
        static = _ask(port, "/outages/8")
        assert static.status == 200 and static.headers["X-Served-From"] == "static copy"
        assert "Аварія на магістральній тепломережі" in Page(static.body.decode()).text
