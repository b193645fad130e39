"""The bot's /report against the fake Bot API: the conversation (service, address, text), the one-line form, the
intake's refusals asked again, /cancel, a conversation that outlives the worker, a replayed update that makes no
second report, and the report's statuses back in the chat, each once, as the records move."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_telegram import TOKEN, fake_bot_api
from rows import emergency, table, update
from sqlalchemy import func, select

from outages import db
from outages.delivery.drain import drain
from outages.records.sync import sync
from outages.reports.moderate import moderate
from outages.residents.bot import poll_once
from outages.residents.lanes import deliver_once
from outages.schema import reports
from outages.settings import load
from outages.transports.telegram import BotApi, TelegramTransport, telegram_options

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)  # the contact centre's hours (08:00-20:00)
OLENA = 5550001
WATER = "Водопостачання"
LEAK = emergency(addresses="вул. Соборна, 10-16", summary="Відключено воду")


@pytest.fixture
def bot_api():
    yield from fake_bot_api(chat_limit=None)  # the clock is pinned; the chat limit is test_telegram_channel's


@pytest.fixture
def bot_settings(env, monkeypatch, bot_api):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_API_URL": bot_api.url,
                       "OUTAGES_PUBLIC_URL": "https://hub.example.org"}.items():
        monkeypatch.setenv(key, value)
    return load()


class Resident:
    """Writes to the bot and reads its answers; `deliver` is one round of the worker (the bot, then the residents'
    lane that drains the outbox's Telegram rows)."""

    def __init__(self, api, engine, settings, chat_id: int = OLENA) -> None:
        self.api, self.engine, self.settings, self.chat_id = api, engine, settings, chat_id
        self.seen, self.now = 0, NOW

    def deliver(self) -> None:
        poll_once(self.engine, self.settings, BotApi(telegram_options(self.settings)), self.now)
        deliver_once(self.engine, self.settings, self.now, budget_s=30)

    def say(self, text: str) -> list[str]:
        self.api.say(self.chat_id, text)
        return self.news()

    def news(self) -> list[str]:
        self.deliver()
        texts = self.api.texts(self.chat_id)
        new, self.seen = texts[self.seen:], len(texts)
        return new


def stored(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(reports).order_by(reports.c.id)).all()


def test_the_conversation_service_address_text_then_the_waiting_notice(engine, bot_settings, bot_api):
    olena = Resident(bot_api, engine, bot_settings)
    [services] = olena.say("/report")
    numbers = dict(re.findall(r"(\d+)\. (.+?) \(", services))
    assert numbers["2"] == WATER and "(water)" in services and "Або одним рядком: /report power Соборна 14" in services
    [ask] = olena.say("2")
    assert ask.startswith("Адреса (вулиця і будинок)?")
    [again] = olena.say("Неіснуюча 5")
    assert "Не знайшли вулицю в «Неіснуюча 5»" in again and "Адреса (вулиця і будинок)?" in again
    [ask] = olena.say("/skip")
    assert "Без адреси повідомлення не прийняти" in ask
    [ask] = olena.say("Соборна 14")
    assert ask.startswith("Опишіть коротко, що сталося (або /skip)")
    [notice] = olena.say("Нема води з ранку")
    [report] = stored(engine)
    assert "Повідомлення отримано. Контакт-центр перевірить його" in notice
    assert f"Номер вашого повідомлення: №{report.id}" in notice and f"/subscribe_{report.id}" in notice
    assert (report.source, report.service_code, report.address, report.description, report.chat_id,
            report.client, report.status) == ("bot", "water", "Соборна 14", "Нема води з ранку", str(OLENA),
                                              f"tg:{OLENA}", "pending")
    # The conversation is over: a text is an address to subscribe to again.
    [status] = olena.say("Соборна 14")
    assert "✅ Підписано на «Соборна 14»" in status
    assert len(stored(engine)) == 1


CONVERSATION = [  # what the resident writes next, and what the answer says
    ("/report", "Про що повідомити? Напишіть номер послуги"),
    ("17", "Послуги «17» немає в списку"),
    ("/skip", "Послугу не можна пропустити"),
    ("water", "Адреса (вулиця і будинок)?"),
    ("<b>Соборна</b> & 14", "Опишіть коротко, що сталося (або /skip)"),
    ("x" * 4001, "Опис задовгий: 4001 символів, можна до 4000.\nОпишіть коротко"),
    ("/cancel", "Повідомлення скасовано"),
    ("/cancel", "Зараз ви нічого не повідомляєте"),
    ("/skip", "Зараз ви нічого не повідомляєте"),
]


def test_each_answer_in_turn_then_cancel(engine, bot_settings, bot_api):
    olena = Resident(bot_api, engine, bot_settings)
    for said, answer in CONVERSATION:
        [reply] = olena.say(said)
        assert answer in reply, (said, reply)
    assert stored(engine) == []


def test_one_line_form_and_the_known_record_with_its_statuses(engine, bot_settings, bot_api):
    sync(engine, table(LEAK), bot_settings, NOW - timedelta(minutes=5))
    olena = Resident(bot_api, engine, bot_settings)
    [notice] = olena.say("/report water Соборна 14 нема води")
    [report] = stored(engine)
    number = report.record_number
    assert number is not None and report.status == "open" and report.description == "нема води"
    assert f"Про це вже відомо: запис №{number}, {WATER} — Відключено воду." in notice
    assert "Відновлення очікується сьогодні до 20:00" in notice and f"/subscribe_{report.id}" in notice
    [subscribed] = olena.say(f"/subscribe_{report.id}")
    assert "✅ Підписано на «Соборна 14»" in subscribed
    [other] = Resident(bot_api, engine, bot_settings, OLENA + 1).say(f"/subscribe_{report.id}")
    assert "Такого повідомлення у цьому чаті немає" in other  # a stranger cannot reuse another chat's report

    olena.now = NOW + timedelta(minutes=10)
    sync(engine, table(LEAK, update(number, action="Ліквідація")), bot_settings, olena.now)
    olena.news()
    olena.now = NOW + timedelta(minutes=20)
    olena.news()
    mine = Counter(t.split("\n")[0] for t in bot_api.texts(OLENA) if t.startswith("Ваше повідомлення"))
    assert mine == {f"Ваше повідомлення №{report.id} ({WATER}, Соборна 14): Роботу виконано.": 1}


def test_the_statuses_of_an_unknown_problem_come_back_to_the_chat_once_each(engine, bot_settings, bot_api):
    olena = Resident(bot_api, engine, bot_settings)
    olena.say("/report water Соборна 14 & <сусіди> теж без води")
    [report] = stored(engine)
    assert report.status == "pending" and report.record_number is None

    with engine.begin() as conn:
        moderate(conn, bot_settings, report.id, "accept", actor="operator@example.org", now=NOW)
    olena.now = NOW + timedelta(minutes=5)
    olena.news()
    olena.now = NOW + timedelta(minutes=10)
    sync(engine, table(LEAK), bot_settings, olena.now)
    olena.news()
    number = stored(engine)[0].record_number
    assert number is not None
    olena.now = NOW + timedelta(minutes=20)
    sync(engine, table(LEAK, update(number, action="Ліквідація")), bot_settings, olena.now)
    olena.news()
    olena.now = NOW + timedelta(minutes=30)
    sync(engine, table(LEAK, update(number, action="Ліквідація")), bot_settings, olena.now)
    olena.news()

    told = Counter(t.split("\n")[0] for t in bot_api.texts(OLENA) if t.startswith("Ваше повідомлення"))
    assert report.description == "& <сусіди> теж без води"
    assert told == {f"Ваше повідомлення №{report.id} ({WATER}, Соборна 14): Повідомлення взято до розгляду.": 1,
                    f"Ваше повідомлення №{report.id} ({WATER}, Соборна 14): "
                    f"Повідомлення взято до розгляду: №{number}.": 1,
                    f"Ваше повідомлення №{report.id} ({WATER}, Соборна 14): Роботу виконано.": 1}


def test_an_address_the_telegram_html_would_choke_on_is_escaped(engine, bot_settings, bot_api):
    olena = Resident(bot_api, engine, bot_settings)
    olena.say("/report water")
    olena.say("Соборна 14 <кв. 5> & двір")
    olena.say("/skip")
    [report] = stored(engine)
    with engine.begin() as conn:
        moderate(conn, bot_settings, report.id, "explain", actor="operator@example.org", now=NOW,
                 note="Планові роботи <до 20:00> & промивка")
    [told] = olena.news()
    assert told.startswith(f"Ваше повідомлення №{report.id} ({WATER}, Соборна 14 &lt;кв. 5&gt; &amp; двір): "
                           "Роз'яснення надано")
    assert "&lt;до 20:00&gt; &amp; промивка" in told


def test_the_conversation_outlives_the_worker(engine, bot_settings, bot_api):
    olena = Resident(bot_api, engine, bot_settings)
    olena.say("/report")
    olena.say("water")
    engine.dispose()  # the worker stops; another starts with its own engine
    restarted = db.engine_for(bot_settings)
    try:
        olena.engine = restarted
        [ask] = olena.say("Соборна 14")
        assert ask.startswith("Опишіть коротко")
        [notice] = olena.say("/skip")
        assert "Повідомлення отримано" in notice
    finally:
        restarted.dispose()
    [report] = stored(engine)
    assert (report.service_code, report.address, report.description) == ("water", "Соборна 14", "")


def test_another_command_leaves_the_conversation_and_an_idle_one_is_forgotten(engine, bot_settings, bot_api):
    olena = Resident(bot_api, engine, bot_settings)
    olena.say("/report water")
    [listing] = olena.say("/list")
    assert "У вас немає підписок" in listing
    [status] = olena.say("Соборна 14")
    assert "✅ Підписано на «Соборна 14»" in status
    olena.say("/report water")
    olena.now = NOW + timedelta(hours=2)
    [status] = olena.say("Садова 3")
    assert "✅ Підписано на «Садова 3»" in status
    assert stored(engine) == []


def test_a_refused_field_is_asked_again_in_the_one_line_form(engine, bot_settings, bot_api):
    olena = Resident(bot_api, engine, bot_settings)
    [again] = olena.say("/report nosuch Соборна 14 нема")
    assert "Послуги «nosuch» немає в списку" in again and "1. " in again
    [ask] = olena.say("water")
    assert ask.startswith("Адреса")
    [ask] = olena.say("Соборна 14")
    [notice] = olena.say("x" * 4001)
    assert "Опис задовгий" in notice and "Опишіть коротко" in notice
    [notice] = olena.say("Нема води")
    assert "Повідомлення отримано" in notice
    assert [r.description for r in stored(engine)] == ["Нема води"]


def test_too_many_reports_from_one_chat_say_when_to_try_again(engine, bot_settings, bot_api):
    olena = Resident(bot_api, engine, bot_settings)
    for house in range(1, 11):
        olena.now = NOW + timedelta(minutes=house)
        [notice] = olena.say(f"/report water Садова {house} нема води")
        assert "Повідомлення отримано" in notice
    olena.now = NOW + timedelta(minutes=20)
    [wait] = olena.say("/report water Садова 12 нема води")
    assert wait == "Забагато повідомлень за годину з цього чату. Спробуйте знову через 41 хв."
    assert len(stored(engine)) == 10


def test_an_update_replayed_by_a_second_worker_makes_one_report(engine, bot_settings, bot_api):
    bot_api.say(OLENA, "/report water Соборна 14 нема води")
    options = telegram_options(bot_settings)
    bot_api.hold("getUpdates")  # the first worker's poll is answered only after the second has handled the update
    first: list[int] = []
    worker = threading.Thread(target=lambda: first.append(poll_once(engine, bot_settings, BotApi(options), NOW)))
    worker.start()
    assert bot_api.reached.wait(10)
    assert poll_once(engine, bot_settings, BotApi(options), NOW) == 1
    bot_api.release()
    worker.join(15)
    assert first == [0]  # it got the same update and skipped it by its stored id
    drain(engine, TelegramTransport(options), now=NOW, budget_s=30)
    assert len(bot_api.texts(OLENA)) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reports)).scalar() == 1
