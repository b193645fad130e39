"""RSS and Atom feeds (/feed.rss, /feed.atom) read back with feedparser, on the demo export synced for real."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
import pytest
from conftest import DEMO_CSV
from lxml import etree

from outages.records.sync import sync
from sheets.files import read_file
from web import create_app

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 23, 0, tzinfo=KYIV)


def make_app(settings, engine, now=NOW):
    app = create_app(settings, engine=engine)
    app.extensions["outages"].clock = lambda: now
    return app


@pytest.fixture
def client(settings, engine):
    sync(engine, read_file(DEMO_CSV), settings, NOW)
    return make_app(settings, engine).test_client()


def parsed(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


def test_atom_has_one_entry_per_public_change_newest_first(client) -> None:
    response, feed = parsed(client, "/feed.atom")
    assert response.mimetype == "application/atom+xml"
    # The demo export: 17 records created, 4 updates and 4 resolutions (breaches and overdue flags are not news).
    kinds = [e.title.split(" · ")[1].split(":")[0] for e in feed.entries]
    assert len(feed.entries) == 25
    assert kinds.count("Оновлення") == 4 and kinds.count("Ліквідовано") == 4
    times = [e.updated_parsed for e in feed.entries]
    assert times == sorted(times, reverse=True)
    assert len({e.id for e in feed.entries}) == 25
    # The feed's date is the newest change in the data (record 17, recorded 22.11.2026 22:05), not the clock.
    assert feed.feed.updated == "2026-11-22T22:05:00+02:00"
    assert feed.entries[0].title == "№17 · Планові роботи: Планова заміна кабельної лінії"
    assert feed.entries[0].link == "http://localhost/outages/17"


def test_each_entry_shows_the_record_as_it_was_after_that_change(client) -> None:
    _, feed = parsed(client, "/feed.atom?q=Океанівська")
    titles = [e.title for e in feed.entries]
    assert titles == [
        "№4 · Ліквідовано: Водопостачання відновлено",
        "№4 · Оновлення: Порив водогону Ø200 — новий термін 21.11.2026 19:00",
        "№4 · Аварійна ситуація: Порив водогону Ø200",
    ]
    resolved, updated, created = (lxml.html.fragment_fromstring(e.content[0].value, create_parent="div")
                                  .text_content() for e in feed.entries)
    assert "Термін ліквідації21.11.2026 15:00" in created  # the first expected end, before the update moved it
    assert "Термін змінено: 21.11.2026 15:00 → 21.11.2026 19:00" in updated
    assert "Ліквідовано21.11.2026 18:45" in resolved
    assert "Ліквідовано" not in created


def test_rss_and_atom_carry_the_same_entries(client) -> None:
    response, rss = parsed(client, "/feed.rss")
    _, atom = parsed(client, "/feed.atom")
    assert response.mimetype == "application/rss+xml"
    assert [e.id for e in rss.entries] == [e.id for e in atom.entries]
    assert [e.title for e in rss.entries] == [e.title for e in atom.entries]
    # The channel's <link> is the public page, not the feed itself.
    channel_link = etree.fromstring(response.data).findtext("channel/link")
    assert channel_link == "http://localhost/"
    assert rss.entries[0].id.startswith("tag:localhost,2026-11-22:outages/17/events/")


@pytest.mark.parametrize("query, numbers", [
    ("district=Корабельний", {2, 4, 9, 12, 17}),
    ("service=Ліфти", {6, 16}),
    ("district=Інгульський&service=Електропостачання", {14}),
    ("q=вулиця соборна", {1, 5, 13}),
    ("district=Нема-такого", set(range(1, 18))),  # unknown names are ignored, as on the page
])
def test_filters_are_those_of_the_page(client, query, numbers) -> None:
    for path in ("/feed.atom", "/feed.rss"):
        _, feed = parsed(client, f"{path}?{query}")
        assert {int(e.link.rsplit("/", 1)[1]) for e in feed.entries} == numbers


def test_filtered_feed_names_itself_and_keeps_a_date_when_empty(client) -> None:
    _, feed = parsed(client, "/feed.atom?q=Неіснуюча")
    assert feed.entries == []
    assert feed.feed.title == "Демо-місто: аварії та планові роботи — «Неіснуюча»"
    assert feed.feed.updated == "2026-11-22T22:05:00+02:00"
    assert feed.feed.id == "http://localhost/feed.atom?q=%D0%9D%D0%B5%D1%96%D1%81%D0%BD%D1%83%D1%8E%D1%87%D0%B0"


def test_same_data_gives_the_same_bytes_whatever_the_clock(settings, engine) -> None:
    sync(engine, read_file(DEMO_CSV), settings, NOW)
    later = datetime(2026, 12, 5, 12, 0, tzinfo=KYIV)
    for path in ("/feed.atom", "/feed.rss"):
        first = make_app(settings, engine).test_client().get(path).data
        second = make_app(settings, engine, later).test_client().get(path).data
        assert first == second


def test_public_url_setting_names_links_and_ids(settings, engine) -> None:
    sync(engine, read_file(DEMO_CSV), settings, NOW)
    settings.data["public_url"] = "https://outages.example.org/"
    _, feed = parsed(make_app(settings, engine).test_client(), "/feed.atom")
    assert feed.entries[0].link == "https://outages.example.org/outages/17"
    assert feed.entries[0].id.startswith("tag:outages.example.org,2026-11-22:outages/17/events/")


def test_entry_ids_stay_when_new_rows_arrive(settings, engine) -> None:
    table = read_file(DEMO_CSV)
    half = type(table)(source=table.source, headers=table.headers, rows=table.rows[:10])
    sync(engine, half, settings, NOW)
    _, before = parsed(make_app(settings, engine).test_client(), "/feed.atom")
    sync(engine, table, settings, NOW)
    # A fresh app: the response cache may keep the previous answer for up to a second after a sync.
    _, after = parsed(make_app(settings, engine).test_client(), "/feed.atom")
    assert len(after.entries) > len(before.entries)
    old = {e.id: e.title for e in before.entries}
    assert {e.id: e.title for e in after.entries if e.id in old} == old


def test_a_worker_that_kept_its_entries_writes_the_same_feed_as_a_fresh_one(settings, engine) -> None:
    """Each entry is written once per worker and kept: after later rows update, edit and resolve the same records,
    the warm worker's feeds must be byte for byte what a worker starting now writes."""
    settings.data["cache_seconds"] = 0  # no response cache: the kept entries are what is under test
    table = read_file(DEMO_CSV)
    sync(engine, type(table)(source=table.source, headers=table.headers, rows=table.rows[:10]), settings, NOW)
    warm = make_app(settings, engine).test_client()
    paths = ("/feed.atom", "/feed.rss", "/feed.atom?district=Центральний", "/feed.atom?q=Соборна")
    before = {path: warm.get(path).data for path in paths}
    sync(engine, table, settings, NOW)
    fresh = make_app(settings, engine).test_client()
    for path in paths:
        now = warm.get(path).data
        assert now == fresh.get(path).data, path
        assert now != before[path], path  # the later rows did change what the feed says


