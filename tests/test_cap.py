"""CAP 1.2 messages (/cap/<id>.xml) validated against the OASIS schema, and their Atom index (/cap/index.atom)."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from conftest import DEMO_CSV, DEMO_NOW
from lxml import etree

from outages.records.sync import sync
from outages.records.views import history
from sheets.files import read_file
from web import create_app

KYIV = ZoneInfo("Europe/Kyiv")
NOW = DEMO_NOW
SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "data" / "cap12.xsd")))
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
CAP_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


@pytest.fixture
def client(demo_client):
    return demo_client


def index(client, query=""):
    response = client.get("/cap/index.atom" + query)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def cap_url(entry) -> str:
    links = [link for link in entry.links if link.type == "application/cap+xml"]
    assert len(links) == 1 and links[0].rel == "alternate"
    return links[0].href.removeprefix("http://localhost")


def message(client, url: str) -> etree._Element:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/cap+xml"
    alert = etree.fromstring(response.data)
    SCHEMA.assertValid(alert)
    return alert


def text(alert: etree._Element, path: str) -> str:
    return alert.findtext(path, namespaces=CAP)


def test_every_indexed_message_is_valid_cap(client) -> None:
    feed = index(client)
    assert len(feed.entries) == 25  # 17 records created, 4 updates, 4 resolutions
    for entry in feed.entries:
        alert = message(client, cap_url(entry))
        assert text(alert, "cap:status") == "Actual" and text(alert, "cap:scope") == "Public"
        assert CAP_TIME.match(text(alert, "cap:sent"))
        assert alert.xpath("cap:info/cap:language/text()", namespaces=CAP) == ["uk-UA", "en-US"]
        assert alert.xpath("cap:info/cap:category/text()", namespaces=CAP) == ["Infra", "Infra"]
        for stamp in alert.xpath("cap:info/cap:onset/text() | cap:info/cap:expires/text()", namespaces=CAP):
            assert CAP_TIME.match(stamp), stamp
        assert entry.title == text(alert, "cap:info/cap:headline")
        number = re.match(r"^/cap/outage-(\d+)-\d+\.xml$", cap_url(entry))[1]
        assert text(alert, "cap:info/cap:web") == f"http://localhost/outages/{number}"


def test_a_record_is_alert_then_updates_then_all_clear(client) -> None:
    urls = [cap_url(e) for e in reversed(index(client, "?q=Океанівська").entries)]
    created, updated, resolved = (message(client, u) for u in urls)
    sent = [text(m, "cap:sent") for m in (created, updated, resolved)]
    assert sent == ["2026-11-21T06:55:00+02:00", "2026-11-21T11:02:30+02:00", "2026-11-21T18:45:00+02:00"]
    assert [text(m, "cap:msgType") for m in (created, updated, resolved)] == ["Alert", "Update", "Update"]
    assert {text(m, "cap:incidents") for m in (created, updated, resolved)} == {"outage-4"}

    def ref(m: etree._Element) -> str:
        return ",".join((text(m, "cap:sender"), text(m, "cap:identifier"), text(m, "cap:sent")))

    assert created.find("cap:references", CAP) is None
    assert text(updated, "cap:references") == ref(created)
    assert text(resolved, "cap:references") == f"{ref(created)} {ref(updated)}"

    # An emergency's term is not its end: past it the record is overdue and still on (outages.records.state), so
    # its alerts do not expire at the term; the AllClear ends them. (Planned works' alerts expire at their end.)
    assert created.find("cap:info/cap:expires", CAP) is None and updated.find("cap:info/cap:expires", CAP) is None
    assert "Термін змінено: 21.11.2026 15:00 → 21.11.2026 19:00" in text(updated, "cap:info/cap:description")
    assert text(created, "cap:info/cap:urgency") == "Immediate"
    assert text(created, "cap:info/cap:certainty") == "Observed"
    assert created.find("cap:info/cap:responseType", CAP) is None
    assert resolved.xpath("cap:info/cap:responseType/text()", namespaces=CAP) == ["AllClear", "AllClear"]
    assert text(resolved, "cap:info/cap:urgency") == "Past"
    assert text(resolved, "cap:info/cap:headline") == "№4 · Ліквідовано: Водопостачання відновлено"
    english = resolved.xpath("cap:info[cap:language='en-US']", namespaces=CAP)[0]
    assert text(english, "cap:event") == "Emergency: Water supply"
    assert text(english, "cap:headline") == "No. 4 · Resolved: Водопостачання відновлено"
    assert text(created, "cap:info/cap:area/cap:areaDesc") == "Корабельний: вул. Океанівська, 52, 54, 56"
    assert text(created, "cap:info/cap:senderName") == "КП «Водоканал» · Демо-місто"


def test_planned_works_are_future_and_likely(client) -> None:
    entries = index(client, "?q=Кобера").entries
    assert len(entries) == 1
    alert = message(client, cap_url(entries[0]))
    info = alert.find("cap:info", CAP)
    assert [text(info, f"cap:{n}") for n in ("event", "urgency", "severity", "certainty", "onset", "expires")] == [
        "Планові роботи: Газопостачання", "Future", "Minor", "Likely", "2026-11-24T09:00:00+02:00",
        "2026-11-24T15:00:00+02:00"]


def test_index_filters(client) -> None:
    feed = index(client, "?district=Корабельний&service=Водопостачання")
    assert [e.title for e in feed.entries] == [
        "№4 · Ліквідовано: Водопостачання відновлено", "№4 · Оновлення: Порив водогону Ø200",
        "№4 · Аварійна ситуація: Порив водогону Ø200"]
    assert index(client, "?q=Неіснуюча").entries == []


def test_only_public_changes_have_messages(client, engine) -> None:
    with engine.connect() as conn:
        late = history(conn, 5)  # recorded 110 min after the event, and its expected end passed without news
    assert [e.kind for e in late] == ["created", "breach", "overdue"]
    assert client.get(f"/cap/outage-5-{late[0].id}.xml").status_code == 200
    assert client.get(f"/cap/outage-5-{late[1].id}.xml").status_code == 404
    assert client.get(f"/cap/outage-5-{late[2].id}.xml").status_code == 404
    assert client.get(f"/cap/outage-4-{late[0].id}.xml").status_code == 404  # another record's event
    for bad in ("/cap/outage-99-1.xml", "/cap/nonsense.xml", "/cap/outage-1-1%3Cx.xml"):
        assert client.get(bad).status_code == 404


def test_no_personal_data(client) -> None:
    bodies = [client.get("/cap/index.atom").get_data(as_text=True)]
    bodies += [client.get(cap_url(e)).get_data(as_text=True) for e in index(client).entries]
    for body in bodies:
        for private in ("Ігор Бондар", "050 111 22 33", "i.bondar@example.org", "Черговий диспетчер",
                        "Андрій Шевчук", "0512 50-30-30", "contact"):
            assert private not in body


def test_a_message_is_never_sent_before_one_it_references(settings, engine) -> None:
    """A fix at 15:30 reported after an update recorded at 16:00: the all-clear is dated 16:00, not before it."""
    from test_calendar import planned, with_rows

    table = with_rows(read_file(DEMO_CSV), settings,
                      planned(kind="Аварійна ситуація", recorded_at="22.11.2026 14:20", event_at="22.11.2026 14:00",
                              expected_end="22.11.2026 18:00", summary="Пізно звітований ремонт"))
    sync(engine, table, settings, NOW)
    row = {"executor": "КП «Водоканал»", "kind": "Аварійна ситуація", "reference": "18"}
    table = with_rows(
        table, settings,
        row | {"action": "Оновлення", "recorded_at": "22.11.2026 16:00", "expected_end": "22.11.2026 20:00"},
        row | {"action": "Ліквідовано", "recorded_at": "22.11.2026 16:10", "event_at": "22.11.2026 15:30"},
    )
    sync(engine, table, settings, NOW)
    app = create_app(settings, engine=engine)
    app.extensions["outages"].clock = lambda: NOW
    client = app.test_client()
    entries = index(client, "?q=Лазурна").entries
    urls = [cap_url(e) for e in reversed(entries)]
    created, updated, resolved = (message(client, u) for u in urls)
    assert text(resolved, "cap:info/cap:responseType") == "AllClear"
    assert text(updated, "cap:sent") == "2026-11-22T16:00:00+02:00"
    assert text(resolved, "cap:sent") == "2026-11-22T16:00:00+02:00"
    assert text(resolved, "cap:references").split(" ")[1].endswith(",2026-11-22T16:00:00+02:00")
    assert "Ліквідовано: 22.11.2026 15:30" in text(resolved, "cap:info/cap:description")
