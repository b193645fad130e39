"""Hostile input on the public site (issue 22), one table-driven test per finding, named after it:

- one rate limit for the whole city behind the shipped nginx (the app saw every client as 127.0.0.1);
- limits per client, not per victim (one e-mail address signed up from 20 clients got 20 mails);
- free text after a known street kept and sent in the Subject («Соборна 12 Bcc: x@evil.example»);
- SQLite id reuse (a forgotten subscriber's links acted on the next one);
- a NUL byte in a field on PostgreSQL (a 500);
- SQLite disk full (a raw traceback).

Real peers where they matter: nginx from Debian in front of the real `outages serve`, clients on several
loopback addresses; aiosmtpd for the mail; PostgreSQL and SQLite for the store.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from clocks import child_env
from conftest import DEMO_CSV
from nginx_front import free_port, start_nginx, wait_port
from rows import emergency, table
from sqlalchemy import Engine, event, func, select

from outages import db
from outages.delivery.drain import drain
from outages.officials.options import mail_options
from outages.records.sync import sync
from outages.residents import subscriptions as store
from outages.residents.fanout import expand_due
from outages.schema import outbox, records, subscribe_requests, subscriptions
from outages.transports.smtp import SmtpTransport

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
OLENA = "olena@example.org"
SECRET = "test-secret"  # mail_settings' OUTAGES_SECRET_KEY


@pytest.fixture
def app(mail_settings, engine):
    from web import create_app

    app = create_app(mail_settings, engine=engine)
    app.extensions["outages"].clock = lambda: NOW
    return app


def subscribe(client, email=OLENA, address="Соборна 14", ip="198.51.100.7", **extra):
    return client.post("/subscribe", data={"email": email, "address": address, **extra},
                       environ_base={"REMOTE_ADDR": ip})


def deliver(engine, settings, now):
    return drain(engine, SmtpTransport(mail_options(settings)), now=now, budget_s=30)


def mails_to(peer, address):
    return [r for r in peer.received if address.lower() in [t.lower() for t in r.rcpt_tos]]


def link(message, kind: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https://hub\.example\.org(/subscribe/{kind}/\S+)", text).group(1)


# ---- one rate limit for the whole city behind the shipped nginx ------------------------------------------------

# In order, through deploy/nginx.conf in front of `outages serve` with OUTAGES_SUBSCRIBE_LIMIT=2:
# (the client's own address, the X-Forwarded-For it sends itself or None, the answer it must get).
BEHIND_NGINX = [
    ("127.0.0.2", None, 200),
    ("127.0.0.2", None, 200),
    ("127.0.0.2", None, 429),  # this client's limit
    ("127.0.0.3", None, 200),  # another resident is not held by the first one's limit
    ("127.0.0.3", "198.51.100.1", 200),  # a forged header is ignored: still 127.0.0.3, its second sign-up
    ("127.0.0.3", "198.51.100.2", 429),  # and a new forged address each time does not escape the limit
    ("127.0.0.4", "127.0.0.2", 200),  # claiming to be a limited client changes nothing either
    ("127.0.0.5", "127.0.0.5, 127.0.0.9", 200),
]


def _post_from(source: str, port: int, fields: dict[str, str], forwarded: str | None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(source, 0))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    try:
        connection.request("POST", "/subscribe", body=urlencode(fields).encode(), headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.mark.clock  # sign-ups per hour, counted on the clock of `outages serve`
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_rate_limit_for_the_whole_city_behind_the_shipped_nginx(engine, env, tmp_path):
    app_port, nginx_port = free_port(), free_port()
    (tmp_path / "site").mkdir()
    app_env = child_env({**os.environ, **env, "OUTAGES_SECRET_KEY": SECRET,
                         "OUTAGES_PUBLIC_URL": "https://hub.example.org", "OUTAGES_SUBSCRIBE_LIMIT": "2"})
    app = subprocess.Popen([str(Path(sys.executable).parent / "outages"), "serve", "--port", str(app_port),
                            "--workers", "1"], env=app_env, cwd=tmp_path,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    front = start_nginx(tmp_path, nginx_port, app_port, tmp_path / "site")
    try:
        wait_port(app_port, app)
        wait_port(nginx_port, front)
        answers = [_post_from(source, nginx_port, {"email": f"p{n}@example.org", "address": "Соборна 14"},
                              forwarded)[0]
                   for n, (source, forwarded, _expected) in enumerate(BEHIND_NGINX)]
    finally:
        for process in (front, app):
            process.terminate()
            process.wait(20)
    assert answers == [expected for _source, _forwarded, expected in BEHIND_NGINX]
    with engine.connect() as conn:
        clients = set(conn.execute(select(subscribe_requests.c.client)).scalars())
    # Each sign-up is counted for the address nginx saw, never for one a client wrote itself.
    assert clients == {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}


# Straight into the app (no nginx): what address a sign-up is counted for, with OUTAGES_BEHIND_PROXY on and off.
# (behind_proxy, the peer's address, X-Forwarded-For as it arrives, the client counted)
ONE_HOP = [
    (True, "127.0.0.1", "203.0.113.5", "203.0.113.5"),
    (True, "127.0.0.1", "10.0.0.1, 203.0.113.5", "203.0.113.5"),  # only the last hop, the one our proxy wrote
    (True, "127.0.0.1", None, "127.0.0.1"),
    (False, "198.51.100.9", "203.0.113.5", "198.51.100.9"),  # no proxy: the header is anyone's invention
]


@pytest.mark.parametrize("behind, peer, forwarded, counted", ONE_HOP)
def test_one_rate_limit_for_the_whole_city_the_app_trusts_exactly_one_hop(mail_settings, engine, behind, peer,
                                                                          forwarded, counted):
    from web import create_app

    app = create_app(mail_settings.with_values(behind_proxy=behind), engine=engine)
    app.extensions["outages"].clock = lambda: NOW
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    answer = app.test_client().post("/subscribe", data={"email": OLENA, "address": "Соборна 14"}, headers=headers,
                                    environ_base={"REMOTE_ADDR": peer})
    assert answer.status_code == 200
    with engine.connect() as conn:
        assert conn.execute(select(subscribe_requests.c.client)).scalars().all() == [counted]


# ---- limits per client, not per victim ------------------------------------------------------------------------

# (what happened, the sign-ups as (e-mail, address, client)): each time one e-mail address, from 20 clients.
PER_VICTIM = [
    ("one address from 20 clients", [(OLENA, "Соборна 14", f"198.51.100.{n}") for n in range(20)]),
    ("one address for 20 houses", [(OLENA, f"Соборна {n}", f"198.51.100.{n}") for n in range(1, 21)]),
    ("one address in other letter cases", [(OLENA.upper() if n % 2 else OLENA.capitalize(), "Садова 3",
                                            f"203.0.113.{n}") for n in range(20)]),
]


@pytest.mark.parametrize("case, sign_ups", PER_VICTIM, ids=[c for c, _ in PER_VICTIM])
def test_limits_per_client_not_per_victim(app, engine, mail_settings, smtp_peer, case, sign_ups):
    client = app.test_client()
    answers = [(address, subscribe(client, email=email, address=address, ip=ip)) for email, address, ip in sign_ups]
    deliver(engine, mail_settings, NOW + timedelta(minutes=1))
    assert len(mails_to(smtp_peer, OLENA)) == 3  # a day's confirmations for one person, not one per client
    # The page answers alike whether a mail went or not: it says nothing about who is being signed up.
    for n, (address, answer) in enumerate(answers):
        assert answer.status_code == 200
        assert answer.text == subscribe(client, email=f"someone.new{n}@example.org", address=address,
                                        ip=f"192.0.2.{n}").text
    # A day later the person may ask for a confirmation again.
    later = NOW + timedelta(hours=24, minutes=5)
    app.extensions["outages"].clock = lambda: later
    email, address, _ip = sign_ups[-1]
    assert subscribe(client, email=email, address=address, ip="192.0.2.2").status_code == 200
    deliver(engine, mail_settings, later + timedelta(minutes=1))
    assert len(mails_to(smtp_peer, OLENA)) == 4


# ---- free text after a known street in the Subject -------------------------------------------------------------

# (what the resident typed, what is kept and shown; None: refused with the message given)
TYPED = [
    ("Соборна 12 Bcc: x@evil.example", "вул. Соборна, 12"),
    ("Соборна 12\r\nBcc: x@evil.example", "вул. Соборна, 12"),
    ("соборна, 12 <b>evil</b> =?utf-8?q?x?=", "вул. Соборна, 12"),
    ("вул. Соборна 12а, кв. 5, evil.example", "вул. Соборна, 12а"),
    ("Bcc: x@evil.example", None),
]


@pytest.mark.parametrize("typed, kept", TYPED)
def test_free_text_after_a_known_street_never_reaches_a_subject(app, engine, mail_settings, smtp_peer, typed, kept):
    client = app.test_client()
    answer = subscribe(client, address=typed)
    if kept is None:
        assert answer.status_code == 400 and "не знайдено в довіднику міста" in answer.text
        with engine.connect() as conn:
            assert conn.execute(select(subscriptions)).all() == []
        return
    assert answer.status_code == 200 and f"«{kept}»" in answer.text and "evil" not in answer.text
    with engine.connect() as conn:
        assert conn.execute(select(subscriptions.c.address)).scalars().all() == [kept]
    deliver(engine, mail_settings, NOW)
    [confirmation] = mails_to(smtp_peer, OLENA)
    assert confirmation.message["Subject"] == f"Підтвердіть підписку: {kept} (Демо-місто)"
    client.post(link(confirmation.message, "confirm"))
    sync(engine, table(emergency(addresses="вул. Соборна, 10-20")), mail_settings, NOW)
    expand_due(engine, mail_settings, NOW)
    deliver(engine, mail_settings, NOW + timedelta(minutes=1))
    confirmation, news = mails_to(smtp_peer, OLENA)
    assert news.message["Subject"] == f"Аварія: Водопостачання — {kept}"
    for mail in (confirmation, news):
        assert mail.rcpt_tos == [OLENA]  # no Bcc was made of anything
        raw = mail.message.as_string()
        assert "evil" not in raw and "Bcc" not in raw


# ---- SQLite id reuse ---------------------------------------------------------------------------------------------

# (how subscriber A left, which of A's old links is used and how)
OLD_LINKS = [
    ("forgotten", "manage", "GET"),
    ("forgotten", "unsubscribe", "GET"),
    ("forgotten", "unsubscribe", "POST"),
    ("forgotten", "confirm", "POST"),
    ("purged", "manage", "GET"),
    ("purged", "unsubscribe", "POST"),
]


@pytest.mark.parametrize("gone, kind, method", OLD_LINKS)
def test_sqlite_id_reuse_old_links_of_a_forgotten_subscriber_do_nothing(app, engine, mail_settings, run_cli, gone,
                                                                       kind, method):
    client = app.test_client()
    subscribe(client, email="anna@example.org", address="Соборна 14")
    with engine.begin() as conn:
        a_id = conn.execute(select(subscriptions.c.id)).scalar_one()
        if gone == "forgotten":
            store.confirm(conn, a_id, NOW)
    token = (store.confirm_token(SECRET, a_id, NOW) if kind == "confirm" else store.link_token(SECRET, a_id))
    if gone == "forgotten":
        assert run_cli("subscribers", "forget", "anna@example.org").exit_code == 0
    else:
        with engine.begin() as conn:
            assert store.purge(conn, NOW + timedelta(days=8)) == 1
    subscribe(client, email="bohdan@example.org", address="Садова 3", ip="198.51.100.8")
    with engine.connect() as conn:
        before = conn.execute(select(subscriptions)).one()
    assert before.id != a_id  # the id is never given again
    answer = client.open(f"/subscribe/{kind}/{token}", method=method, data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert "Садова" not in answer.text and "bohdan" not in answer.text
    with engine.connect() as conn:
        after = conn.execute(select(subscriptions)).one()
    assert after == before  # B is neither confirmed nor unsubscribed by A's link


# ---- a NUL byte in a field on PostgreSQL -----------------------------------------------------------------------

# (the request, as (method, path, form data)); each answers 400 with a page that names the character.
NUL = [
    ("POST", "/subscribe", {"email": OLENA, "address": "Соборна 14\x00"}),
    ("POST", "/subscribe", {"email": "olena\x00@example.org", "address": "Соборна 14"}),
    ("POST", "/subscribe", {"email": OLENA, "address": "Соборна 14", "services": "Водопостачання\x00"}),
    ("POST", "/subscribe", {"email": OLENA, "address": "Соборна 14", "a\x00": "x"}),
    ("GET", "/subscribe?address=%D0%A1%D0%BE%D0%B1%D0%BE%D1%80%D0%BD%D0%B0%0014", None),
    ("GET", "/?q=%D0%A1%D0%BE%D0%B1%D0%BE%D1%80%D0%BD%D0%B0%0014", None),
    ("GET", "/api/v1/outages?q=%00", None),
    ("POST", "/subscribe/unsubscribe/x", {"List-Unsubscribe": "One-Click\x00"}),
]


@pytest.mark.parametrize("method, path, data", NUL)
def test_a_nul_byte_in_a_field_is_a_clear_400_not_a_500(app, engine, method, path, data):
    answer = app.test_client().open(path, method=method, data=data, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert answer.status_code == 400
    assert "U+0000" in answer.text and "Traceback" not in answer.text
    if path.startswith("/api/"):  # the API's own documented error object
        assert answer.json["error"]["status"] == 400 and "U+0000" in answer.json["error"]["message_en"]
    with engine.connect() as conn:
        assert conn.execute(select(subscriptions)).all() == []
        assert conn.execute(select(outbox)).all() == []


def test_a_nul_byte_in_the_hooks_body_is_never_a_500(mail_settings, engine):
    """The form's hook stores no text of its body (only a digest and the time it read), so a NUL there is harmless:
    an `at` Python reads up to the NUL is accepted, one that is only a NUL is refused."""
    import json

    from web import create_app
    from web.hooks import signature

    app = create_app(mail_settings.with_values(hook_secret="hook-secret-0123456789"), engine=engine)
    app.extensions["outages"].clock = lambda: NOW
    for at, status in (("2026-11-22T16:00:00Z\x00", 202), ("\x00", 400), ("2026-11-22\x00T16:00:00Z", 400)):
        body = json.dumps({"at": at, "note": "\x00"}).encode()
        answer = app.test_client().post("/hooks/form-submitted", data=body, content_type="application/json",
                                        headers={"X-Outages-Signature": signature("hook-secret-0123456789", body)})
        assert answer.status_code == status, at


# ---- SQLite disk full ----------------------------------------------------------------------------------------------

@contextmanager
def full_disk(engine: Engine):
    """Every SQLite connection opened meanwhile (the app's, the CLI's) may not grow the file by a page: SQLite's
    max_page_count, below the file's size, is kept at its size, so the next page a write needs is SQLITE_FULL."""
    def no_room(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA max_page_count = 1")

    event.listen(Engine, "connect", no_room)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(Engine, "connect", no_room)
        engine.dispose()


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        return (conn.execute(select(func.count()).select_from(records)).scalar_one(),
                conn.execute(select(func.count()).select_from(subscriptions)).scalar_one())


# The CLI reads the real clock: pinned just after the demo export's last row, the evening of NOW.
EVENING = datetime(2026, 11, 22, 22, 10, tzinfo=KYIV)


def _cli_sync(run_cli, app):
    with time_machine.travel(EVENING, tick=True):
        result = run_cli("sync", "--source", str(DEMO_CSV))
    return result.exit_code, result.output


def _cli_run_once(run_cli, app):
    with time_machine.travel(EVENING, tick=True):
        result = run_cli("run", "--once", "--source", str(DEMO_CSV))
    return result.exit_code, result.output


def _web_sign_up(run_cli, app):
    answer = subscribe(app.test_client(), email="new@example.org", address="Садова 3")
    return answer.status_code, answer.text


# (what writes, the exit code or HTTP status it must end with, words the user must read)
FULL = [
    (_cli_sync, 2, "на диску бази даних немає місця"),
    (_cli_run_once, 1, "на диску бази даних немає місця"),
    (_web_sign_up, 503, "закінчилося місце для даних"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("write, code, words", FULL, ids=["sync", "run --once", "sign-up"])
def test_sqlite_disk_full_is_a_clear_message_and_the_data_intact(app, engine, mail_settings, run_cli, capfd, write,
                                                                 code, words):
    sync(engine, table(emergency(addresses="вул. Соборна, 10-20")), mail_settings, NOW)
    subscribe(app.test_client())
    before = _counts(engine)
    capfd.readouterr()
    with full_disk(engine):
        status, said = write(run_cli, app)
    out, err = capfd.readouterr()
    assert status == code and words in said
    assert "Traceback" not in said + out + err
    assert _counts(engine) == before  # nothing half-written, the file whole
    # With room again the same write goes through.
    status, _said = write(run_cli, app)
    assert status in (0, 200)
    assert _counts(engine) > before


def test_store_full_is_told_apart_from_other_database_errors():
    import sqlite3

    from sqlalchemy.exc import OperationalError

    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = 5
    assert db.store_full(OperationalError("INSERT", {}, full))
    assert not db.store_full(OperationalError("INSERT", {}, locked))
