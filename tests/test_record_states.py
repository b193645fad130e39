"""One account of a record's state in every channel: the same record at the same clock is worded the same way by
the site's answer line, the record page, the API, the bot, the city's channel post, officials' and subscribers'
mail. Driven through the real sync, the real drains, the fake Bot API and an aiosmtpd peer, on both stores."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fake_telegram import TOKEN, fake_bot_api
from rows import emergency, planned, resolve, table, update

from outages.delivery.drain import drain
from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.records.verdict import text as verdict
from outages.residents.bot import poll_once
from outages.residents.fanout import expand_due
from outages.settings import load
from outages.transports.telegram import BotApi, TelegramTransport, telegram_options
from web import create_app

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
CHANNEL = "@city_outages"
OLENA = 5550001


def kyiv(text: str) -> datetime:
    return datetime.strptime(text, "%d.%m.%Y %H:%M").replace(tzinfo=KYIV)


@pytest.fixture
def bot_api():
    yield from fake_bot_api(chat_limit=None)


@pytest.fixture
def hub(mail_settings, monkeypatch, bot_api):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_CHANNEL": CHANNEL,
                       "OUTAGES_TELEGRAM_API_URL": bot_api.url}.items():
        monkeypatch.setenv(key, value)
    return load()


def deliver(engine, settings, now):
    """What one `outages send` does for the residents' side at `now`: fan-out, then the Telegram lane."""
    expand_due(engine, settings, now)
    drain(engine, TelegramTransport(telegram_options(settings)), now=now, budget_s=30)


def answer_line(engine, settings, query: str, now: datetime, lang: str = "uk") -> str:
    app = create_app(settings, engine=engine)
    with time_machine.travel(now, tick=False):
        page = app.test_client().get("/", query_string={"q": query, "lang": lang}).get_data(as_text=True)
    found = re.search(r'<p class="answer"[^>]*>(.*?)</p>', page, re.S)
    assert found, page[:2000]
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def api_state(engine, settings, number: int, now: datetime) -> str:
    app = create_app(settings, engine=engine)
    with time_machine.travel(now, tick=False):
        return app.test_client().get(f"/api/v1/outages/{number}").get_json()["state"]


def page_text(engine, settings, path: str, now: datetime) -> str:
    app = create_app(settings, engine=engine)
    with time_machine.travel(now, tick=False):
        page = app.test_client().get(path).get_data(as_text=True)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def api_live_numbers(engine, settings, query: str, now: datetime) -> list[int]:
    """The API's list for the house, as an app asking «is anything off here?» reads it: records not over."""
    app = create_app(settings, engine=engine)
    with time_machine.travel(now, tick=False):
        found = app.test_client().get("/api/v1/outages", query_string={"q": query}).get_json()["outages"]
    return [r["number"] for r in found if r["state"] in ("active", "overdue")]


def bot_says(engine, settings, api, text: str, now: datetime) -> str:
    before = len(api.texts(OLENA))
    api.say(OLENA, text)
    options = telegram_options(settings)
    poll_once(engine, settings, BotApi(options), now)
    drain(engine, TelegramTransport(options), now=now, budget_s=30)
    return "\n".join(api.texts(OLENA)[before:])


# (name, rows at the record's time, the clock asked at,
#  what the answer line says, the API's state, what the bot says, what the channel's post says at that clock,
#  what the record's page says, whether the API's search for the house lists it as not over, and the newest mail
#  an official has got by that clock: (whom, its subject's start))
EVE = "[ЗАВТРА ПЛАНОВІ РОБОТИ] Електропостачання · вул. Соборна, 10-16"  # the day-before reminder, the newest
STATES = [
    ("active", [emergency(addresses="вул. Соборна, 10-16")], NOW,
     "зараз: Водопостачання (аварія, №1) — до нд 22.11 о 20:00", "active",
     "Водопостачання: до 22.11.2026 20:00", "⏱ Термін ліквідації: 22.11.2026 20:00",
     "Термін ліквідації 22.11.2026 20:00", True, ("deputy", "[АВАРІЯ] Водопостачання · вул. Соборна, 10-16")),
    ("overdue the next morning", [emergency(addresses="вул. Соборна, 10-16")], kyiv("23.11.2026 09:00"),
     "зараз: Водопостачання (аварія, №1) — термін минув нд 22.11 о 20:00, новий не повідомлено", "overdue",
     "Водопостачання: термін минув 22.11.2026 20:00, новий не повідомлено",
     "⚠️ Термін ліквідації 22.11.2026 20:00 минув, новий не повідомлено",
     "термін минув 22.11 о 20:00, новий не повідомлено", True,
     ("control", "[ПРОСТРОЧЕНО] Водопостачання · вул. Соборна, 10-16 · Центральний · термін вчора о 20:00 минув")),
    ("planned works under way", [planned(addresses="вул. Соборна, 10-16")], kyiv("23.11.2026 12:00"),
     "зараз: Електропостачання (планові роботи, №1) — до пн 23.11 о 17:00", "active",
     "Електропостачання: до 23.11.2026 17:00", "🗓 Роботи: 23.11.2026 09:00 – 17:00",
     "Завершення робіт 23.11.2026 17:00", True, ("deputy", EVE)),
    ("planned works ended as planned", [planned(addresses="вул. Соборна, 10-16")], kyiv("24.11.2026 09:00"),
     "зараз нічого не вимкнено. Планових робіт не заплановано", "ended",
     "зараз усе працює", "✅ Роботи завершено за планом: 23.11.2026 17:00",
     "завершено за планом 23.11 о 17:00", False, ("deputy", EVE)),
    ("resolved", [emergency(addresses="вул. Соборна, 10-16"), resolve(1)], NOW,
     "зараз нічого не вимкнено", "resolved", "зараз усе працює", "✅ <b>Ліквідовано</b> 22.11.2026 17:50",
     "Усунено 22.11.2026 17:50", False, ("deputy", "[ЛІКВІДОВАНО] Водопостачання · вул. Соборна, 10-16")),
    ("a whole district (no addresses)",
     [emergency(addresses="", service="Теплопостачання", summary="Немає опалення в усьому Центральному районі")], NOW,
     "зараз: Теплопостачання (аварія, №1, увесь район: Центральний) — до нд 22.11 о 20:00", "active",
     "Теплопостачання: до 22.11.2026 20:00", "📍 Увесь район: Центральний",
     "Адреси увесь район (Центральний)", True, ("deputy", "[АВАРІЯ] Теплопостачання · увесь район · Центральний")),
]


