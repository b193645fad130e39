"""A resident on the English pages types the street in Latin letters («Soborna 12», «vul. Potiomkinska 130») and
finds what «Соборна 12» finds: the same records on `/?q=…&lang=en` and in the API's `q=`, the same answer line
(the street named as the city names it, in Ukrainian), and the Telegram bot, which reads addresses the same way.
On SQLite and PostgreSQL. The Cyrillic searches themselves are tests/test_search.py and tests/test_addresses.py."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from fake_telegram import TOKEN, fake_bot_api
from rows import emergency, planned, table
from web_demo import NOW, Page, make_app

from outages.delivery.drain import drain
from outages.places import latin
from outages.records.sync import sync
from outages.residents.bot import poll_once
from outages.residents.fanout import expand_due
from outages.settings import load
from outages.transports.telegram import BotApi, TelegramTransport, telegram_options

# Record numbers follow the rows: №1 … №8.
ROWS = (
    emergency(addresses="вул. Соборна, 12, 14", expected_end="23.11.2026 09:00", recorded_at="22.11.2026 14:01"),
    emergency(addresses="вул. Потьомкінська, 120-160", recorded_at="22.11.2026 14:02",
              expected_end="23.11.2026 12:00"),
    emergency(addresses="вул. Соборна, непарні 1-25", recorded_at="22.11.2026 14:03",
              expected_end="23.11.2026 15:00"),
    emergency(addresses="вул. Адміральська, 12а, 14б", recorded_at="22.11.2026 14:04"),
    emergency(addresses="просп. Центральний, 1-9; вул. Велика Морська, 5", recorded_at="22.11.2026 14:05"),
    emergency(addresses="вул. Лягіна, 2", recorded_at="22.11.2026 14:06"),
    planned(addresses="вул. Соборна, 2-20", event_at="25.11.2026 09:00", expected_end="25.11.2026 17:00"),
    emergency(addresses="вул. Незнайома, 3", recorded_at="22.11.2026 14:07"),  # a street the catalogue lacks
)

# What the resident types in Latin letters, the same search in Cyrillic, and the records both must find.
SAME_AS_CYRILLIC = [
    ("Soborna 12", "Соборна 12", {1, 7}),
    ("soborna 12", "Соборна 12", {1, 7}),
    ("SOBORNA 12", "Соборна 12", {1, 7}),
    ("vul. Soborna 12", "вул. Соборна 12", {1, 7}),
    ("vul Soborna, 12", "вул. Соборна, 12", {1, 7}),
    ("Soborna St. 12", "Соборна 12", {1, 7}),
    ("Soborna street 12", "вулиця Соборна 12", {1, 7}),
    ("Soborna 21", "Соборна 21", {3}),  # the odd side only
    ("Soborna 22", "Соборна 22", set()),
    ("Soborna", "Соборна", {1, 3, 7}),  # a street alone: every record on it
    ("Sobornaya 12", "Соборная 12", {1, 7}),  # a Russian-style ending
    ("Radianska 14", "Радянська 14", {1, 7}),  # the former name, romanised
    ("Potiomkinska 130", "Потьомкінська 130", {2}),  # «ьо» as most people write it
    ("Potyomkinska 130", "Потьомкінська 130", {2}),
    ("Potomkinska 130", "Потьомкінська 130", {2}),  # the resolution's own spelling: the soft sign dropped
    ("vul. Potiomkinska 170", "вул. Потьомкінська 170", set()),  # outside the range
    ("Admiralska 12a", "Адміральська 12а", {4}),
    ("Admiral'ska 14b", "Адміральська 14б", {4}),  # an apostrophe ignored; «b» is б
    ("Admiralska 12", "Адміральська 12", set()),  # 12а is not 12
    ("prosp. Tsentralnyi 5", "просп. Центральний 5", {5}),
    ("Tsentralnyy avenue 5", "Центральний проспект 5", {5}),
    ("Velyka Morska 5", "Велика Морська 5", {5}),
    ("Velyka-Morska 5", "Велика Морська 5", {5}),  # a hyphen ignored
    ("Velika Morska 5", "Велика Морська 5", {5}),  # «i» for И
    ("Liahina 2", "Лягіна 2", {6}),  # Я inside a word: «ia», or «ya»
    ("Lyahina 2", "Лягіна 2", {6}),
    ("vul. Neznaioma 3", "вулиця незнайома 3", {8}),  # a street only records name, romanised as the catalogue is
    ("Neznayoma 3", "Незнайома 3", {8}),
]

# Latin text that names no street: the same «no street» line as any unknown street, and no records.
NO_STREET = ["Hello 12", "Main Street 5", "Kyiv 5", "Shevchenka 3"]


@pytest.fixture
def client(engine, settings):
    sync(engine, table(*ROWS), settings, NOW)
    return make_app(engine, settings).test_client()


def page_numbers(html: str) -> set[int]:
    return {int(n) for n in re.findall(r"(?:Record|Запис) № (\d+)", Page(html).text)}


def answer_line(html: str) -> str | None:
    found = re.search(r'<p class="answer"[^>]*>(.*?)</p>', html, re.S)
    return Page(found.group(1)).text if found else None


def search(client, typed: str) -> tuple[set[int], str | None, set[int]]:
    """What the resident sees for `typed` on the English page (records, answer line) and in the API."""
    response = client.get("/?lang=en&q=" + quote(typed))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    body = client.get("/api/v1/outages?q=" + quote(typed)).get_json()
    assert body["total"] == len(body["outages"]) and body["filters"]["q"] == typed
    return page_numbers(html), answer_line(html), {o["number"] for o in body["outages"]}


@pytest.mark.parametrize("typed, cyrillic, expected", SAME_AS_CYRILLIC)
def test_latin_finds_what_cyrillic_finds(client, typed, cyrillic, expected):
    on_page, said, in_api = search(client, typed)
    assert on_page == in_api == expected
    assert search(client, cyrillic) == (expected, said, expected)  # the same answer line, word for word


@pytest.mark.parametrize("typed, says", [
    ("Soborna 12", "At вул. Соборна, 12 now: Water supply (emergency, No. 1) — until Mon 23 Nov at 09:00. "
                   "Planned: Electricity (planned works, No. 7) — Wed 25 Nov at 09:00 – Wed 25 Nov at 17:00."),
    ("vul. Potiomkinska 130", "At вул. Потьомкінська, 130 now: Water supply (emergency, No. 2) — until Mon 23 Nov "
                              "at 12:00. No planned works."),
    ("Soborna 41", "At вул. Соборна, 41 nothing is off now. No planned works."),
    ("Admiralska 14B", "At вул. Адміральська, 14б now: Water supply (emergency, No. 4) — until Sun 22 Nov "
                       "at 20:00. No planned works."),
])
def test_the_answer_line_names_the_street_in_ukrainian(client, typed, says):
    assert search(client, typed)[1] == says


@pytest.mark.parametrize("typed", NO_STREET)
def test_latin_text_that_is_no_street_says_so(client, typed):
    on_page, said, in_api = search(client, typed)
    assert said == f"No street «{typed}» in the city's street list"
    assert on_page == in_api == set()


def test_the_latin_names_are_the_national_romanisation():
    """Resolution 55 (2010) of the Cabinet of Ministers, as translitua's table spells it; keys fold case, «y»/«i»
    and apostrophes, so the word-initial and the medial forms are one key."""
    assert latin.keys("Щорса") == ("shchorsa",)
    assert latin.keys("Згурівська") == ("zghurivska",)
    assert latin.keys("Юрія Гагаріна") == latin.keys("юрія гагаріна") == ("iuriia haharina",)
    assert latin.key("Yuriia Haharina") == latin.key("Iuriia Haharina") == "iuriia haharina"
    assert latin.keys("Їжакевича") == (latin.key("Yizhakevycha"),) == (latin.key("Izhakevycha"),)
    assert latin.keys("Потьомкінська") == ("potomkinska", "potiomkinska")
    assert latin.keys("Слов’янська") == (latin.key("Slovianska"),) == (latin.key("Slov'yanska"),)
    assert latin.is_latin("Soborna 12") and not latin.is_latin("Соборна 12") and not latin.is_latin("Cоборна")


# ---- the bot reads addresses with the same matcher ---------------------------------------------------------

@pytest.fixture
def bot_api():
    yield from fake_bot_api(chat_limit=None)


@pytest.fixture
def bot_settings(env, monkeypatch, bot_api):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_API_URL": bot_api.url,
                       "OUTAGES_PUBLIC_URL": "https://hub.example.org"}.items():
        monkeypatch.setenv(key, value)
    return load()


def bot_says(api, engine, settings, chat_id: int, text: str, now) -> list[str]:
    """What the resident's Telegram shows after writing `text` to the bot (and after any news for them)."""
    seen = len(api.texts(chat_id))
    if text:
        api.say(chat_id, text)
    options = telegram_options(settings)
    poll_once(engine, settings, BotApi(options), now)
    expand_due(engine, settings, now)
    drain(engine, TelegramTransport(options), now=now, budget_s=30)
    return api.texts(chat_id)[seen:]


