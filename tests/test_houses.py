"""A blackout's searches answered from memory (issue 21): each worker keeps the open records indexed by street and
house (outages/places/live.py, web/houses.py). What it answers must be what SQL answers, at the request's clock;
it follows a sync at once; every spelling of a house is one cached page; and a search for a house in a store of a
year asks the store for no record rows at all. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from rows import emergency, planned, resolve, table, update
from sqlalchemy import event
from web_demo import NOW, Page, make_app

from outages.places import live
from outages.places.addresses import parse_query
from outages.places.answer import answer
from outages.places.index import condition, unknown_streets
from outages.places.search import Filters
from outages.records.sync import sync
from outages.records.views import SECTIONS, list_records, planned_between, section_counts, section_page
from web.houses import houses

# Record numbers follow the rows: №1 … №12.
ROWS = (
    emergency(addresses="вул. Потьомкінська, 120-160", recorded_at="22.11.2026 14:01"),
    emergency(addresses="вул. Соборна, 12, 14", recorded_at="22.11.2026 14:02", expected_end="22.11.2026 21:00"),
    emergency(addresses="вул. Соборна, 14а", recorded_at="22.11.2026 14:03", expected_end="23.11.2026 09:00"),
    emergency(addresses="вул. Соборна, парні 2-40", recorded_at="22.11.2026 14:04", service="Теплопостачання"),
    planned(addresses="просп. Центральний, 28-32", event_at="22.11.2026 09:00", expected_end="22.11.2026 21:30",
            recorded_at="18.11.2026 09:00"),
    planned(addresses="просп. Центральний, 30", event_at="25.11.2026 09:00", expected_end="25.11.2026 17:00",
            recorded_at="18.11.2026 09:10"),
    # A whole district: no «Адреси». вул. Заводська runs through Заводський only.
    emergency(addresses="", districts="Заводський", recorded_at="22.11.2026 14:07"),
    emergency(addresses="вул. Соборна, 16", recorded_at="22.11.2026 14:08"),
    planned(addresses="вул. Соборна, 1-99", event_at="21.11.2026 09:00", expected_end="21.11.2026 17:00",
            recorded_at="18.11.2026 09:20"),  # ended as planned yesterday: among the fixed of the last day
    planned(addresses="вул. Соборна, 16", event_at="10.12.2026 09:00", expected_end="10.12.2026 17:00",
            recorded_at="18.11.2026 09:30"),  # beyond 14 days: in no section, in the answer
    emergency(addresses="вул. Соборна", recorded_at="22.11.2026 14:11", expected_end="22.11.2026 19:00"),
    emergency(addresses="вул. Незнайома, 3", recorded_at="22.11.2026 14:12"),
)
LATER = (update(8, expected_end="23.11.2026 06:00", recorded_at="22.11.2026 16:00"),
         resolve(11, recorded_at="22.11.2026 17:40", event_at="22.11.2026 17:35"))

# In residents' words: (what they type, the records the answer line must name at NOW).
QUERIES = [
    ("Потьомкінська 130", {1}),
    ("вул. Соборна 14а", {3, 4}),  # «14а»: the single 14а, and the even side 2-40 (a range takes any suffix)
    ("соборна 16", {4, 8, 10}),
    ("Соборна 14", {2, 4}),
    ("просп. Центральний 30", {5, 6, 7}),  # the avenue runs through Заводський too: the whole-district one
    ("Заводська 7", {7}),  # a house in the whole-district record's district
    ("Центральний 31", {5, 7}),  # 28-32 has both sides
    ("Соборна 200", set()),  # outside every record
    ("Soborna 16", {4, 8, 10}),  # Latin
    ("Соборная 14", {2, 4}),  # Russian
    ("вулиця незнайома 3", {12}),  # a street only records name
    ("Соборна", set()),  # a street alone: no answer line, the sections list the street
    ("Неіснуюча 5", set()),
]
CLOCKS = [timedelta(0), timedelta(hours=1, minutes=30), timedelta(hours=26), timedelta(days=16)]


def _sql(conn, settings, typed, now):
    """What SQL answers: the answer line and each section (numbers, in order), and planned works today."""
    filters = Filters(query=typed, streets=settings.streets)
    query = parse_query(typed, settings.streets, unknown_streets(conn))
    covering = list_records(conn, now, active_only=True, where=condition(query, settings.streets))
    where = filters.sql_conditions(conn)
    counts = section_counts(conn, now, where)
    lists = {name: [r.number for r in section_page(conn, now, name, where, limit=1000)] for name in SECTIONS}
    assert all(counts[name] == len(lists[name]) for name in SECTIONS)
    today = planned_between(conn, now - timedelta(hours=12), now + timedelta(hours=12), where)
    return answer(query, covering, now, settings.tz), lists, today


def _memory(index, settings, typed, now):
    query = parse_query(typed, settings.streets, index.unknown)
    numbers = index.covering(query, settings.streets)
    found = index.select(numbers, now)
    covering = [r for r in found if r.live]
    lists = {name: [r.number for r in records] for name, records in live.sections(found, now, SECTIONS).items()}
    today = live.planned_between(found, now - timedelta(hours=12), now + timedelta(hours=12))
    return answer(query, covering, now, settings.tz), lists, today


@pytest.fixture
def store(engine, settings):
    sync(engine, table(*ROWS), settings, NOW - timedelta(hours=2))
    sync(engine, table(*ROWS, *LATER), settings, NOW - timedelta(hours=2))
    return engine


def test_the_answer_from_memory_is_the_answer_of_sql(store, settings):
    """The index read at NOW answers later requests too (terms pass, works end) as SQL does at their clock."""
    with store.connect() as conn:
        index = live.OpenRecords.read(conn, NOW)
        for typed, named in QUERIES:
            said = _memory(index, settings, typed, NOW)[0] or ""
            assert {n for n in range(1, 13) if f"№{n})" in said or f"№{n}," in said} == named, (typed, said)
            for later in CLOCKS:
                now = NOW + later
                assert _memory(index, settings, typed, now) == _sql(conn, settings, typed, now), (typed, later)


def test_the_states_said_are_those_of_the_clock(store, settings):
    with store.connect() as conn:
        index = live.OpenRecords.read(conn, NOW)
    said = _memory(index, settings, "Соборна 14", NOW + timedelta(hours=2))[0]
    assert "(аварія, №2) — термін минув нд 22.11 о 21:00, новий не повідомлено" in said
    ended = _memory(index, settings, "Центральний 30", NOW + timedelta(hours=2))
    assert ended[1]["fixed"] == [5] and "№5" not in ended[0]  # works past their end: over, not off now


def _said(client, typed: str) -> str:
    return Page(client.get("/?q=" + quote(typed)).get_data(as_text=True)).text


def test_the_index_follows_a_sync(store, settings):
    app = make_app(store, settings)
    client = app.test_client()
    assert "№13" not in _said(client, "Соборна 14") and "(аварія, №2)" in _said(client, "Соборна 14")
    reads = houses(app).stats()["reads"]
    sync(store, table(*ROWS, *LATER, emergency(addresses="вул. Соборна, 10-20", recorded_at="22.11.2026 17:00"),
                      resolve(2, recorded_at="22.11.2026 17:45", event_at="22.11.2026 17:44")),
         settings, NOW - timedelta(hours=2))
    said = _said(client, "Соборна 14")
    assert "(аварія, №13)" in said  # the new record is in the answer
    assert "(аварія, №2)" not in said  # the resolved one left it
    assert houses(app).stats()["reads"] == reads + 1
    _said(client, "Соборна 16")
    assert houses(app).stats()["reads"] == reads + 1  # read once per data version


def test_every_spelling_of_a_house_is_one_cached_page(store, settings):
    app = make_app(store, settings)
    client = app.test_client()
    cache = app.extensions["outages_cache"]
    bodies = {client.get("/?q=" + quote(typed)).data
              for typed in ("Соборна 14а", "вул. Соборна, 14а", "соборна 14А", "Soborna 14a", "Соборная 14 а")}
    assert len(bodies) == 1
    assert cache.stats()["entries"] == 1 and cache.stats()["rendered"] == 1
    assert 'value="вул. Соборна, 14а"' in bodies.pop().decode()
    client.get("/?q=" + quote("Соборна 14"))  # another house: another page
    assert cache.stats()["entries"] == 2


# ---- a year's store ----

STORED, OPEN = 50_000, 3_000


def _fill_year(engine, settings) -> None:
    """STORED records, the newest OPEN still active on вул. Соборна and просп. Центральний, the rest resolved
    over the past year; written in bulk, with their parsed addresses and districts."""
    from outages.db import bulk_insert
    from outages.places.addresses import parse_addresses
    from outages.places.index import write
    from outages.schema import events, record_districts, records

    rows, places, happened, parsed, cells = [], [], [], {}, {}
    for number in range(1, STORED + 1):
        is_open = number > STORED - OPEN
        at = NOW - timedelta(minutes=30 + number % 300) if is_open else NOW - timedelta(hours=STORED - number + 30)
        cell = f"вул. Соборна, {number % 200}; просп. Центральний, {number % 50}-{number % 50 + 10}"
        rows.append({
            "number": number, "executor": "КП «Водоканал»", "kind": "emergency", "service": "Водопостачання",
            "districts": ["Центральний"], "addresses": cell, "summary": f"Порив №{number}", "cause": "",
            "impact": "", "event_at": at, "expected_end": at + timedelta(hours=6), "first_recorded_at": at,
            "last_changed_at": at, "status": "active" if is_open else "resolved",
            "resolved_at": None if is_open else at + timedelta(hours=5), "deadline_met": True, "delay_minutes": 10.0,
            "lead_hours": None, "contact_name": "", "contact_phone": "", "reporter_email": "", "revision": 1,
            "overdue_for": None})
        places.append({"record_number": number, "district": "Центральний"})
        happened.append({"record_number": number, "kind": "created", "at": at, "created_at": at, "revision": 1,
                         "data": {}})
        if cell not in cells:
            cells[cell] = parse_addresses(cell, settings.streets)
        parsed[number] = cells[cell]
    happened.sort(key=lambda e: e["created_at"])
    with engine.begin() as conn:
        for start in range(0, STORED, 10_000):
            bulk_insert(conn, records, rows[start:start + 10_000])
            bulk_insert(conn, events, happened[start:start + 10_000])
        bulk_insert(conn, record_districts, places)
        write(conn, parsed, new=set(parsed))


def test_a_house_search_in_a_year_reads_no_record_rows(engine, settings):
    _fill_year(engine, settings)
    app = make_app(engine, settings)
    client = app.test_client()
    asked: list[str] = []

    def heard(_conn, _cursor, statement, *_rest) -> None:
        asked.append(statement)

    event.listen(engine, "before_cursor_execute", heard)
    try:
        assert "№49999" in _said(client, "Соборна 199")  # the first search reads the open records once
        read = houses(app).stats()["records"]
        assert read == OPEN  # those still open, not the year
        asked.clear()
        for house in (14, 15, 114, 199):
            said = _said(client, f"вул. Соборна {house}")
            assert "За адресою вул. Соборна" in said and "і ще" in said
    finally:
        event.remove(engine, "before_cursor_execute", heard)
    # Besides the data version (read for every request here: the tests' check interval is 0), each page asked for
    # the data's date and the updates of the few records it shows: never a record row, never the parsed addresses.
    pages = [s for s in asked if "max(events.id)" not in s]
    assert len(pages) <= 4 * 2, pages
    assert not [s for s in asked if "record_addresses" in s or "FROM records" in s], asked


def test_a_house_is_worked_out_once_for_every_suffix_its_records_cover_alike(store, settings):
    """«Соборна 40» and «Соборна 40б» are covered by the same records (the even side 2-40): two pages (each names its
    own house), one working-out, kept as long as a cached page (cache_seconds) at the request's clock: №4's term
    ends at NOW, and a page worked out 29 s later still says what the cached pages say, 31 s later it has passed."""
    clock = {"now": NOW}
    app = make_app(store, settings)
    app.extensions["outages"].clock = lambda: clock["now"]
    client = app.test_client()
    first, second = _said(client, "Соборна 40"), _said(client, "Соборна 40б")
    assert "За адресою вул. Соборна, 40 " in first and "За адресою вул. Соборна, 40б " in second
    assert "Теплопостачання (аварія, №4) — до нд 22.11 о 20:00" in first
    assert first.replace("40б", "40") == second.replace("40б", "40")
    assert houses(app).stats()["worked"] == 1 and app.extensions["outages_cache"].stats()["rendered"] == 2
    clock["now"] = NOW + timedelta(seconds=29)
    assert "(аварія, №4) — до нд 22.11 о 20:00" in _said(client, "Соборна 40в")
    assert houses(app).stats()["worked"] == 1
    cache = app.extensions["outages_cache"]
    # Its page is kept as old as the facts it was made from: 1 s more, not another 30.
    (newest,) = [e for k, e in cache._entries.items() if "40в" in str(k)]
    assert 29 <= cache.clock() - newest.born < 30
    clock["now"] = NOW + timedelta(seconds=31)
    assert "(аварія, №4) — термін минув нд 22.11 о 20:00" in _said(client, "Соборна 40г")
    assert houses(app).stats()["worked"] == 2
    clock["now"] = NOW + timedelta(days=2)  # another day: №11, fixed yesterday, is no longer among the fixed
    assert "Усунено за добу (1)" in first and "Усунено за добу (0)" in _said(client, "Соборна 40д")


def test_spellings_of_a_house_asked_at_once_are_rendered_once(store, settings, monkeypatch):
    """In a surge the spellings of one house arrive together (different query strings, so the fast door lets each
    through): one thread renders the page, the others wait for its copy."""
    import threading
    import time

    app = make_app(store, settings)
    index = houses(app)
    working_out = index.facts

    def slow(*args, **kwargs):  # a house under thousands of records, on a busy worker
        time.sleep(0.3)
        return working_out(*args, **kwargs)

    monkeypatch.setattr(index, "facts", slow)
    spellings = ("Соборна 14а", "вул. Соборна, 14а", "соборна 14А", "Soborna 14a", "Соборная 14 а")
    bodies: list[bytes] = []
    threads = [threading.Thread(target=lambda typed=typed: bodies.append(
        app.test_client().get("/?q=" + quote(typed)).data)) for typed in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(bodies) == 5 and len(set(bodies)) == 1
    assert "вул. Соборна, 14а" in Page(bodies[0].decode()).text
    assert app.extensions["outages_cache"].stats()["rendered"] == 1 and index.worked == 1
