"""Issue 10: a 40,000-character cell reaches the public and officials shortened to `display_max_chars`.

The store keeps the full text; the page, the feeds, CAP, the API and the mail show at most the cap of each text
field, cut at a word and marked «…», and the record page says the full text is kept by the hub.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from rows import emergency, planned, table, update
from sqlalchemy import select

from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.schema import records
from outages.settings import load
from web import create_app

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
NOTE = "повний текст зберігається в хабі"


def words(prefix: str, size: int) -> str:
    """`size` characters of distinct words (прорив1 прорив2 …), so a position in the text can be told."""
    text, number = "", 0
    while len(text) < size:
        number += 1
        text += f"{prefix}{number} "
    return text[:size].strip()


SUMMARY = words("порив", 40_000)
CAUSE = words("корозія", 40_000)
SAID = words("бригада", 40_000)


def shown(output: str, text: str) -> int:
    """How many characters of `text` (from its start) the output carries in one piece."""
    low, high = 0, len(text)
    while low < high:  # the prefixes the output contains are exactly those up to some length
        middle = (low + high + 1) // 2
        if text[:middle] in output:
            low = middle
        else:
            high = middle - 1
    return low


def assert_capped(output: str, text: str, cap: int) -> None:
    length = shown(output, text)
    # A word boundary within the cap: most of the cap is shown, never more, and «…» follows at once.
    assert cap // 2 < length <= cap, (length, cap)
    assert text[:length].rstrip() + "…" in output


@pytest.mark.parametrize("cap", [300, 2000])
def test_a_40000_character_cell_is_shown_shortened_everywhere(engine, mail_settings, smtp_peer, monkeypatch, cap):
    monkeypatch.setenv("OUTAGES_DISPLAY_MAX_CHARS", str(cap))
    settings = load()
    sync(engine, table(emergency(summary=SUMMARY, cause=CAUSE), update(1, summary=SAID), planned(summary=SUMMARY)),
         settings, NOW)
    with engine.connect() as conn:  # the store keeps every character
        kept = conn.execute(select(records.c.summary, records.c.cause).where(records.c.number == 1)).one()
    assert (kept.summary, kept.cause) == (SUMMARY, CAUSE)

    app = create_app(settings, engine=engine)
    app.extensions["outages"].clock = lambda: NOW
    client = app.test_client()
    page = client.get("/outages/1").get_data(as_text=True)
    for text in (SUMMARY, CAUSE, SAID):
        assert_capped(page, text, cap)
    assert NOTE in page
    assert "hub keeps the full text" in client.get("/en/outages/1").get_data(as_text=True)

    atom, rss = client.get("/feed.atom").get_data(as_text=True), client.get("/feed.rss").get_data(as_text=True)
    assert_capped(atom, CAUSE, cap) and assert_capped(rss, CAUSE, cap)
    alert = re.search(r"/cap/[^\"<]+\.xml", client.get("/cap/index.atom").get_data(as_text=True))[0]
    assert_capped(client.get(alert).get_data(as_text=True), CAUSE, cap)

    calendar = Calendar.from_ical(client.get("/planned.ics").get_data())
    assert_capped(" ".join(str(event["SUMMARY"]) for event in calendar.walk("VEVENT")), SUMMARY, cap)

    api = client.get("/api/v1/outages/1").get_json()
    assert api["summary"].endswith("…") and len(api["summary"]) <= cap + 1
    whole = json.dumps(api, ensure_ascii=False)
    assert_capped(whole, CAUSE, cap)
    assert SAID[:cap + 1] not in whole
    listed = client.get("/api/v1/outages?status=all").get_data(as_text=True)
    assert_capped(listed, SUMMARY, cap)

    assert deliver_pending(engine, settings, NOW)["sent"] > 0
    for received in smtp_peer.received:
        message = received.message
        assert len(message["Subject"]) < 200
        for part in ("plain", "html"):
            body = message.get_body((part,)).get_content()
            assert_capped(body, SUMMARY, cap)
            assert SUMMARY[:cap + 1] not in body and CAUSE[:cap + 1] not in body
        assert len(received.data) < 20 * cap + 40_000  # was 262 KB with a 130,000-character cell


def test_short_text_is_shown_whole_without_a_note(engine, settings):
    sync(engine, table(emergency()), settings, NOW)
    app = create_app(settings, engine=engine)
    app.extensions["outages"].clock = lambda: NOW
    page = app.test_client().get("/outages/1").get_data(as_text=True)
    assert "Порив водогону" in page and "Корозія" in page
    assert NOTE not in page and "…" not in page


@pytest.mark.parametrize(("text", "cap", "expected"), [
    ("Порив водогону на Соборній", 100, "Порив водогону на Соборній"),
    ("Порив водогону на Соборній", 20, "Порив водогону на…"),
    ("Порив водогону\nна Соборній", 16, "Порив водогону…"),
    ("Довжелезнеслововбезпробілів", 10, "Довжелезне…"),
])
def test_shorten_cuts_at_a_word_and_marks_the_cut(text, cap, expected):
    from outages.display import shorten

    assert shorten(text, cap) == expected


def test_the_telegram_channel_post_carries_the_capped_text(engine, env, monkeypatch):
    from fake_telegram import TOKEN, fake_bot_api

    from outages.delivery.drain import drain
    from outages.transports.telegram import TelegramTransport, telegram_options

    for bot_api in fake_bot_api():
        for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_CHANNEL": "@city_outages",
                           "OUTAGES_TELEGRAM_API_URL": bot_api.url, "OUTAGES_DISPLAY_MAX_CHARS": "120"}.items():
            monkeypatch.setenv(key, value)
        settings = load()
        sync(engine, table(emergency(summary=SUMMARY)), settings, NOW)
        assert drain(engine, TelegramTransport(telegram_options(settings)), now=NOW, budget_s=30)["sent"] == 1
        [post] = bot_api.chat("@city_outages")
        assert_capped(post.text, SUMMARY, 120)
