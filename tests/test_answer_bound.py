"""The answer line for a house stays small under a blackout's thousands of records (issue 21): each of its lists
names at most ITEMS records, then «і ще 2 990 записів — переглянути всі» leads to the paged list of the same search;
a house with a few records is answered as before. On SQLite and PostgreSQL, through the public page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

from rows import emergency, planned, table
from web_demo import NOW, Page, make_app

from outages.places.answer import ITEMS
from outages.records.sync import sync

BUSY = 3000  # active emergencies on вул. Соборна, 2-40 (house 14 is under every one of them)
WORKS = 12  # planned works on вул. Садова, 3 within the next 14 days
ROWS = (
    [emergency(addresses="вул. Соборна, 2-40", summary=f"Порив №{n}", expected_end="23.11.2026 09:00")
     for n in range(BUSY)]
    + [emergency(addresses="вул. Адміральська, 12а", expected_end="23.11.2026 09:00"),
       planned(addresses="вул. Адміральська, 12а", event_at="24.11.2026 09:00", expected_end="24.11.2026 17:00")]
    + [planned(addresses="вул. Садова, 3", event_at=f"{24 + n // 4}.11.2026 {9 + n % 4:02d}:00",
               expected_end=f"{24 + n // 4}.11.2026 {13 + n % 4}:00") for n in range(WORKS)]
)

# (path, words the answer line says, words it must not say, the «see all» link: its path and how many records the
# list it leads to holds). Numbers after «№» are the records named.
CASES = [
    ("/?q=" + quote("Соборна 14"), "і ще 2 990 записів — переглянути всі", "Заплановано: ",
     ("/sections/emergencies", BUSY)),
    ("/en/?q=" + quote("Соборна 14"), "and 2,990 more — see all", "Planned: ", ("/en/sections/emergencies", BUSY)),
    ("/?lang=en&q=" + quote("Соборна 14"), "and 2,990 more — see all", "Planned: ", ("/sections/emergencies", BUSY)),
    # Another district's page: the line still answers for the whole city, and so does its list.
    ("/districts/inhulskyi?q=" + quote("Соборна 14"), "і ще 2 990 записів — переглянути всі", "Заплановано: ",
     ("/sections/emergencies", BUSY)),
    ("/?q=" + quote("Садова 3"), "зараз нічого не вимкнено. Заплановано: ", "зараз:", ("/sections/upcoming", WORKS)),
    ("/?q=" + quote("Садова 3"), "і ще 2 записи — переглянути всі", "Зараз:", ("/sections/upcoming", WORKS)),
    ("/?q=" + quote("Адміральська 12а"), "зараз: Водопостачання (аварія, №3001) — до пн 23.11 о 09:00. Заплановано: "
     "Електропостачання (планові роботи, №3002) — вт 24.11 о 09:00 – вт 24.11 о 17:00.", "і ще", None),
]


def _answer(html: str) -> tuple[str, list[tuple[str, str]]]:
    """The answer line's text and its links (href, words)."""
    line = re.search(r'<p class="answer" role="status">(.*?)</p>', html, re.S)
    assert line, "no answer line"
    links = re.findall(r'<a href="([^"]+)">([^<]*)</a>', line.group(1))
    return Page(line.group(1)).text, [(href.replace("&amp;", "&"), words) for href, words in links]


def test_an_answer_names_at_most_ten_records_of_each_list_and_links_the_rest(engine, settings):
    sync(engine, table(*ROWS), settings, NOW)
    client = make_app(engine, settings).test_client()
    for path, says, never, more in CASES:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert len(response.data) <= 200 * 1024, (path, len(response.data))
        text, links = _answer(html)
        assert says in text and never not in text, (path, text)
        named = re.findall(r"№\s?(\d+)|No\. (\d+)", text)
        assert 0 < len(named) <= 2 * ITEMS, (path, len(named))
        if more is None:
            assert links == [], path
            continue
        target, holds = more
        (href, words), = links
        assert words in ("переглянути всі", "see all")
        parts = urlsplit(href)
        # The same search, in the one spelling the answer names the house by (every spelling shares a page).
        (linked,) = parse_qs(parts.query)["q"]
        assert parts.path == target and (f"За адресою {linked} " in text or f"At {linked} " in text), (href, text)
        listed = client.get(href)
        assert listed.status_code == 200, href
        listing = Page(listed.get_data(as_text=True)).text
        # The list of that section for the same search: every record of it, 50 a page.
        assert re.search(rf"\({holds}\)|{holds}", listing), (href, listing[:300])
        shown = {int(n) for n in re.findall(r"(?:Запис|Record) № (\d+)", listing)}
        assert len(shown) == min(holds, 50), href
