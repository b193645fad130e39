"""Search by address as residents type it, through the public page and the JSON API, on SQLite and PostgreSQL;
the parsed addresses stored with each record; the verdict's note about a street the city does not know."""

from __future__ import annotations

import re
from urllib.parse import quote

import feedparser
import pytest
from rows import emergency, planned, table, update
from sqlalchemy import select
from web_demo import NOW, Page, make_app

from outages.places import index as address_index
from outages.records.sync import sync
from outages.schema import record_addresses

# Record numbers follow the rows: №1 … №7.
ROWS = (
    emergency(addresses="вул. Потьомкінська, 120-160", recorded_at="22.11.2026 14:01"),
    emergency(addresses="вул. Соборна, 12, 14", recorded_at="22.11.2026 14:02"),
    emergency(addresses="вул. Соборна, непарні 1-25", recorded_at="22.11.2026 14:03"),
    emergency(addresses="вул. Адміральська, 12а, 14/1", recorded_at="22.11.2026 14:04"),
    emergency(addresses="вул. Садова", recorded_at="22.11.2026 14:05"),
    emergency(addresses="вул. Фалеєвська, 5", recorded_at="22.11.2026 14:06"),
    emergency(addresses="вул. Незнайома, 3", recorded_at="22.11.2026 14:07"),
)

SEARCHES = [
    ("Потьомкінська 130", {1}),  # inside a range
    ("Потьомкінська 170", set()),  # outside it
    ("Соборна 7", {3}),  # the odd side
    ("Соборна 8", set()),  # the even side of an odd-side record
    ("Соборна 14", {2}),
    ("Соборна 1", {3}),  # not «12, 14»
    ("Адміральська 12а", {4}),  # suffix
    ("Адміральська 12", set()),
    ("Адміральська 14/1", {4}),
    ("Садова 99", {5}),  # the whole street
    ("Соборна", {2, 3}),  # a street alone: every record on it
    ("потьомкинська 130", {1}),  # misspelt
    ("Фалеевская 5", {6}),  # Russian
    ("Радянська 14", {2}),  # former name of вул. Соборна
    ("вулиця незнайома 3", {7}),  # a street the catalogue lacks, as the record names it
    ("Неіснуюча 5", set()),  # no match
]


@pytest.fixture
def app(engine, settings):
    sync(engine, table(*ROWS), settings, NOW)
    return make_app(engine, settings)


def page_numbers(html: str) -> set[int]:
    return {int(n) for n in re.findall(r"Запис № (\d+)", Page(html).text)}


@pytest.mark.parametrize("typed, expected", SEARCHES)
def test_search_on_the_page(app, typed, expected):
    response = app.test_client().get("/?q=" + quote(typed))
    assert response.status_code == 200
    assert page_numbers(response.get_data(as_text=True)) == expected


@pytest.mark.parametrize("typed, expected", SEARCHES)
def test_search_in_the_api(app, typed, expected):
    body = app.test_client().get("/api/v1/outages?q=" + quote(typed)).get_json()
    assert {o["number"] for o in body["outages"]} == expected
    assert body["total"] == len(expected) and body["filters"]["q"] == typed


@pytest.mark.parametrize("path", ["/districts/tsentralnyi", "/services/water-supply"])
def test_a_district_or_service_page_searches_the_catalogue_too(app, path):
    """The scoped pages narrow the filters; the street list must come with them (a former name needs it)."""
    response = app.test_client().get(path + "?q=" + quote("Радянська 14"))
    assert response.status_code == 200
    assert page_numbers(response.get_data(as_text=True)) == {2}


def test_feeds_and_calendar_take_the_same_search(engine, settings):
    sync(engine, table(*ROWS, planned(addresses="вул. Соборна, 2-20", recorded_at="19.11.2026 09:00")),
         settings, NOW)
    client = make_app(engine, settings).test_client()
    feed = feedparser.parse(client.get("/feed.atom?q=" + quote("Соборна 14")).get_data())
    assert {entry.link for entry in feed.entries} == {"http://localhost/outages/2", "http://localhost/outages/8"}
    ics = client.get("/planned.ics?q=" + quote("Соборна 14")).get_data(as_text=True)
    assert "URL:http://localhost/outages/8" in ics
    assert "BEGIN:VEVENT" not in client.get("/planned.ics?q=" + quote("Соборна 21")).get_data(as_text=True)


def test_the_page_answers_first_for_a_house(engine, settings):
    sync(engine, table(
        emergency(addresses="вул. Соборна, 12, 14", expected_end="23.11.2026 09:00"),
        planned(addresses="вул. Соборна, 2-20", event_at="25.11.2026 09:00", expected_end="25.11.2026 17:00"),
    ), settings, NOW)
    client = make_app(engine, settings).test_client()
    text = Page(client.get("/?q=" + quote("Соборна 14")).get_data(as_text=True)).text
    assert ("За адресою вул. Соборна, 14 зараз: Водопостачання (аварія, №1) — до пн 23.11 о 09:00. "
            "Заплановано: Електропостачання (планові роботи, №2) — ср 25.11 о 09:00 – ср 25.11 о 17:00.") in text
    assert text.index("За адресою") < text.index("Запис №")  # the answer comes first
    english = Page(client.get("/?lang=en&q=" + quote("Соборна 14")).get_data(as_text=True)).text
    # English dates cannot be read as month.day: «23 Nov», never 23.11.
    assert ("At вул. Соборна, 14 now: Water supply (emergency, No. 1) — until Mon 23 Nov at 09:00. "
            "Planned: Electricity (planned works, No. 2) — Wed 25 Nov at 09:00 – Wed 25 Nov at 17:00.") in english
    nothing = Page(client.get("/?q=" + quote("Соборна 40")).get_data(as_text=True)).text
    assert "За адресою вул. Соборна, 40 зараз нічого не вимкнено. Планових робіт не заплановано." in nothing
    unknown = Page(client.get("/?q=" + quote("Неіснуюча 5")).get_data(as_text=True)).text
    assert "Вулицю «Неіснуюча 5» не знайдено в довіднику міста" in unknown
    # a street alone lists the records, with no line about a house
    assert "За адресою" not in Page(client.get("/?q=Соборна").get_data(as_text=True)).text


