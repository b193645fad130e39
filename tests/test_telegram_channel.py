"""The city's Telegram channel against a fake Bot API on 127.0.0.1, driven by the real client code and the real drain:
a new record is posted, an update edits the post and replies under it, a resolution edits it to «✅ Ліквідовано» and
replies; each exactly once across repeated syncs, a lost answer, flood limits and refusals."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fake_telegram import TOKEN, fake_bot_api
from rows import emergency, resolve, table
from rows import update as update_row
from sqlalchemy import select, update

from outages.delivery.drain import drain
from outages.records.sync import sync
from outages.schema import delivery_attempts, outbox
from outages.settings import load
from outages.transports.telegram import TelegramTransport, telegram_options

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
CHANNEL = "@city_outages"


@pytest.fixture
def bot_api():
    yield from fake_bot_api()


@pytest.fixture
def tg_settings(env, monkeypatch, bot_api):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_CHANNEL": CHANNEL,
                       "OUTAGES_TELEGRAM_API_URL": bot_api.url,
                       "OUTAGES_PUBLIC_URL": "https://hub.example.org"}.items():
        monkeypatch.setenv(key, value)
    return load()


def deliver(engine, settings, now=NOW):
    return drain(engine, TelegramTransport(telegram_options(settings)), now=now, budget_s=30)


def channel_rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(outbox).where(outbox.c.channel == "telegram").order_by(outbox.c.id)).all()


def test_new_update_resolve_post_edit_and_reply_each_once(engine, tg_settings, bot_api):
    first = table(emergency(summary="Порив <водогону> & витік", addresses="вул. Соборна, 12-20"))
    sync(engine, first, tg_settings, NOW)
    sync(engine, first, tg_settings, NOW + timedelta(minutes=1))  # the same sheet again: nothing new
    assert deliver(engine, tg_settings)["sent"] == 1
    [post] = bot_api.chat(CHANNEL)
    assert post.parse_mode == "HTML" and post.reply_to is None
    assert "Порив &lt;водогону&gt; &amp; витік" in post.text  # dispatcher text escaped for Telegram's HTML
    assert "вул. Соборна, 12-20" in post.text and "Термін ліквідації: 22.11.2026 20:00" in post.text
    assert '<a href="https://hub.example.org/outages/1">Запис №1</a>' in post.text
    assert "Іван Петренко" not in post.text and "0501234567" not in post.text and "ivan@" not in post.text

    moved = table(emergency(summary="Порив <водогону> & витік", addresses="вул. Соборна, 12-20"), update_row(1))
    for minute in (2, 3):
        sync(engine, moved, tg_settings, NOW + timedelta(minutes=minute))
    assert deliver(engine, tg_settings, NOW + timedelta(minutes=5))["sent"] == 2
    assert deliver(engine, tg_settings, NOW + timedelta(minutes=6)) == {"sent": 0, "failed": 0, "deferred": 0}
    post, reply = bot_api.chat(CHANNEL)
    assert post.edits == 1 and "Термін ліквідації: 22.11.2026 23:00" in post.text
    assert reply.reply_to == post.message_id
    assert reply.text == "⏱ Термін ліквідації перенесено: 20:00 → 23:00 (22.11.2026 23:00)"

    done = table(emergency(summary="Порив <водогону> & витік", addresses="вул. Соборна, 12-20"), update_row(1),
                 resolve(1))
    sync(engine, done, tg_settings, NOW + timedelta(hours=1, minutes=5))
    sync(engine, done, tg_settings, NOW + timedelta(hours=1, minutes=6))
    assert deliver(engine, tg_settings, NOW + timedelta(hours=1, minutes=7))["sent"] == 2
    post, first_reply, last_reply = bot_api.chat(CHANNEL)
    assert post.edits == 2 and post.text.startswith("✅ <b>Ліквідовано</b> 22.11.2026 17:50")
    assert "Термін ліквідації:" not in post.text
    assert last_reply.reply_to == post.message_id and last_reply.text == "✅ Ліквідовано о 17:50"
    rows = channel_rows(engine)
    assert [r.kind for r in rows] == ["tg_post", "tg_edit", "tg_reply", "tg_edit", "tg_reply"]
    assert {r.status for r in rows} == {"sent"} and {r.peer_ref for r in rows} == {str(post.message_id)}


def test_an_edit_whose_answer_was_lost_is_not_made_twice(engine, tg_settings, bot_api):
    """A drain dies after Telegram applied an edit and before the result was stored: the next drain takes the row
    over after the lease and repeats the edit, which Telegram answers "message is not modified": sent, nothing
    shown twice. The same holds for webhooks (same delivery id) and mail (same Message-ID)."""
    sync(engine, table(emergency()), tg_settings, NOW)
    deliver(engine, tg_settings)
    sync(engine, table(emergency(), update_row(1)), tg_settings, NOW + timedelta(minutes=5))
    deliver(engine, tg_settings, NOW + timedelta(minutes=5))
    edit = next(r for r in channel_rows(engine) if r.kind == "tg_edit")
    with engine.begin() as conn:  # what a killed drain leaves behind: the row still claimed, its result unknown
        conn.execute(update(outbox).where(outbox.c.id == edit.id).values(
            status="sending", claimed_by="dead-worker", claimed_at=NOW, sent_at=None, peer_ref=None))
    counts = deliver(engine, tg_settings, NOW + timedelta(hours=1))
    assert counts["sent"] == 1
    post, reply = bot_api.chat(CHANNEL)
    assert post.edits == 1 and [m.reply_to for m in bot_api.chat(CHANNEL)] == [None, post.message_id]
    again = next(r for r in channel_rows(engine) if r.id == edit.id)
    assert again.status == "sent" and again.last_answer == f"message {post.message_id} already shows this text"
    with engine.connect() as conn:
        results = conn.execute(select(delivery_attempts.c.result).where(delivery_attempts.c.outbox_id == edit.id)
                               .order_by(delivery_attempts.c.id)).scalars().all()
    assert results == ["sent", "sent"]


@pytest.mark.clock
def test_429_is_waited_out_and_other_4xx_fail_visibly(engine, tg_settings, bot_api, run_cli):
    bot_api.fail("sendMessage", 429, retry_after=7)
    sync(engine, table(emergency(), emergency(addresses="вул. Садова, 3")), tg_settings, NOW)
    first = deliver(engine, tg_settings)
    # The channel's posts keep their order: the second waits behind the first (docs/subscriptions.md).
    assert first["deferred"] == 1 and first["sent"] == 0 and bot_api.texts(CHANNEL) == []
    waiting = channel_rows(engine)[0]
    assert waiting.status == "queued" and waiting.last_answer == "429 Too Many Requests: retry after 7"
    assert waiting.next_attempt_at >= NOW + timedelta(seconds=7)
    assert deliver(engine, tg_settings, NOW + timedelta(seconds=3))["sent"] == 0  # not before retry_after
    assert deliver(engine, tg_settings, NOW + timedelta(minutes=2))["sent"] == 2
    assert ["Садова" in m.text for m in bot_api.chat(CHANNEL)] == [False, True]

    bot_api.fail("editMessageText", 400, "Bad Request: message to edit not found")
    sync(engine, table(emergency(), emergency(addresses="вул. Садова, 3"), update_row(1)), tg_settings,
         NOW + timedelta(minutes=5))
    counts = deliver(engine, tg_settings, NOW + timedelta(minutes=5))
    assert counts["failed"] >= 1
    failed = [r for r in channel_rows(engine) if r.status == "failed"]
    assert failed[0].kind == "tg_edit" and failed[0].last_answer == "400 Bad Request: message to edit not found"
    # A 400 is not retried: hours later nothing more is sent for it.
    calls = len(bot_api.calls)
    deliver(engine, tg_settings, NOW + timedelta(hours=3))
    assert [c for c in bot_api.calls[calls:] if c[0] == "editMessageText"] == []
    result = run_cli("outbox", "--status", "failed")
    assert "message to edit not found" in result.output
    status = run_cli("status").output
    assert f"Канал Telegram / channel {CHANNEL}: надіслано (sent) 3" in status
    assert "УВАГА / WARNING: не доставлено (failed) 1; остання помилка / last error: Telegram: Bad Request: message" \
        " to edit not found" in status


def test_without_a_token_or_channel_nothing_is_queued(engine, settings):
    sync(engine, table(emergency()), settings, NOW)
    assert channel_rows(engine) == []


@pytest.mark.clock
def test_outages_send_delivers_the_channel_and_shows_it(engine, mail_settings, bot_api, monkeypatch, run_cli):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_CHANNEL": CHANNEL,
                       "OUTAGES_TELEGRAM_API_URL": bot_api.url}.items():
        monkeypatch.setenv(key, value)
    sync(engine, table(emergency()), load(), NOW)
    result = run_cli("send")
    assert result.exit_code == 0, result.output
    assert "telegram: надіслано (sent) 1" in result.output
    assert len(bot_api.chat(CHANNEL)) == 1
    assert "telegram: надіслано (sent) 0" in run_cli("send").output
    assert len(bot_api.chat(CHANNEL)) == 1


def test_a_post_cut_short_by_a_killed_worker_is_flagged_as_maybe_twice(engine, tg_settings, bot_api, run_cli):
    """The one gap the Bot API leaves: no idempotency key for a new message. A worker killed inside the call,
    after Telegram accepted the post and before the commit, leaves the row claimed; the next drain posts again.
    `outages outbox` says so, so the double can be deleted by hand (docs/subscriptions.md)."""
    sync(engine, table(emergency()), tg_settings, NOW)
    deliver(engine, tg_settings)
    [post] = channel_rows(engine)
    with engine.begin() as conn:  # what SIGKILL inside the HTTP call leaves: claimed, attempt still "sending"
        conn.execute(update(outbox).where(outbox.c.id == post.id).values(
            status="sending", claimed_by="killed-worker", claimed_at=NOW, sent_at=None, peer_ref=None))
        conn.execute(delivery_attempts.insert().values(outbox_id=post.id, worker="killed-worker", started_at=NOW,
                                                       result="sending"))
    deliver(engine, tg_settings, NOW + timedelta(hours=1))
    assert len(bot_api.chat(CHANNEL)) == 2
    listing = run_cli("outbox").output
    assert "⚠ МОЖЛИВО ДВІЧІ / maybe twice" in listing and "перевірте канал" in listing


@pytest.mark.parametrize("failure, says", [
    (None, "✓ Telegram: бот / bot @city_outages_bot відповідає / answers, канал / channel " + CHANNEL),
    ((401, "Unauthorized"), "✗ Telegram: Telegram: Unauthorized — перевірте OUTAGES_TELEGRAM_BOT_TOKEN"),
])
def test_doctor_asks_the_bot_api_whether_the_token_works(tg_settings, bot_api, run_cli, failure, says):
    if failure:
        bot_api.fail("getMe", *failure)
    out = run_cli("doctor")
    assert says in out.output, out.output
    assert TOKEN not in out.output  # the token is a secret: never printed
    assert ("getMe", {}) in bot_api.calls


def test_outages_send_exits_non_zero_when_the_channel_had_to_wait(engine, mail_settings, bot_api, monkeypatch,
                                                                  run_cli):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_CHANNEL": CHANNEL,
                       "OUTAGES_TELEGRAM_API_URL": bot_api.url}.items():
        monkeypatch.setenv(key, value)
    sync(engine, table(emergency()), load(), NOW)
    bot_api.fail("sendMessage", 429, retry_after=3)
    with time_machine.travel(NOW + timedelta(minutes=1), tick=True):  # within a day of the post: waits, not fails
        result = run_cli("send")
    assert "telegram: надіслано (sent) 0 · відкладено (deferred) 1" in result.output
    assert result.exit_code == 1 and "відкладено 1" in result.output  # a cron job sees the post did not go
