"""Hostile peers and long faults (issue 22), against real peers on 127.0.0.1: the fake Bot API (tests/fake_telegram.py)
trickling, hanging, dropping and failing for a day; a webhook receiver that trickles; an SMTP server that trickles its
greeting; aiosmtpd; a worker process killed with SIGKILL. Each test is named after the finding it guards:

- one outside call runs far past the claim lease when its answer is trickled (a total deadline, not one per read);
- kill -9 during a channel post: two posts and the row queued again without «МОЖЛИВО ДВІЧІ»;
- a sender whose clock runs 20 minutes ahead sends a mail twice (claims by the database's clock);
- a day-long Telegram outage (bounded retries, then the backlog in order, within the limits, each post once);
- the bot: a flood from one chat, an update holding U+0000.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic
from zoneinfo import ZoneInfo

import pytest
from clocks import child_env
from fake_telegram import TOKEN, fake_bot_api
from rows import emergency, table
from rows import update as update_row
from smtp_peer import rows_of
from sqlalchemy import func, select, update

from outages.delivery.drain import database_now, drain
from outages.officials.options import mail_options
from outages.records.sync import sync
from outages.residents import bot
from outages.residents.bot import poll_once
from outages.schema import bot_updates, delivery_attempts, outbox
from outages.settings import load
from outages.transports.smtp import SmtpTransport
from outages.transports.telegram import BotApi, RateLimit, TelegramTransport, telegram_options
from outages.transports.webhook import WebhookTransport

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
CHANNEL = "@city_outages"
SECRET = "crm-shared-secret-0123456789"
ONE_OFFICIAL = [{"email": "deputy@example.org", "name": "Заступник", "role": "deputy"}]


# --- peers --------------------------------------------------------------------------------------------------------
class Receiver:
    """A webhook receiver: answers 204 at once, or (`trickle`) one byte every `every` seconds."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.trickle: float | None = None
        self.reached = threading.Event()
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                receiver.received.append(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.reached.set()
                answer = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
                if receiver.trickle is None:
                    self.wfile.write(answer)
                    return
                self.close_connection = True
                try:
                    for i in range(len(answer)):
                        self.wfile.write(answer[i:i + 1])
                        self.wfile.flush()
                        if receiver.closing.wait(receiver.trickle):
                            return
                except OSError:  # the client gave up: its deadline passed
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/outages"

    def stop(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


class TricklingSmtp:
    """An SMTP server that never finishes its greeting: «220-» lines, one byte every `every` seconds, each byte well
    within smtplib's timeout per read, for up to a minute."""

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.reached = threading.Event()
        self.closing = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.closing.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        self.reached.set()
        line = b"220-mail.example.org slowly\r\n"
        started = monotonic()
        with conn:
            try:
                while monotonic() - started < 60:
                    for i in range(len(line)):
                        conn.sendall(line[i:i + 1])
                        if self.closing.wait(self.every):
                            return
            except OSError:  # the client gave up
                pass

    def stop(self) -> None:
        self.closing.set()
        self.listener.close()


@pytest.fixture
def bot_api():
    yield from fake_bot_api(chat_limit=None)


@pytest.fixture
def receiver():
    peer = Receiver()
    yield peer
    peer.stop()


@pytest.fixture
def trickler():
    peer = TricklingSmtp()
    yield peer
    peer.stop()


def tg_settings(monkeypatch, api):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_CHANNEL": CHANNEL,
                       "OUTAGES_TELEGRAM_API_URL": api.url, "OUTAGES_PUBLIC_URL": "https://hub.example.org"}.items():
        monkeypatch.setenv(key, value)
    return load()


def city_file(tmp_path, monkeypatch, text: str) -> None:
    config = tmp_path / "city.toml"
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))


def channel_rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(outbox).where(outbox.c.channel == "telegram").order_by(outbox.c.id)).all()


def attempt_results(engine, row_id: int) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(select(delivery_attempts.c.result).where(delivery_attempts.c.outbox_id == row_id)
                            .order_by(delivery_attempts.c.id)).scalars().all()


