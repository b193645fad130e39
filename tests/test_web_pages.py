"""The public pages through Flask's test client, over the synced demo export at a pinned clock:
what a resident reads on `/`, a record page and `/timeliness`, in Ukrainian and English."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from rows import emergency, planned, table, update
from web_demo import KYIV, NOW, Page, demo_contacts, make_app, section_text, sync_demo

from outages.records.sync import sync


@pytest.fixture
def app(engine, settings):
    sync_demo(engine, settings)
    return make_app(engine, settings)


def get(app, url: str, **headers: str) -> str:
    response = app.test_client().get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"Запис № (\d+)", text)]


def test_home_lists_emergencies_first_then_planned_then_fixed(app):
    html = get(app, "/")
    headings = re.findall(r'<h2 id="(\w+)-h">', html)
    assert headings[:4] == ["emergencies", "ongoing", "upcoming", "fixed"]
    # Active emergencies, newest event first; #5 is past its expected end.
    emergencies = section_text(html, "emergencies")
    assert numbers(emergencies) == [16, 13, 12, 8, 5]
    assert "Аварії зараз (5)" in emergencies
    # #5's term passed at 18:00 and nobody said when it will be fixed.
    assert re.search(r"Запис № 5 термін минув 22\.11 о 18:00, новий не повідомлено", emergencies)
    assert "вул. Соборна, 12, 14" in emergencies
    assert "Сталася 22.11.2026 13:40 Термін" in emergencies  # Kyiv time, not UTC (11:40)
    # The summary line answers first: emergencies now, planned works today and in the next 14 days.
    assert "Аварій зараз: 5 · Планових робіт сьогодні: 0 · на 14 днів: 8" in Page(html).text
    # Planned works: nothing under way at 20:00, the next 14 days soonest first.
    assert section_text(html, "ongoing").endswith("Немає")
    upcoming = numbers(section_text(html, "upcoming"))
    assert upcoming[:2] == [1, 2] and 14 in upcoming and len(upcoming) == 8
    assert "Початок робіт 23.11.2026 09:00 Завершення" in section_text(html, "upcoming")
    # Fixed within 24 h: #11 (15:30) and #6 (11:40) yes; #4, fixed 25 h ago, no longer.
    fixed = numbers(section_text(html, "fixed"))
    assert fixed[:2] == [11, 6] and 4 not in fixed
    assert "Усунено 22.11.2026 15:30 Виконавець" in section_text(html, "fixed")


def test_planned_works_under_way_move_to_ongoing(engine, settings):
    sync_demo(engine, settings)
    later = datetime(2026, 11, 23, 10, 0, tzinfo=KYIV)
    html = get(make_app(engine, settings, now=later), "/")
    ongoing = section_text(html, "ongoing")
    assert numbers(ongoing)[0] == 1
    assert "Завершення робіт 23.11.2026 17:00" in ongoing
    assert "Планових робіт сьогодні: 1" in Page(html).text


def test_expected_end_shows_how_it_moved(app):
    text = section_text(get(app, "/"), "emergencies")
    card = text[text.index("Запис № 8"):text.index("Запис № 5")]
    assert "Термін ліквідації 23.11.2026 09:00" in card
    assert "перенесено з 22.11.2026 18:00 → 23.11.2026 06:00" in card
    assert "перенесено з 23.11.2026 06:00 → 23.11.2026 09:00" in card
    # The headline is what happened; the latest update's own words sit under it with their time.
    assert card.startswith("Запис № 8") and "Аварія на магістральній тепломережі Аварійна ситуація" in text
    assert "22.11 о 18:02 : Замінено 12 м трубопроводу, триває заповнення системи" in card


@pytest.mark.parametrize("query, expected, absent", [
    ("?q=вулиця СОБОРНА", {1, 13}, {16, 12}),
    ("?q=Соборна 12", {1, 13}, {16}),  # 12 is in №1's 1-25 and №13's «12, 14»
    ("?q=Соборна 13", {1}, {13}),  # a house neither of №13's
    ("?district=Корабельний", {12, 2}, {13, 16}),
    ("?service=Ліфти", {16}, {13, 1}),
    ("?service=Ліфти&district=Інгульський", {6}, {16}),
])
def test_filters_and_forgiving_street_search(app, query, expected, absent):
    found = set(numbers(Page(get(app, "/" + query)).text))
    assert expected <= found and not absent & found


def test_search_forgives_apostrophes_and_keeps_the_filter_in_form_and_feed_links(engine, settings):
    sync(engine, table(emergency(addresses="вул. Мар’янська, 5"), emergency(addresses="вул. Садова, 1",
                                                                            recorded_at="22.11.2026 14:06")),
         settings, NOW)
    app = make_app(engine, settings)
    html = get(app, "/?q=марʼянська")
    assert numbers(Page(html).text) == [1]
    assert "Знайдено записів: 1" in Page(html).text
    # The form and the feed links name the street as the catalogue does: every spelling of it is one page.
    assert 'value="вул. Мар’янська"' in html
    assert 'href="/feed.atom?q=%D0%B2%D1%83%D0%BB.+%D0%9C%D0%B0%D1%80' in html  # the feeds get the same filter
    assert "Нічого не знайдено" in get(app, "/?q=Неіснуюча")


def test_no_dispatcher_contacts_on_any_page(app):
    contacts = demo_contacts()
    assert "Ігор Бондар" in contacts and "050 111 22 33" in contacts
    for url in ["/", "/?lang=en", "/timeliness", *[f"/outages/{n}" for n in range(1, 18)]]:
        html = get(app, url)
        leaked = [c for c in contacts if c in html]
        assert not leaked, (url, leaked)


def test_record_page_history_timeliness_and_feeds(app):
    html = get(app, "/outages/4")
    text = Page(html).text
    assert "Порив водогону Ø200 Запис № 4 Аварійна ситуація Водопостачання · Корабельний" in text
    assert "внесено через 24 хв після події" in text
    history = text[text.index("Історія"):text.index("Стрічки цього запису")]
    assert "21.11.2026 06:55 — створено запис" in history
    assert "21.11.2026 11:02 — оновлення; новий термін: 21.11.2026 19:00" in history
    assert "21.11.2026 18:45 — усунено (ліквідовано) Водопостачання відновлено" in history
    assert "Усунено 21.11.2026 18:45" in text
    for href in ("/api/v1/outages/4", "/feed.atom", "/feed.rss", "/cap/index.atom"):
        assert f'href="{href}"' in html
    late = Page(get(app, "/outages/11")).text
    assert "внесено через 114 хв після події — запізнення" in late


def test_unknown_record_is_a_404_page_in_the_readers_language(app):
    response = app.test_client().get("/outages/999")
    assert response.status_code == 404
    assert "Запису з таким номером немає." in response.get_data(as_text=True)
    response = app.test_client().get("/outages/999?lang=en")
    assert "There is no record with this number." in response.get_data(as_text=True)


def test_timeliness_ledger_this_month_and_last(engine, settings):
    # An October emergency recorded 40 min late, before the switch from summer time (UTC+3) on 25 October.
    sync_demo(engine, settings, emergency(recorded_at="20.10.2026 10:40", event_at="20.10.2026 10:00",
                                          expected_end="20.10.2026 18:00", executor="КП «Ліфтсервіс»",
                                          service="Ліфти"))
    app = make_app(engine, settings)
    text = Page(get(app, "/timeliness")).text
    this = text[text.index("Цей місяць"):text.index("Минулий місяць")]
    last = text[text.index("Минулий місяць"):]
    assert "Цей місяць: листопад 2026" in this
    assert "КП «Водоканал» Аварійна ситуація 67 % 2 / 3 26 хв 114 хв" in this
    assert "АТ «Обленерго» Планові роботи 67 % 2 / 3 106 год 66 год" in this
    assert "КП «Теплоенерго» Аварійна ситуація 100 % 1 / 1" in this
    assert "№ 11 · КП «Водоканал» · Водовідведення: внесено через 114 хв після події — запізнення" in this
    assert "Минулий місяць: жовтень 2026" in last
    assert "КП «Ліфтсервіс» Аварійна ситуація 0 % 0 / 1 40 хв 40 хв" in last
    assert "внесено через 40 хв після події — запізнення" in last
    page = Page(get(app, "/outages/18"))
    assert "Сталася 20.10.2026 10:00" in page.text  # summer time in October shown as the city saw it


def test_english_by_parameter_or_browser_and_ukrainian_by_default(app):
    uk = get(app, "/", **{"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="uk">' in uk and "Аварії зараз" in uk
    en = get(app, "/", **{"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in en and "Emergencies now" in en and "Water supply" in en
    forced = get(app, "/?lang=en", **{"Accept-Language": "uk"})
    text = Page(forced).text
    assert "Emergencies now (5)" in text and "Planned works, next 14 days (8)" in text
    assert "Happened 22 Nov 2026 13:40" in text  # «22.11» would read as a month to many readers of English
    assert 'href="/outages/13?lang=en"' in forced  # an explicit choice follows the reader
    assert 'href="/?lang=uk"' in forced
    record = Page(get(app, "/outages/4?lang=en")).text
    assert "reported 24 min after the event" in record and "new expected end: 21 Nov 2026 19:00" in record
    ledger = Page(get(app, "/timeliness?lang=en")).text
    assert "This month: November 2026" in ledger and "Last month: October 2026" in ledger
    assert "Ukrainian" not in ledger and "Українською" in ledger


def test_pages_are_semantic_and_self_contained(app):
    for url in ("/", "/outages/8", "/timeliness"):
        html = get(app, url)
        page = Page(html)
        tags = [t for t, _ in page.tags]
        assert tags.count("main") == 1 and tags.count("h1") == 1 and "nav" in tags
        assert "script" not in tags  # works without JavaScript
        external = [a for _, attrs in page.tags for k, a in attrs.items()
                    if k in ("src", "href") and a and re.match(r"(https?:)?//", a)]
        assert not external, external  # no CDN assets or fonts
    css = app.test_client().get("/static/site.css")
    assert css.status_code == 200 and b"@media" in css.data and b"url(" not in css.data


def test_an_update_appears_on_the_next_request(engine, settings):
    sync(engine, table(emergency()), settings, NOW)
    app = make_app(engine, settings)
    assert "22.11.2026 20:00" in section_text(get(app, "/"), "emergencies")
    sync(engine, table(emergency(), update(1, expected_end="23.11.2026 02:00", summary="Ремонт триває")),
         settings, NOW)
    text = section_text(get(app, "/"), "emergencies")
    assert "Ремонт триває" in text and "перенесено з 22.11.2026 20:00 → 23.11.2026 02:00" in text


def test_planned_works_beyond_14_days_stay_off_the_home_page(engine, settings):
    sync(engine, table(planned(event_at="01.12.2026 09:00", expected_end="01.12.2026 12:00", summary="Скоро"),
                       planned(event_at="10.12.2026 09:00", expected_end="10.12.2026 12:00", summary="Нескоро",
                               recorded_at="20.11.2026 09:05")), settings, NOW)
    app = make_app(engine, settings)
    upcoming = section_text(get(app, "/"), "upcoming")
    assert "Скоро" in upcoming and "Нескоро" not in upcoming
    assert "Нескоро" in Page(get(app, "/outages/2")).text


def test_dispatcher_text_never_becomes_markup_in_any_output(engine, settings):
    import json
    import xml.etree.ElementTree as ET

    from icalendar import Calendar
    from web_demo import XSS, xss_row

    from web.publish import render

    result = sync_demo(engine, settings, xss_row(), xss_row(recorded_at="22.11.2026 19:51", kind="Планові роботи",
                                                           event_at="01.12.2026 09:00",
                                                           expected_end="01.12.2026 18:00"),
                        xss_row(recorded_at="22.11.2026 19:52", summary="Звичайний текст", addresses="вул. Садова, 1",
                                cause="Корозія", impact="Немає води"))
    assert result.counts["rejected"] == 9  # only the demo's own bad rows: the hostile text is accepted
    app = make_app(engine, settings)
    bad, good = 18, 20  # the hostile emergency, and an ordinary one entered the same way
    outputs, skipped, _ = render(app, log=lambda line: None)
    assert not skipped, skipped
    assert {"/", "/timeliness", f"/outages/{bad}"} <= set(outputs)
    shown = "<script>window.__xss=1;alert(1)</script> {{7*7}} ${7*7}"
    for url, (mimetype, body) in outputs.items():
        if mimetype.startswith("image/"):
            continue  # the favicon
        text = body.decode("utf-8")
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text), url
        if mimetype == "text/html":
            page = Page(text)
            tags = {tag for tag, _ in page.tags}
            assert not tags & {"script", "img", "svg", "iframe", "textarea"}, url
            assert not [k for _, attrs in page.tags for k in attrs if k.startswith("on")], url
        elif mimetype.endswith("xml"):
            ET.fromstring(body)  # well-formed whatever the dispatcher typed
        elif mimetype == "application/json":
            json.loads(body)
        elif mimetype == "text/calendar":
            Calendar.from_ical(body)
    # The text is shown as the dispatcher typed it, and the page keeps the markup of an ordinary record.
    page = Page(outputs[f"/outages/{bad}"][1].decode())
    assert shown in page.text and "{{7*7}}" in page.text and "49" not in page.text
    assert 'вул. Соборна, 1"><img src=x onerror="window.__xss=1">\'' in page.text
    assert "]]><svg onload=window.__xss=1></svg><![CDATA[ & &amp; &#x3C;" in page.text
    ordinary = Page(outputs[f"/outages/{good}"][1].decode())
    assert [t for t, _ in page.tags] == [t for t, _ in ordinary.tags]
    assert shown in Page(outputs["/"][1].decode()).text
    if "/api/v1/outages" in outputs:
        records = json.loads(outputs["/api/v1/outages"][1])
        items = records if isinstance(records, list) else next(v for v in records.values() if isinstance(v, list))
        assert any(item.get("summary") == XSS["summary"] for item in items)
