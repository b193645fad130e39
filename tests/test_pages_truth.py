"""Pages that tell the truth: the headline is what happened and updates are a timeline; an overdue
record says its term passed and when; a summary line; «Дані оновлено» from the data; district filters in SQL on
both databases; paging of a long section; English names; favicon, robots.txt and 404s for any record number."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from rows import emergency, planned, resolve, table, update
from sqlalchemy import select
from web_demo import KYIV, NOW, Page, make_app, section_text, sync_demo

from outages.records.sync import sync
from outages.records.views import history
from outages.schema import record_districts


def text_of(app, url: str, status: int = 200) -> str:
    response = app.test_client().get(url)
    assert response.status_code == status, (url, response.status_code)
    return Page(response.get_data(as_text=True)).text


def test_the_headline_stays_what_happened_and_each_update_has_its_own_text_and_time(engine, settings):
    sync(engine, table(emergency(summary="Порив водогону Ø100"),
                       update(1, recorded_at="22.11.2026 16:00", summary="Бригада на місці, розкопка"),
                       update(1, recorded_at="22.11.2026 18:30", summary="Замінено 3 м труби",
                              expected_end="23.11.2026 02:00"),
                       resolve(1, recorded_at="22.11.2026 19:00", event_at="22.11.2026 18:40",
                               summary="Воду подано")), settings, NOW)
    with engine.connect() as conn:
        said = [(e.kind, e.data.get("text")) for e in history(conn, 1)]
    assert said == [("created", None), ("updated", "Бригада на місці, розкопка"),
                    ("updated", "Замінено 3 м труби"), ("resolved", "Воду подано")]
    app = make_app(engine, settings)
    page = text_of(app, "/outages/1")
    assert page.startswith("№ 1 · Порив водогону Ø100")
    history_text = page[page.index("Історія"):page.index("Своєчасність внесення")]
    assert ("22.11.2026 14:05 — створено запис "
            "22.11.2026 16:00 — оновлення; новий термін: 22.11.2026 23:00 Бригада на місці, розкопка "
            "22.11.2026 18:30 — оновлення; новий термін: 23.11.2026 02:00 Замінено 3 м труби "
            "22.11.2026 18:40 — усунено (ліквідовано) Воду подано") in history_text
    # On `/`, the fixed record keeps its headline and shows the latest words under it.
    fixed = section_text(app.test_client().get("/").get_data(as_text=True), "fixed")
    assert "Порив водогону Ø100 Аварійна ситуація" in fixed and "22.11 о 18:40 : Воду подано" in fixed


def test_overdue_says_the_term_passed_and_dates_the_event_when_it_passed(engine, settings):
    # Term 29.11 20:00; the worker was down and synced only at 06:16 the next morning.
    late = datetime(2026, 11, 30, 6, 16, tzinfo=KYIV)
    sync(engine, table(emergency(recorded_at="29.11.2026 10:05", event_at="29.11.2026 09:50",
                                 expected_end="29.11.2026 20:00")), settings, late)
    with engine.connect() as conn:
        overdue = [e for e in history(conn, 1) if e.kind == "overdue"]
    assert [e.at for e in overdue] == [datetime(2026, 11, 29, 20, 0, tzinfo=KYIV)]
    app = make_app(engine, settings, now=late)
    for url, words in (("/", "термін минув 29.11 о 20:00, новий не повідомлено"),
                       ("/outages/1", "29.11.2026 20:00 — термін минув, новий не повідомлено"),
                       ("/en/", "the expected end passed on 29 Nov at 20:00; no new time has been given")):
        assert words in text_of(app, url), url


def test_summary_line_and_data_changed_time_come_from_the_data(engine, settings):
    sync_demo(engine, settings)
    first = make_app(engine, settings)
    later = make_app(engine, settings, now=NOW - timedelta(minutes=4))  # another worker, rendering apart
    pages = [first.test_client().get("/"), later.test_client().get("/")]
    assert pages[0].data == pages[1].data and pages[0].headers["ETag"] == pages[1].headers["ETag"]
    text = Page(pages[0].get_data(as_text=True)).text
    assert "Аварій зараз: 5 · Планових робіт сьогодні: 0 · на 14 днів: 8" in text
    assert "Дані оновлено: 22.11.2026 22:10" in text  # the sync that wrote the last change (web_demo.SYNCED)


@pytest.mark.parametrize("query, expected", [
    ("?district=Центральний", [16, 13, 8, 5]),
    ("?district=Інгульський", [8]),  # #8 lies in two districts
    ("?district=Корабельний&service=Зовнішнє освітлення", [12]),
    ("?service=Ліфти", [16]),
    ("?district=Заводський", []),
])
def test_district_and_service_filters_are_sql_conditions(engine, settings, query, expected):
    sync_demo(engine, settings)
    html = make_app(engine, settings).test_client().get("/" + query).get_data(as_text=True)
    shown = [int(n) for n in re.findall(r"Запис № (\d+)", section_text(html, "emergencies"))]
    assert shown == expected


def test_a_record_moved_to_another_district_is_found_there_only(engine, settings):
    sync(engine, table(emergency(districts="Центральний")), settings, NOW)
    sync(engine, table(emergency(districts="Центральний"), update(1, districts="Заводський, Корабельний")),
         settings, NOW)
    with engine.connect() as conn:
        assert sorted(conn.execute(select(record_districts.c.district)).scalars()) == ["Заводський", "Корабельний"]
    app = make_app(engine, settings)
    assert "Запис № 1" in text_of(app, "/districts/korabelnyi")
    assert "Запис № 1" not in text_of(app, "/districts/tsentralnyi")


def test_a_long_section_is_paged_and_every_record_reachable(engine, settings):
    rows = [emergency(recorded_at=f"22.11.2026 {10 + i // 60:02d}:{i % 60:02d}",
                      event_at=f"22.11.2026 {10 + i // 60:02d}:{i % 60:02d}", summary=f"Аварія {i + 1}")
            for i in range(120)]
    sync(engine, table(*rows), settings, NOW)
    app = make_app(engine, settings)
    home = app.test_client().get("/").get_data(as_text=True)
    emergencies = section_text(home, "emergencies")
    assert "Аварії зараз (120)" in emergencies and emergencies.count("Запис №") == 10
    assert 'href="/sections/emergencies">Усі 120: аварії зараз →' in home
    seen = []
    for page in (1, 2, 3):
        text = text_of(app, "/sections/emergencies" + (f"/{page}" if page > 1 else ""))
        seen += [int(n) for n in re.findall(r"Запис № (\d+)", text)]
    assert seen == list(range(120, 0, -1))  # newest first, each once
    assert "Записи 101–120 з 120" in text_of(app, "/sections/emergencies/3")
    assert app.test_client().get("/sections/emergencies/4").status_code == 404
    assert app.test_client().get("/sections/nothing").status_code == 404


def test_english_pages_name_the_city_districts_and_services_in_english(engine, settings):
    sync_demo(engine, settings)
    app = make_app(engine, settings)
    for url in ("/en/", "/?lang=en", "/en/outages/8", "/en/districts/tsentralnyi", "/en/timeliness"):
        html = app.test_client().get(url).get_data(as_text=True)
        assert "Demo City" in Page(html).text and "Демо-місто" not in Page(html).text, url
        # As names the site shows (headings, cards, menus, links); dispatchers' addresses stay as typed.
        for uk in ("Центральний", "Інгульський", "Корабельний", "Заводський", "Теплопостачання", "Ліфти"):
            assert not re.search(rf"(>|· |, ){uk}\b", html), (url, uk)
    assert "Heating · Tsentralnyi, Inhulskyi" in text_of(app, "/en/outages/8")


@pytest.mark.parametrize("url", ["/outages/99999999999999999999", "/outages/2147483648", "/outages/999",
                                 "/en/outages/99999999999999999999", "/sections/emergencies/0", "/districts/nowhere",
                                 "/no-such-page"])
def test_unknown_addresses_are_the_sites_own_404(engine, settings, url):
    sync_demo(engine, settings)
    text = text_of(make_app(engine, settings), url, status=404)
    assert "Сторінку не знайдено" in text or "Page not found" in text


def test_favicon_and_robots(engine, settings):
    client = make_app(engine, settings).test_client()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and robots.mimetype == "text/plain"
    assert "Disallow: /relay/" in robots.get_data(as_text=True)


def test_planned_works_today_counts_works_under_way_today(engine, settings):
    sync(engine, table(planned(event_at="22.11.2026 09:00", expected_end="22.11.2026 21:00"),
                       planned(event_at="22.11.2026 22:00", expected_end="23.11.2026 03:00",
                               recorded_at="18.11.2026 09:05"),
                       planned(event_at="23.11.2026 09:00", expected_end="23.11.2026 12:00",
                               recorded_at="18.11.2026 09:10")), settings, NOW)
    text = text_of(make_app(engine, settings), "/")
    assert "Аварій зараз: 0 · Планових робіт сьогодні: 2 · на 14 днів: 2" in text


def test_the_migration_restores_overwritten_headlines_and_indexes_districts(database_url, env):
    """Before 0006 an update's «Коротка інформація» replaced the record's summary. The migration puts the first one
    back (the old value of the first update that changed it; a later correction of the first row wins) and writes
    record_districts for every record, on both databases."""
    from alembic import command
    from sqlalchemy import create_engine, insert, text

    from outages import db
    from outages.schema import events, records

    engine = create_engine(db.normalise_url(database_url))
    config = db._alembic_config(engine)
    command.upgrade(config, "0005_addresses")
    at = datetime(2026, 11, 22, 12, 0, tzinfo=KYIV)
    base = {"executor": "КП «Водоканал»", "kind": "emergency", "service": "Водопостачання", "addresses": "",
            "cause": "", "impact": "", "event_at": at, "expected_end": None, "first_recorded_at": at,
            "last_changed_at": at, "status": "active", "deadline_met": True, "contact_name": "", "contact_phone": "",
            "reporter_email": "", "revision": 2}
    with engine.begin() as conn:
        conn.execute(insert(records), [
            base | {"number": 1, "districts": ["Центральний", "Заводський"], "summary": "Бригада на місці"},
            base | {"number": 2, "districts": ["Корабельний"], "summary": "Ремонт завершено"},
            base | {"number": 3, "districts": ["Інгульський"], "summary": "Ніхто не оновлював"},
        ])
        event = {"at": at, "created_at": at, "revision": 2}
        conn.execute(insert(events), [
            event | {"record_number": 1, "kind": "updated",
                     "data": {"changed": {"summary": ["Порив водогону", "Бригада на місці"]}}},
            event | {"record_number": 2, "kind": "updated",
                     "data": {"changed": {"summary": ["Порив", "Ремонт триває"]}}},
            event | {"record_number": 2, "kind": "edited",
                     "data": {"changed": {"summary": ["Ремонт триває", "Порив каналізації"]}}},
            event | {"record_number": 2, "kind": "resolved",
                     "data": {"changed": {"summary": ["Порив каналізації", "Ремонт завершено"]}}},
        ])
    command.upgrade(config, "0006_pages")
    with engine.connect() as conn:
        summaries = dict(conn.execute(select(records.c.number, records.c.summary)).all())
        places = sorted(conn.execute(select(record_districts.c.record_number, record_districts.c.district)).all())
        assert conn.execute(text("SELECT count(*) FROM record_districts")).scalar() == 4
    assert summaries == {1: "Порив водогону", 2: "Порив каналізації", 3: "Ніхто не оновлював"}
    assert places == [(1, "Заводський"), (1, "Центральний"), (2, "Корабельний"), (3, "Інгульський")]
    command.downgrade(config, "0005_addresses")
    engine.dispose()