# --- 1. a total deadline per outside call -----------------------------------------------------------------------------
def _trickling_telegram(engine, monkeypatch, tmp_path, bot_api, receiver, trickler):
    settings = tg_settings(monkeypatch, bot_api)
    sync(engine, table(emergency()), settings, NOW)
    bot_api.trickle("sendMessage", every=1.0)  # the post is made; its answer comes one byte a second
    return (lambda: TelegramTransport(telegram_options(settings))), bot_api.reached, "telegram"


def _trickling_webhook(engine, monkeypatch, tmp_path, bot_api, receiver, trickler):
    city_file(tmp_path, monkeypatch, f'[[webhooks]]\nname = "crm"\nurl = "{receiver.url}"\nsecret = "{SECRET}"\n')
    settings = load()
    sync(engine, table(emergency()), settings, NOW)
    receiver.trickle = 1.0
    return (lambda: WebhookTransport(settings.webhooks)), receiver.reached, "webhook"


def _trickling_smtp(engine, monkeypatch, tmp_path, bot_api, receiver, trickler):
    city_file(tmp_path, monkeypatch, '[[recipients]]\nemail = "deputy@example.org"\nname = "Заступник"\n'
              'role = "deputy"\n\n[[recipients]]\nemail = "press@example.org"\nname = "Преса"\nrole = "press"\n\n'
              "[notify]\nsmtp_timeout = 1\nsmtp_data_timeout = 1\n")
    for key, value in {"OUTAGES_SMTP_HOST": "127.0.0.1", "OUTAGES_SMTP_PORT": str(trickler.port),
                       "OUTAGES_SMTP_TLS": "none", "OUTAGES_MAIL_FROM": "hub@example.org"}.items():
        monkeypatch.setenv(key, value)
    settings = load()
    sync(engine, table(emergency()), settings, NOW)
    return (lambda: SmtpTransport(mail_options(settings))), trickler.reached, "email"


# (the peer, how it is set up, what the cut attempt is recorded as: the peer had the request, or never got it)
TRICKLING = [
    ("telegram", _trickling_telegram, "interrupted"),
    ("webhook", _trickling_webhook, "interrupted"),
    ("smtp", _trickling_smtp, "deferred"),  # the greeting never ended: no message was handed over
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("peer", "trickling", "recorded"), TRICKLING, ids=[t[0] for t in TRICKLING])
def test_an_answer_trickled_a_byte_a_second_ends_at_one_total_deadline_far_inside_the_claim_lease(
        engine, monkeypatch, tmp_path, bot_api, receiver, trickler, peer, trickling, recorded):
    """It ran 650 s (the read timeout restarted with every byte), past the lease, and a second `send` posted the
    record again. Now the call ends at its transport's total `longest()`, far inside the claim lease, and a second
    sender meanwhile (its clock 5 minutes on) takes nothing over."""
    made, reached, channel = trickling(engine, monkeypatch, tmp_path, bot_api, receiver, trickler)
    transport = made()
    longest = transport.longest().total_seconds()
    assert longest <= 15 and transport.policy.claim_lease.total_seconds() > 5 * longest
    counts: list[dict] = []
    began = monotonic()
    first = threading.Thread(target=lambda: counts.append(drain(engine, transport, now=NOW, budget_s=120)),
                             daemon=True)
    first.start()
    assert reached.wait(10), "the call never reached the peer"
    second = drain(engine, made(), now=NOW + timedelta(minutes=5), budget_s=5)
    assert second.get("sent", 0) == 0 and second.get("lost", 0) == 0, second
    first.join(longest + 3)
    took = monotonic() - began
    assert not first.is_alive(), f"{peer}: still in the call after {took:.0f} s (its total is {longest:g} s)"
    assert took <= longest + 3
    assert counts[0]["deferred"] >= 1 and counts[0]["sent"] == 0
    with engine.connect() as conn:
        rows = conn.execute(select(outbox).where(outbox.c.channel == channel).order_by(outbox.c.id)).all()
    assert {r.status for r in rows} == {"queued"}  # each waits for its next try (no row left claimed)
    assert attempt_results(engine, rows[0].id) == [recorded]


# --- 2. maybe twice, flagged ------------------------------------------------------------------------------------
KILLED_DRAIN = """
import sys
from datetime import datetime
from outages import db
from outages.delivery.drain import drain
from outages.settings import load
from outages.times import UTC
from outages.transports.telegram import TelegramTransport, telegram_options
settings = load()
drain(db.engine_for(settings), TelegramTransport(telegram_options(settings)), now=datetime.fromisoformat(sys.argv[1]))
"""