def test_the_bot_finds_a_latin_address_and_subscribes_to_it(engine, bot_settings, bot_api):
    sync(engine, table(emergency(addresses="вул. Соборна, 10-16", summary="Відключено воду")), bot_settings, NOW)
    bot_says(bot_api, engine, bot_settings, 5550001, "/start", NOW)
    [status] = bot_says(bot_api, engine, bot_settings, 5550001, "Soborna 14", NOW)
    assert "За адресою «вул. Соборна, 14»:" in status and "Водопостачання: до 22.11.2026 20:00" in status
    assert "✅ Підписано на «Soborna 14»" in status
    later = NOW + timedelta(minutes=10)
    sync(engine, table(emergency(addresses="вул. Соборна, 10-16", summary="Відключено воду"),
                       emergency(addresses="вул. Соборна, 12-20", service="Теплопостачання",
                                 executor="КП «Теплоенерго»", summary="Порив теплотраси")), bot_settings, later)
    [news] = bot_says(bot_api, engine, bot_settings, 5550001, "", later)
    assert news.startswith("<b>Новий запис за вашою адресою</b> «Soborna 14»") and "Порив теплотраси" in news
    [unknown] = bot_says(bot_api, engine, bot_settings, 5550001, "Hello 12", later)
    assert "Вулицю «Hello 12» не знайдено в довіднику міста" in unknown