@pytest.mark.parametrize(("rows", "clock", "answer", "state", "bot", "post", "page", "listed", "mail"),
                         [pytest.param(*case[1:], id=case[0]) for case in STATES])
def test_every_channel_words_the_one_state_at_the_clock(engine, hub, bot_api, smtp_peer, rows, clock, answer, state,
                                                       bot, post, page, listed, mail):
    made = NOW if clock >= NOW else clock
    sync(engine, table(*rows[:1]), hub, made)
    deliver(engine, hub, made)
    deliver_pending(engine, hub, made)
    sync(engine, table(*rows), hub, clock)  # the sync at the clock raises «term passed» when it has
    deliver(engine, hub, clock)
    deliver_pending(engine, hub, clock)

    assert answer in answer_line(engine, hub, "Соборна 14", clock)
    assert api_state(engine, hub, 1, clock) == state
    assert bot in bot_says(engine, hub, bot_api, "Соборна 14", clock)
    [channel_post, *_] = bot_api.chat(CHANNEL)
    assert post in channel_post.text  # the post is edited when the state changes, also when a term passes
    assert page in page_text(engine, hub, "/outages/1", clock)
    assert (1 in api_live_numbers(engine, hub, "Соборна 14", clock)) is listed
    official, subject = mail
    got = [m["Subject"] for m in smtp_peer.to(f"{official}@example.org")]
    assert got and got[-1].startswith(subject), got


def test_planned_works_end_at_their_stated_end_and_nobody_is_chased(engine, hub, smtp_peer):
    sync(engine, table(planned(addresses="вул. Соборна, 10-16")), hub, NOW)
    for moment in ("23.11.2026 18:00", "24.11.2026 06:00", "24.11.2026 18:00"):
        sync(engine, table(planned(addresses="вул. Соборна, 10-16")), hub, kyiv(moment))
        deliver_pending(engine, hub, kyiv(moment))
    subjects = [m["Subject"] for m in smtp_peer.messages()]
    assert any("ПЛАНОВІ РОБОТИ" in s for s in subjects)  # the officials were told of the works
    assert [s for s in subjects if "ПРОСТРОЧЕНО" in s] == []  # and nobody is chased after their end
    app = create_app(hub, engine=engine)
    with time_machine.travel(kyiv("24.11.2026 09:00"), tick=False):
        page = app.test_client().get("/outages/1").get_data(as_text=True)
        index = app.test_client().get("/").get_data(as_text=True)
    assert "завершено за планом 23.11 о 17:00" in page
    assert "Заміна трансформатора" in index  # listed among what was fixed in the last 24 hours


def test_an_updates_own_words_reach_officials_subscribers_and_the_channel(engine, hub, bot_api, smtp_peer):
    words = "Замінено 12 м трубопроводу, триває промивка"
    sync(engine, table(emergency(addresses="вул. Соборна, 10-16")), hub, NOW - timedelta(minutes=30))
    deliver(engine, hub, NOW - timedelta(minutes=30))
    bot_says(engine, hub, bot_api, "Соборна 14", NOW - timedelta(minutes=20))  # Olena subscribes by address
    sync(engine, table(emergency(addresses="вул. Соборна, 10-16"), update(1, summary=words, expected_end="")),
         hub, NOW)
    deliver_pending(engine, hub, NOW)
    deliver(engine, hub, NOW)
    mail = [m for m in smtp_peer.to("deputy@example.org") if "ОНОВЛЕННЯ" in m["Subject"]]
    assert mail and words in mail[-1].get_body(("plain",)).get_content()
    assert any(words in text for text in bot_api.texts(OLENA))  # the subscriber
    assert any(words in m.text for m in bot_api.chat(CHANNEL)[1:])  # a reply under the channel's post