def test_a_worker_killed_inside_a_channel_post_leaves_the_row_flagged_maybe_twice(engine, monkeypatch, bot_api,
                                                                                 run_cli):
    """kill -9 inside sendMessage: Telegram made the post, the worker never heard. The next drain's own call got
    no answer either (the connection dropped after Telegram had it) and the row went back to the queue, and
    `outages outbox` showed nothing. Both cut attempts are `interrupted`; the row is flagged while it waits and
    after it is sent."""
    settings = tg_settings(monkeypatch, bot_api)
    sync(engine, table(emergency()), settings, NOW)
    bot_api.hold("sendMessage")
    worker = subprocess.Popen([sys.executable, "-c", KILLED_DRAIN, NOW.isoformat()], env=child_env(dict(os.environ)))
    try:
        assert bot_api.reached.wait(30), "the worker never called sendMessage"
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
        bot_api.release()
    assert bot_api.posts(CHANNEL) == 1
    [post] = channel_rows(engine)
    assert post.status == "sending" and attempt_results(engine, post.id) == ["sending"]
    assert drain(engine, TelegramTransport(telegram_options(settings)), now=NOW + timedelta(minutes=1)) == \
        {"sent": 0, "failed": 0, "deferred": 0}  # the dead worker's claim holds until its lease has passed
    with engine.begin() as conn:  # the lease (2 min) has passed
        conn.execute(update(outbox).where(outbox.c.id == post.id).values(claimed_at=NOW - timedelta(minutes=1)))
    bot_api.drop("sendMessage")  # Telegram takes the post again and the connection drops before the answer
    counts = drain(engine, TelegramTransport(telegram_options(settings)), now=NOW + timedelta(minutes=3))
    assert counts["deferred"] == 1 and bot_api.posts(CHANNEL) == 2
    [post] = channel_rows(engine)
    assert post.status == "queued" and attempt_results(engine, post.id) == ["interrupted", "interrupted"]
    listing = run_cli("outbox", "--status", "queued").output
    assert "⚠ МОЖЛИВО ДВІЧІ / maybe twice" in listing and "перевірте канал" in listing, listing
    counts = drain(engine, TelegramTransport(telegram_options(settings)), now=NOW + timedelta(minutes=10))
    assert counts["sent"] == 1 and bot_api.posts(CHANNEL) == 3  # the Bot API has no idempotency key
    assert "⚠ МОЖЛИВО ДВІЧІ / maybe twice" in run_cli("outbox").output


def test_a_call_that_outlived_its_claim_keeps_the_maybe_twice_flag(engine, monkeypatch, bot_api, run_cli):
    """A drain whose call outlived its claim (a paused VM, a stopped process) reports after another drain took the
    row over: its attempt is `lost`, no longer `interrupted`, and the flag went with it."""
    settings = tg_settings(monkeypatch, bot_api)
    sync(engine, table(emergency()), settings, NOW)
    bot_api.hold("sendMessage")
    slow: list[dict] = []
    first = threading.Thread(target=lambda: slow.append(
        drain(engine, TelegramTransport(telegram_options(settings)), now=NOW, worker="paused")), daemon=True)
    first.start()
    try:
        assert bot_api.reached.wait(10)
        with engine.begin() as conn:  # while it waits, its lease (2 min) passes
            conn.execute(update(outbox).where(outbox.c.claimed_by == "paused")
                         .values(claimed_at=NOW - timedelta(minutes=1)))
        taken = drain(engine, TelegramTransport(telegram_options(settings)), now=NOW + timedelta(minutes=3))
    finally:
        bot_api.release()
    first.join(15)
    assert taken["sent"] == 1 and slow[0].get("lost") == 1 and bot_api.posts(CHANNEL) == 2
    [post] = channel_rows(engine)
    assert post.status == "sent" and sorted(attempt_results(engine, post.id)) == ["lost", "sent"]
    assert "⚠ МОЖЛИВО ДВІЧІ / maybe twice" in run_cli("outbox").output