@pytest.mark.parametrize("lang, says", [
    ("uk", "За адресою вул. Соборна, 5 зараз: Електропостачання (планові роботи, №1) — до нд 22.11 о 21:00."
           " Інших планових робіт не заплановано."),
    ("en", "At вул. Соборна, 5 now: Electricity (planned works, No. 1) — until Sun 22 Nov at 21:00."
           " No other planned works."),
])
def test_works_under_way_are_not_contradicted_by_the_answer(engine, settings, lang, says):
    sync(engine, table(planned(addresses="вул. Соборна, 1-25", recorded_at="18.11.2026 09:00",
                               event_at="22.11.2026 09:00", expected_end="22.11.2026 21:00")), settings, NOW)
    client = make_app(engine, settings).test_client()
    text = Page(client.get(f"/?lang={lang}&q=" + quote("Соборна 5")).get_data(as_text=True)).text
    assert says in text


def test_an_overdue_record_says_its_term_passed(engine, settings):
    sync(engine, table(emergency(addresses="вул. Соборна, 12, 14", expected_end="22.11.2026 18:00")), settings, NOW)
    text = Page(make_app(engine, settings).test_client().get("/?q=" + quote("Соборна 12")).get_data(
        as_text=True)).text
    assert "Водопостачання (аварія, №1) — термін минув нд 22.11 о 18:00, новий не повідомлено" in text


def test_the_parsed_addresses_are_stored_and_follow_an_update(engine, settings):
    rows = [emergency(addresses="вул. Соборна, 12, 14; вул. Незнайома")]
    sync(engine, table(*rows), settings, NOW)
    with engine.connect() as conn:
        items = address_index.stored(conn, [1])[1]
    assert [i.describe() for i in items] == ["вул. Соборна, 12, 14", "вул. Незнайома (уся вулиця)"]
    assert [i.known for i in items] == [True, False]
    page = Page(make_app(engine, settings).test_client().get("/outages/1").get_data(as_text=True)).text
    assert "вул. Незнайома (уся вулиця) — вулиці немає в довіднику міста" in page
    sync(engine, table(*rows, update(1, addresses="вул. Соборна, 30-40")), settings, NOW)
    with engine.connect() as conn:
        items = address_index.stored(conn, [1])[1]
    assert [i.describe() for i in items] == ["вул. Соборна, 30–40"]
    client = make_app(engine, settings).test_client()
    page = Page(client.get("/outages/1").get_data(as_text=True)).text
    assert "Адреси, як їх прочитано вул. Соборна, 30–40" in page
    assert client.get("/api/v1/outages/1").get_json()["parsed_addresses"] == [
        {"street": "вул. Соборна", "known": True, "whole": False,
         "houses": [{"lo": 30, "hi": 40, "parity": None, "suffix": ""}]}]
    assert client.get("/api/v1/outages?q=" + quote("Соборна 14")).get_json()["total"] == 0
    assert client.get("/api/v1/outages?q=" + quote("Соборна 34")).get_json()["total"] == 1


def test_init_reads_stored_addresses_again(engine, settings, run_cli):
    sync(engine, table(emergency(addresses="вул. Соборна, 12, 14")), settings, NOW)
    with engine.begin() as conn:
        conn.execute(record_addresses.delete())  # as in a store from before the table existed
    result = run_cli("init")
    assert result.exit_code == 0, result.output
    assert "Адреси перечитано / addresses re-read: 1" in result.output
    with engine.connect() as conn:
        assert conn.execute(select(record_addresses.c.street)).scalars().all() == ["вул. Соборна", "вул. Соборна"]


def test_the_verdict_names_a_street_the_city_does_not_know(engine, settings):
    from sheets.writeback import verdict_text

    result = sync(engine, table(emergency(addresses="вул. Незнайома, 3; вул. Соборна, 5"),
                                emergency(addresses="вул. Соборна, 7", recorded_at="22.11.2026 14:06")),
                  settings, NOW)
    texts = [verdict_text(d, settings.rules) for d in result.plan.decisions]
    assert texts[0].startswith("Прийнято, №1, вчасно")
    assert texts[0].endswith("; вулицю «вул. Незнайома» не знайдено в довіднику міста")
    assert texts[1].startswith("Прийнято, №2, вчасно") and "довіднику" not in texts[1]
    # the next sync, the row unchanged, says the same
    again = sync(engine, table(emergency(addresses="вул. Незнайома, 3; вул. Соборна, 5"),
                               emergency(addresses="вул. Соборна, 7", recorded_at="22.11.2026 14:06")),
                 settings, NOW)
    assert [verdict_text(d, settings.rules) for d in again.plan.decisions] == texts