# --- Whatever a dispatcher types stays text, in every output -------------------------------------------------

EVIL = '<script>alert("x")</script> ]]> &amp; & "лапки" \'одинарні\' \x0b\x00\x1b 😀 \uffff кінець'
LONG = "Дуже довгий опис наслідків. " * 300


def _demo_contacts() -> set[str]:
    import csv

    with DEMO_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {row[h].strip() for row in rows for h in ("Відповідальна особа", "Контактний телефон",
                                                      "Адреса електронної пошти") if row[h].strip()}


def test_garbage_in_form_rows_stays_text_in_every_output(settings, engine) -> None:
    from test_api import check
    from test_calendar import planned, with_rows
    from test_cap import SCHEMA

    from outages.records.views import list_records

    secrets = {"<script>Таємна Особа</script>", "+380 99 000 11 22", "secret.person@example.org"}
    contact = {"contact_name": "<script>Таємна Особа</script>", "contact_phone": "+380 99 000 11 22",
               "reporter_email": "secret.person@example.org"}
    table = with_rows(
        read_file(DEMO_CSV), settings,
        planned(recorded_at="22.11.2026 22:20", event_at="27.11.2026 09:00", expected_end="27.11.2026 17:00",
                summary=EVIL, addresses='вул. <b>Соборна</b> & Ко, 1 ]]>', cause=EVIL, impact=LONG, **contact),
        planned(kind="Аварійна ситуація", recorded_at="22.11.2026 22:30", event_at="22.11.2026 22:10",
                expected_end="23.11.2026 10:00", summary="Порив " + EVIL, addresses="вул. Соборна, 7 " + EVIL,
                cause=EVIL, impact=EVIL + LONG, **contact),
    )
    sync(engine, table, settings, NOW)
    with engine.connect() as conn:
        garbage = sorted(r.number for r in list_records(conn, NOW) if "<script>" in r.summary)
    assert len(garbage) == 2
    changes = [{"recorded_at": "22.11.2026 22:40", "executor": "КП «Водоканал»", "kind": "Аварійна ситуація",
                "action": "Оновлення", "reference": str(garbage[1]), "impact": EVIL,
                "expected_end": "23.11.2026 12:00", **contact},
               {"recorded_at": "22.11.2026 22:50", "executor": "КП «Водоканал»", "kind": "Аварійна ситуація",
                "action": "Ліквідовано", "reference": str(garbage[1]), "summary": "Ліквідовано " + EVIL,
                "event_at": "22.11.2026 22:45", **contact}]
    sync(engine, with_rows(table, settings, *changes), settings, NOW)
    client = make_app(settings, engine).test_client()
    openapi = client.get("/api/openapi.json").get_json()
    private = _demo_contacts() | secrets
    assert {"Олена Ковальчук", "0512 47-11-02", "o.kovalchuk@example.org"} <= private

    def body(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        unfolded = text.replace("\r\n ", "")  # iCalendar folds long lines
        leaked = [p for p in private if p in unfolded]
        assert not leaked, (path, leaked)
        return text

    # Feeds: well-formed, parsed without error, the script only ever as text.
    for path in ("/feed.atom", "/feed.rss", "/feed.atom?q=Соборна", "/feed.rss?q=Соборна"):
        xml = body(path).encode()
        etree.fromstring(xml)
        feed = feedparser.parse(xml)
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        ours = [e for e in feed.entries if "<script>" in e.title]
        assert len(ours) == 4, path  # two created, one update, one resolution
    atom = etree.fromstring(body("/feed.atom").encode())
    for content in atom.iterfind(".//{http://www.w3.org/2005/Atom}content"):
        html = lxml.html.fragment_fromstring(content.text, create_parent="div")
        assert html.xpath("//script | //b") == []
    html = lxml.html.fragment_fromstring(
        next(c.text for c in atom.iterfind(".//{http://www.w3.org/2005/Atom}content") if "script" in c.text),
        create_parent="div")
    assert '<script>alert("x")</script> ]]> &amp; & "лапки"' in html.text_content()

    # Calendar: parses, the text survives as text, the long description is there up to the display cap (2000).
    from icalendar import Calendar

    cal = Calendar.from_ical(body("/planned.ics"))
    event = next(e for e in cal.walk("VEVENT") if str(e["uid"]) == f"outage-{garbage[0]}@localhost")
    assert '<script>alert("x")</script> ]]> &amp; & "лапки" \'одинарні\' 😀 кінець' in str(event["summary"])
    description = str(event["description"])
    assert LONG[:1500] in description and "…" in description and LONG.strip() not in description
    assert "<b>Соборна</b> & Ко" in str(event["location"])

    # JSON: valid against the document, the text is the dispatcher's without control characters.
    listing = check(openapi, client, "/api/v1/outages?q=Соборна", "/api/v1/outages")
    assert {o["number"] for o in listing["outages"]} >= set(garbage)
    for number in garbage:
        one = check(openapi, client, f"/api/v1/outages/{number}", "/api/v1/outages/{number}")
        assert "\x0b" not in one["summary"] and "\x00" not in one["summary"] and "\uffff" not in one["summary"]
        assert '<script>alert("x")</script>' in one["summary"]
        body(f"/api/v1/outages/{number}")

    # CAP: every message of the garbage records is valid against the schema and keeps the text as text.
    index = etree.fromstring(body("/cap/index.atom").encode())
    urls = [link.get("href").removeprefix("http://localhost")
            for link in index.iterfind(".//{http://www.w3.org/2005/Atom}link[@type='application/cap+xml']")]
    ours = [u for u in urls if any(u.startswith(f"/cap/outage-{n}-") for n in garbage)]
    assert len(ours) == 4
    for url in urls:
        alert = etree.fromstring(body(url).encode())
        SCHEMA.assertValid(alert)
    resolved = etree.fromstring(body(ours[0]).encode())
    headline = resolved.findtext("{urn:oasis:names:tc:emergency:cap:1.2}info/"
                                 "{urn:oasis:names:tc:emergency:cap:1.2}headline")
    assert headline.startswith(f'№{garbage[1]} · Ліквідовано: Ліквідовано <script>alert("x")</script> ]]>')
    assert len(headline) <= 160