# --- 3. clock skew between senders ------------------------------------------------------------------------------------
@pytest.mark.parametrize("directory", [ONE_OFFICIAL])
def test_a_sender_whose_clock_runs_20_minutes_ahead_never_takes_over_a_live_claim(engine, mail_settings, smtp_peer):
    """The second sender's clock ran 20 minutes ahead: the first one's claim looked older than the 15-minute lease,
    and the mail went twice. Claims are stamped and judged by the database's clock."""
    smtp_peer.latency = 2.0  # the first sender is inside DATA while the second looks
    sync(engine, table(emergency()), mail_settings, NOW)
    options = mail_options(mail_settings)
    first: list[dict] = []
    worker = threading.Thread(target=lambda: first.append(drain(engine, SmtpTransport(options), now=NOW)))
    worker.start()
    smtp_peer.wait_for_data(1)
    ahead = drain(engine, SmtpTransport(options), now=NOW + timedelta(minutes=20))
    worker.join(30)
    assert ahead == {"sent": 0, "failed": 0, "deferred": 0}
    assert first == [{"sent": 1, "failed": 0, "deferred": 0}]
    assert len(smtp_peer.received) == 1 and [r.status for r in rows_of(engine)] == ["sent"]


@pytest.mark.parametrize("directory", [ONE_OFFICIAL])
def test_a_sender_whose_clock_runs_20_minutes_behind_still_takes_over_a_dead_claim(engine, mail_settings,
                                                                                  smtp_peer):
    """The other side of the same clock: a claim whose lease passed by the database's clock is taken over by a
    sender whose own clock is late, instead of waiting 20 minutes more."""
    sync(engine, table(emergency()), mail_settings, NOW)
    with engine.begin() as conn:  # a worker died 16 minutes ago (the lease is 15) holding the message
        db_now = database_now(conn)  # the database's own clock, whatever this process's says
        conn.execute(update(outbox).values(status="sending", claimed_by="dead",
                                           claimed_at=db_now - timedelta(minutes=16)))
    behind = drain(engine, SmtpTransport(mail_options(mail_settings)), now=db_now - timedelta(minutes=20))
    assert behind["sent"] == 1 and len(smtp_peer.received) == 1


