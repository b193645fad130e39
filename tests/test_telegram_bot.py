"""The bot against the fake Bot API: a resident's conversation, subscriptions by address, one message per matching
change, nothing for other houses, nothing after /stop; updates handled once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_telegram import TOKEN, fake_bot_api
from rows import emergency, table

from outages.delivery.drain import drain
from outages.records.sync import sync
from outages.residents.bot import poll_once
from outages.residents.fanout import expand_due
from outages.settings import load
from outages.transports.telegram import BotApi, TelegramTransport, telegram_options

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
OLENA = 5550001


@pytest.fixture
def bot_api():
    # Private chats get at most one message a second in Telegram; the test's clock is pinned, so the fake's own
    # limit would make the test wait for real seconds. The limit is tested in test_telegram_channel.py.
    yield from fake_bot_api(chat_limit=None)


@pytest.fixture
def bot_settings(env, monkeypatch, bot_api):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_API_URL": bot_api.url,
                       "OUTAGES_PUBLIC_URL": "https://hub.example.org"}.items():
        monkeypatch.setenv(key, value)
    return load()


class Resident:
    """Writes to the bot and reads the bot's answers, as the resident's Telegram app would."""

    def __init__(self, api, engine, settings, chat_id: int) -> None:
        self.api, self.engine, self.settings, self.chat_id = api, engine, settings, chat_id
        self.seen = 0
        self.now = NOW

    def deliver(self) -> None:
        options = telegram_options(self.settings)
        poll_once(self.engine, self.settings, BotApi(options), self.now)
        expand_due(self.engine, self.settings, self.now)
        drain(self.engine, TelegramTransport(options), now=self.now, budget_s=30)

    def say(self, text: str) -> list[str]:
        self.api.say(self.chat_id, text)
        return self.news()

    def news(self) -> list[str]:
        self.deliver()
        texts = self.api.texts(self.chat_id)
        new, self.seen = texts[self.seen:], len(texts)
        return new


def test_start_address_status_one_message_per_matching_change_then_stop(engine, bot_settings, bot_api):
    sync(engine, table(emergency(addresses="вул. Соборна, 10-16", summary="Відключено воду")), bot_settings, NOW)
    olena = Resident(bot_api, engine, bot_settings, OLENA)
    [hello] = olena.say("/start")
    assert "Напишіть адресу" in hello and "Соборна 14" in hello
    [status] = olena.say("Соборна 14")
    assert "Зараз:" in status and "Водопостачання: до 22.11.2026 20:00" in status
    assert "✅ Підписано на «Соборна 14»" in status

    olena.now = NOW + timedelta(minutes=10)
    sync(engine, table(emergency(addresses="вул. Соборна, 10-16", summary="Відключено воду"),
                       emergency(addresses="вул. Соборна, 12-20", service="Теплопостачання",
                                 executor="КП «Теплоенерго»", summary="Порив теплотраси")),
         bot_settings, olena.now)
    [news] = olena.news()
    assert news.startswith("<b>Новий запис за вашою адресою</b> «Соборна 14»") and "Порив теплотраси" in news
    assert olena.news() == []  # delivered once

    olena.now = NOW + timedelta(minutes=20)
    sync(engine, table(emergency(addresses="вул. Соборна, 10-16", summary="Відключено воду"),
                       emergency(addresses="вул. Соборна, 12-20", service="Теплопостачання",
                                 executor="КП «Теплоенерго»", summary="Порив теплотраси"),
                       emergency(addresses="вул. Соборна, 30", summary="Інша адреса")), bot_settings, olena.now)
    assert olena.news() == []  # Соборна 30 does not cover Соборна 14

    [bye] = olena.say("/stop")
    assert "Ви відписалися від усіх адрес (1)" in bye
    olena.now = NOW + timedelta(minutes=30)
    sync(engine, table(emergency(addresses="вул. Соборна, 10-16", summary="Відключено воду"),
                       emergency(addresses="вул. Соборна, 12-20", service="Теплопостачання",
                                 executor="КП «Теплоенерго»", summary="Порив теплотраси"),
                       emergency(addresses="вул. Соборна, 30", summary="Інша адреса"),
                       emergency(addresses="вул. Соборна, 2-40", summary="Після відписки")), bot_settings, olena.now)
    assert olena.news() == []


def test_several_addresses_list_and_remove_one(engine, bot_settings, bot_api):
    olena = Resident(bot_api, engine, bot_settings, OLENA)
    olena.say("Соборна 14")
    olena.say("Садова 3")
    [second] = olena.say("Фалеєвська 5")
    assert "За адресою «вул. Фалеєвська, 5» зараз усе працює" in second
    [listing] = olena.say("/list")
    commands = dict(re.findall(r"\d+\. (.+?) — прибрати: (/remove_\d+)", listing))
    assert list(commands) == ["Соборна 14", "Садова 3", "Фалеєвська 5"]
    [removed] = olena.say(commands["Соборна 14"])
    assert "Адресу «Соборна 14» прибрано" in removed
    # Tapping the old list's commands again: the first removes nothing more, the third still means Фалеєвська.
    [again] = olena.say(commands["Соборна 14"])
    assert "Такої адреси у списку немає" in again
    [removed] = olena.say(commands["Фалеєвська 5"])
    assert "Адресу «Фалеєвська 5» прибрано" in removed
    [listing] = olena.say("/list")
    assert "1. Садова 3" in listing and "Соборна" not in listing and "Фалеєвська" not in listing
    olena.now = NOW + timedelta(minutes=5)
    sync(engine, table(emergency(addresses="вул. Соборна, 14")), bot_settings, olena.now)
    assert olena.news() == []


@pytest.mark.parametrize("text, answer", [
    ("Неіснуюча 5", "Вулицю «Неіснуюча 5» не знайдено в довіднику міста"),
    ("<b>Соборна</b> 14 & co", "«&lt;b&gt;Соборна&lt;/b&gt; 14 &amp; co»"),  # escaped, whatever the answer
    ("/unknown", "Не знаю такої команди"),
    ("/remove_7", "Такої адреси у списку немає"),
])
def test_answers_name_what_was_typed(engine, bot_settings, bot_api, text, answer):
    [reply] = Resident(bot_api, engine, bot_settings, OLENA).say(text)
    assert answer in reply


def test_an_update_is_handled_once_even_when_polled_twice(engine, bot_settings, bot_api):
    bot_api.say(OLENA, "/start")
    options = telegram_options(bot_settings)
    assert poll_once(engine, bot_settings, BotApi(options), NOW) == 1
    # Telegram re-sends an update it has not seen confirmed; here the confirming offset is sent next time, and an
    # update that comes again anyway (another worker) is skipped by its stored id.
    assert poll_once(engine, bot_settings, BotApi(options), NOW) == 0
    assert bot_api.pending_updates() == 0
    drain(engine, TelegramTransport(options), now=NOW, budget_s=30)
    assert len(bot_api.texts(OLENA)) == 1


@pytest.mark.clock
def test_run_once_answers_what_residents_wrote(engine, bot_settings, bot_api, run_cli, tmp_path):
    from conftest import DEMO_CSV

    bot_api.say(OLENA, "/start")
    bot_api.say(OLENA + 1, "Соборна 14")
    result = run_cli("run", "--once", "--source", str(DEMO_CSV))
    assert result.exit_code == 0, result.output
    assert "бот / bot: 2" in result.output
    assert "Напишіть адресу" in bot_api.texts(OLENA)[0]
    assert "✅ Підписано на «Соборна 14»" in bot_api.texts(OLENA + 1)[0]
    assert bot_api.pending_updates() == 2  # confirmed to Telegram by the next poll's offset
    run_cli("run", "--once", "--source", str(DEMO_CSV))
    assert bot_api.pending_updates() == 0 and len(bot_api.texts(OLENA)) == 1