def test_a_whole_district_record_reaches_a_subscriber_of_any_house_there(engine, hub, bot_api):
    bot_says(engine, hub, bot_api, "Садова 3", NOW - timedelta(minutes=20))
    sync(engine, table(emergency(addresses="", service="Теплопостачання", summary="Немає опалення")), hub, NOW)
    deliver(engine, hub, NOW)
    news = "\n".join(bot_api.texts(OLENA))
    assert "Немає опалення" in news and "Увесь район: Центральний" in news


def test_a_first_import_posts_what_is_current_or_ahead_and_nothing_that_is_over(engine, hub, bot_api):
    over = emergency(recorded_at="01.11.2026 10:20", event_at="01.11.2026 10:00", expected_end="01.11.2026 18:00",
                     summary="Давня аварія")
    under_way = planned(recorded_at="10.11.2026 09:00", event_at="20.11.2026 09:00",
                        expected_end="30.11.2026 17:00", summary="Реконструкція теплотраси")
    tomorrow = planned(recorded_at="12.11.2026 09:00", event_at="23.11.2026 09:00",
                       expected_end="23.11.2026 17:00", summary="Заміна трансформатора")
    ended = planned(recorded_at="10.11.2026 09:00", event_at="15.11.2026 09:00",
                    expected_end="15.11.2026 17:00", summary="Завершені роботи")
    sync(engine, table(over, under_way, tomorrow, ended), hub, NOW)
    deliver(engine, hub, NOW)
    posts = [m.text for m in bot_api.chat(CHANNEL)]
    assert len(posts) == 2, posts  # not the old emergency whose term passed weeks ago, nor the ended works
    assert any("Реконструкція теплотраси" in p for p in posts) and any("Заміна трансформатора" in p for p in posts)
    # Run again: nothing twice.
    sync(engine, table(over, under_way, tomorrow, ended), hub, NOW + timedelta(minutes=1))
    deliver(engine, hub, NOW + timedelta(minutes=1))
    assert len(bot_api.chat(CHANNEL)) == 2


def test_the_verdict_says_a_record_without_addresses_covers_the_whole_district(engine, hub):
    result = sync(engine, table(emergency(addresses="", summary="Немає опалення")), hub, NOW)
    [decision] = result.plan.decisions
    assert verdict(decision, hub.rules) == ("Прийнято, №1, вчасно (внесено через 26 хв);"
                                         " адреси не вказано — запис стосується всіх будинків району: Центральний")


def cap_alerts(engine, settings, now: datetime) -> list[str]:
    """The CAP messages of the index, oldest first, as an aggregator fetches them."""
    app = create_app(settings, engine=engine)
    client = app.test_client()
    with time_machine.travel(now, tick=False):
        feed = client.get("/cap/index.atom").get_data(as_text=True)
        urls = re.findall(r'<link rel="alternate" type="application/cap\+xml" href="[^"]*(/cap/[^"]+\.xml)"', feed)
        return [client.get(url).get_data(as_text=True) for url in reversed(urls)]


def test_cap_and_the_calendar_agree_with_the_state(engine, hub):
    emergency_row = emergency(addresses="вул. Соборна, 10-16")
    works = planned(addresses="вул. Садова, 3")
    sync(engine, table(emergency_row, works), hub, NOW)
    morning = kyiv("24.11.2026 09:00")  # the emergency overdue for 37 h, the works ended 16 h ago
    sync(engine, table(emergency_row, works), hub, morning)
    alerts = cap_alerts(engine, hub, morning)
    alarm = next(a for a in alerts if "Аварійна ситуація" in a)
    assert "<expires>" not in alarm and "AllClear" not in alarm  # overdue: still on, its alert stands
    plan = next(a for a in alerts if "Планові роботи" in a)
    assert "<expires>2026-11-23T17:00:00+02:00</expires>" in plan  # ended as planned: expired at the stated end
    app = create_app(hub, engine=engine)
    with time_machine.travel(morning, tick=False):
        ics = app.test_client().get("/planned.ics").get_data(as_text=True)
    assert "DTEND;TZID=Europe/Kyiv:20261123T170000" in ics and "STATUS:CONFIRMED" in ics


def test_the_bots_answer_for_a_busy_house_stays_within_telegrams_limit(engine, hub, bot_api):
    from outages.residents.posts import units

    rows = [emergency(addresses="вул. Соборна, 14", summary=f"Аварія {n}", service="Водопостачання" if n % 2 else
                      "Електропостачання") for n in range(30)]
    sync(engine, table(*rows), hub, NOW)
    said = bot_says(engine, hub, bot_api, "Соборна 14", NOW)
    assert units(said) <= 4096
    assert said.count("🚨") == 10
    assert '…і ще 20 — <a href="https://hub.example.org/?q=%D0%B2%D1%83%D0%BB.' in said and "усі на сайті</a>" in said