# --- 4. a day-long Telegram outage ------------------------------------------------------------------------------------
class SimClock:
    """The simulated time: the drains' `now`, the local rate limit's and the fake Bot API's seconds."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def seconds(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def outage_api():
    clock = SimClock(NOW)
    for api in fake_bot_api(clock=clock.seconds):
        api.sim = clock
        yield api


def test_a_day_long_telegram_outage_ends_in_a_backlog_sent_in_order_within_the_limits_each_post_once(
        engine, monkeypatch, outage_api):
    """Telegram answers 502 for 24 hours of attempts while a record comes every hour (and one is updated): no
    drain crashes, the retries stay bounded (only the oldest waiting post probes, at most every 10 minutes),
    and when Telegram returns the backlog goes in the order it was queued, at most 20 a minute (no 429), each
    post once."""
    api, clock = outage_api, outage_api.sim
    settings = tg_settings(monkeypatch, api)
    transport = TelegramTransport(telegram_options(settings), limit=RateLimit(clock=clock.seconds))
    api.down(502)
    sheet: list[dict] = []
    step, day = timedelta(minutes=5), timedelta(hours=24)
    while clock.now < NOW + day:
        minutes = int((clock.now - NOW).total_seconds() // 60)
        if minutes % 60 == 5:  # a new record every hour, the first 5 minutes into the outage
            sheet.append(emergency(addresses=f"вул. Соборна, {len(sheet) + 1}"))
            if minutes == 10 * 60 + 5:
                sheet.append(update_row(1))  # the first one's term moves: an edit and a reply, after its post
            sync(engine, table(*sheet), settings, clock.now)
        counts = drain(engine, transport, now=clock.now, budget_s=30)
        assert counts["sent"] == 0 and counts["failed"] == 0
        clock.now += step
    calls = len([c for c in api.calls if c[0] == "sendMessage"])
    assert calls <= 24 * 6 + 10, f"{calls} calls to a Telegram that was down"  # one probe per 10 minutes
    records = len([r for r in sheet if r.get("kind")])
    kinds = [r.kind for r in channel_rows(engine)]  # edits too: a record whose term passed is edited to say so
    assert records == 24 and kinds.count("tg_post") == 24 and kinds.count("tg_reply") == 1
    api.up()
    for _ in range(120):  # back: a minute a step, for two hours at most
        drain(engine, transport, now=clock.now, budget_s=30)
        if all(r.status == "sent" for r in channel_rows(engine)):
            break
        clock.now += timedelta(minutes=1)
    rows = channel_rows(engine)
    assert {r.status for r in rows} == {"sent"}
    queued = [(r.payload["method"], r.record_number) for r in rows if r.payload["method"] in ("send", "reply")]
    posts = {m.message_id: int(re.search(r"Запис №(\d+)", m.text).group(1))  # type: ignore[union-attr]
             for m in api.chat(CHANNEL) if m.reply_to is None}
    shown = [("send", posts[m.message_id]) if m.reply_to is None else ("reply", posts[m.reply_to])
             for m in api.chat(CHANNEL)]
    assert shown == queued  # in the order they were queued, each once
    assert sorted(posts.values()) == list(range(1, records + 1))
    assert api.floods == 0  # Telegram's 20 a minute to a channel was kept, never answered with a 429
    times = [t for _, t in api.sent_at]
    assert max(len([t for t in times if start <= t < start + 60]) for start in times) <= 20
    with engine.connect() as conn:
        tries = conn.execute(select(func.count()).select_from(delivery_attempts)).scalar()
    assert tries <= calls + len(rows) + 10  # the rows behind the oldest were not tried while it was down


# --- 5. the bot -------------------------------------------------------------------------------------------------------
OLENA, PETRO = 5550001, 5550002


def bot_replies(engine, chat: int) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(select(outbox.c.text_body).where(outbox.c.kind == "bot_reply",
                                                             outbox.c.recipient == str(chat))
                            .order_by(outbox.c.id)).scalars().all()


def test_a_flood_from_one_chat_gets_ten_answers_a_minute_then_one_wait_then_silence(engine, monkeypatch, bot_api):
    settings = tg_settings(monkeypatch, bot_api)
    limit = bot.ChatLimit()  # the bot lane keeps one across its polls
    for n in range(40):
        bot_api.say(OLENA, f"Соборна {n + 1}")
    bot_api.say(PETRO, "Соборна 14")
    poll_once(engine, settings, BotApi(telegram_options(settings)), NOW, limit=limit)
    answers = bot_replies(engine, OLENA)
    assert len(answers) == 11, f"{len(answers)} answers to one chat's flood of 40"
    assert answers[-1] == bot.WAIT and all("Соборна" in a for a in answers[:10])
    assert len(bot_replies(engine, PETRO)) == 1  # another chat in the same batch is answered
    for n in range(30):  # still within the minute: silence, and nothing is searched
        bot_api.say(OLENA, f"Соборна {n + 1}")
    poll_once(engine, settings, BotApi(telegram_options(settings)), NOW + timedelta(seconds=30), limit=limit)
    assert len(bot_replies(engine, OLENA)) == 11
    bot_api.say(OLENA, "/list")  # a minute on, the chat is answered again
    poll_once(engine, settings, BotApi(telegram_options(settings)), NOW + timedelta(seconds=61), limit=limit)
    assert bot_replies(engine, OLENA)[-1].startswith("Ваші адреси:")
    assert bot_api.pending_updates() == 1  # everything handled was confirmed (the last stays until next poll)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite's text holds U+0000
def test_an_update_holding_a_nul_character_is_skipped_and_confirmed_not_wedging_the_bot(engine, monkeypatch,
                                                                                         bot_api):
    settings = tg_settings(monkeypatch, bot_api)
    bot_api.say(OLENA, "Соборна\x0012")
    bot_api.say(PETRO, "Соборна 14")
    api = BotApi(telegram_options(settings))
    assert poll_once(engine, settings, api, NOW) == 2
    assert bot_replies(engine, OLENA) == [] and len(bot_replies(engine, PETRO)) == 1
    with engine.connect() as conn:
        confirmed = conn.execute(select(func.count()).select_from(bot_updates)).scalar()
    assert confirmed == 2
    bot_api.say(PETRO, "/list")
    assert poll_once(engine, settings, api, NOW + timedelta(seconds=5)) == 1  # the queue moves on
    assert bot_replies(engine, PETRO)[-1].startswith("Ваші адреси:")
