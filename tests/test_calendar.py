"""/planned.ics read back with icalendar: planned works only, Kyiv times, stable UIDs, changes as SEQUENCE."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import DEMO_CSV
from icalendar import Calendar

from outages.records.model import SheetRow, SheetTable
from outages.records.sync import sync
from outages.records.views import list_records
from sheets.files import read_file
from web import create_app

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 23, 0, tzinfo=KYIV)
DEMO_PLANNED = {1, 2, 3, 9, 10, 14, 15, 17}


def make_app(settings, engine, now=NOW):
    app = create_app(settings, engine=engine)
    app.extensions["outages"].clock = lambda: now
    return app


def with_rows(table: SheetTable, settings, *rows: dict[str, str]) -> SheetTable:
    """The table with form rows appended below it (fields by name, the default headers)."""
    extra = tuple(SheetRow(number=len(table.rows) + 2 + i, values={settings.columns[k]: v for k, v in row.items()})
                  for i, row in enumerate(rows))
    return SheetTable(source=table.source, headers=table.headers, rows=table.rows + extra)


def planned(**fields: str) -> dict[str, str]:
    return {"executor": "КП «Водоканал»", "kind": "Планові роботи", "service": "Водопостачання",
            "districts": "Заводський", "addresses": "вул. Лазурна, 1-9", "summary": "Заміна засувок",
            "cause": "Планові роботи", "impact": "Не буде води", "contact_name": "Олена Ковальчук",
            "contact_phone": "0512 47-11-02"} | fields


def calendar(client, path="/planned.ics"):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    return response, cal, {int(str(e["url"]).rsplit("/", 1)[1]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def client(settings, engine):
    sync(engine, read_file(DEMO_CSV), settings, NOW)
    return make_app(settings, engine).test_client()


def test_planned_works_only_in_kyiv_time(client) -> None:
    _, cal, events = calendar(client)
    assert set(events) == DEMO_PLANNED
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Kyiv"]
    assert str(cal["x-wr-timezone"]) == "Europe/Kyiv"
    works = events[1]  # КП «Водоканал», вул. Соборна: 23.11.2026 09:00–17:00
    start, end = works["dtstart"].dt, works["dtend"].dt
    assert start.replace(tzinfo=None) == datetime(2026, 11, 23, 9)
    assert end.replace(tzinfo=None) == datetime(2026, 11, 23, 17)
    assert start.utcoffset() == timedelta(hours=2)
    assert works["dtstart"].params["TZID"] == "Europe/Kyiv"
    assert str(works["summary"]) == "Водопостачання: Заміна засувки на водогоні Ø300 (№1)"
    assert str(works["location"]) == "Демо-місто, Центральний: вул. Соборна, 1-25; вул. Садова, 3"
    assert "Наслідки для мешканців: Не буде холодної води з 09:00 до 17:00" in str(works["description"])
    assert str(works["uid"]) == "outage-1@localhost"
    assert str(works["status"]) == "CONFIRMED"
    # DTSTAMP is the record's last change (18.11.2026 08:12:40 in Kyiv), not the moment of the request.
    assert works["dtstamp"].dt == datetime(2026, 11, 18, 6, 12, 40, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize("query, numbers", [
    ("district=Інгульський", {3, 14, 15}),
    ("service=Електропостачання", {2, 14, 17}),
    ("q=Кобера", {9}),
    ("service=Ліфти", set()),
])
def test_filters(client, query, numbers) -> None:
    _, _, events = calendar(client, f"/planned.ics?{query}")
    assert set(events) == numbers


def test_same_data_same_bytes_whatever_the_clock(settings, engine) -> None:
    sync(engine, read_file(DEMO_CSV), settings, NOW)
    first = make_app(settings, engine).test_client().get("/planned.ics").data
    second = make_app(settings, engine, NOW + timedelta(days=9)).test_client().get("/planned.ics").data
    assert first == second


def test_rescheduled_completed_and_called_off_works(settings, engine) -> None:
    demo = read_file(DEMO_CSV)
    table = with_rows(
        demo, settings,
        planned(recorded_at="22.11.2026 19:00", event_at="26.11.2026 09:00", expected_end="26.11.2026 17:00",
                summary="Роботи, що завершаться раніше"),
        planned(recorded_at="22.11.2026 19:05", event_at="28.11.2026 09:00", expected_end="28.11.2026 17:00",
                summary="Роботи, які скасують"),
        # Works across the spring DST change: 29.03.2027 is in summer time (+03:00).
        planned(recorded_at="22.11.2026 19:10", event_at="29.03.2027 09:00", expected_end="29.03.2027 15:00",
                summary="Весняні роботи"),
    )
    sync(engine, table, settings, NOW)
    with engine.connect() as conn:
        numbers = {r.summary: r.number for r in list_records(conn, NOW)}
    early, called_off, spring = (numbers[s] for s in ("Роботи, що завершаться раніше", "Роботи, які скасують",
                                                      "Весняні роботи"))
    uid_before = {n: str(e["uid"]) for n, e in calendar(make_app(settings, engine).test_client())[2].items()}

    later = datetime(2026, 11, 26, 16, 0, tzinfo=KYIV)
    changes = [
        {"recorded_at": "24.11.2026 10:00", "executor": "КП «Водоканал»", "kind": "Планові роботи",
         "action": "Ліквідовано", "reference": str(called_off), "event_at": "24.11.2026 10:00"},
        {"recorded_at": "25.11.2026 12:00", "executor": "КП «Автодор»", "kind": "Планові роботи",
         "action": "Оновлення", "reference": "10", "expected_end": "02.12.2026 18:00"},
        {"recorded_at": "26.11.2026 15:35", "executor": "КП «Водоканал»", "kind": "Планові роботи",
         "action": "Ліквідовано", "reference": str(early), "event_at": "26.11.2026 15:30"},
    ]
    sync(engine, with_rows(table, settings, *changes), settings, later)
    _, _, events = calendar(make_app(settings, engine, later).test_client())

    assert {n: str(e["uid"]) for n, e in events.items()} == uid_before
    moved = events[10]
    assert int(moved["sequence"]) == 1
    assert moved["dtend"].dt == datetime(2026, 12, 2, 18, 0, tzinfo=KYIV)
    done = events[early]
    assert str(done["status"]) == "CONFIRMED"
    assert str(done["summary"]).startswith("Завершено: Водопостачання: Роботи, що завершаться раніше")
    assert done["dtend"].dt == datetime(2026, 11, 26, 15, 30, tzinfo=KYIV)
    gone = events[called_off]
    assert str(gone["status"]) == "CANCELLED"
    assert str(gone["summary"]).startswith("Скасовано: ")
    assert events[spring]["dtstart"].dt.utcoffset() == timedelta(hours=3)
    assert events[spring]["dtstart"].dt.astimezone(ZoneInfo("UTC")).hour == 6


def test_no_personal_data(client) -> None:
    body = client.get("/planned.ics").data.decode().replace("\r\n ", "")  # unfold long lines
    for private in ("Олена Ковальчук", "0512 47-11-02", "o.kovalchuk@example.org", "Сергій Мельник",
                    "067 345 15 55", "s.melnyk@example.org", "Марина Гончар"):
        assert private not in body


def test_events_kept_per_worker_give_the_bytes_icalendar_gives(settings, engine) -> None:
    """Each VEVENT is serialised once per worker (web/public/calendar.py `ical`): the calendar must be byte for byte
    what icalendar makes of the whole, after a change of one record too."""
    from web.public.calendar import build

    sync(engine, read_file(DEMO_CSV), settings, NOW)
    app = make_app(settings, engine)
    client = app.test_client()

    def whole() -> bytes:
        with app.test_request_context("/planned.ics"), engine.connect() as conn:
            from outages.records.views import planned_works

            works = planned_works(conn, NOW, NOW - timedelta(days=30), limit=300)
            return build(works, {}).to_ical()

    assert client.get("/planned.ics").data == whole()
    assert len(app.extensions["outages_ical_events"]) == len(DEMO_PLANNED)
    later = with_rows(read_file(DEMO_CSV), settings, planned(
        recorded_at="22.11.2026 22:50:00", event_at="24.11.2026 09:00", expected_end="24.11.2026 15:00"))
    sync(engine, later, settings, NOW)
    app.extensions["outages_cache"].clear()
    assert client.get("/planned.ics").data == whole()
