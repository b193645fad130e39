"""Who among the residents hears of a change, and when: quiet hours (DST included), what counts as news, which
houses a record covers, and a chat that blocked the bot."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from fake_telegram import TOKEN, fake_bot_api
from rows import emergency, planned, table, update
from sqlalchemy import select

from outages.delivery.drain import drain
from outages.places.addresses import parse_addresses
from outages.records.model import Kind
from outages.records.sync import sync
from outages.residents import subscriptions as store
from outages.residents.audience import covered, is_news, locate, not_before
from outages.residents.fanout import expand_due
from outages.schema import outbox, subscriptions
from outages.settings import load
from outages.transports.telegram import TelegramTransport, telegram_options

KYIV = ZoneInfo("Europe/Kyiv")
QUIET = (time(22, 0), time(7, 0))


@pytest.mark.parametrize("kind, local, expected", [
    (Kind.PLANNED, datetime(2026, 11, 22, 21, 59), datetime(2026, 11, 22, 21, 59)),
    (Kind.PLANNED, datetime(2026, 11, 22, 22, 0), datetime(2026, 11, 23, 7, 0)),
    (Kind.PLANNED, datetime(2026, 11, 23, 3, 15), datetime(2026, 11, 23, 7, 0)),
    (Kind.PLANNED, datetime(2026, 11, 23, 7, 0), datetime(2026, 11, 23, 7, 0)),
    (Kind.EMERGENCY, datetime(2026, 11, 23, 3, 15), datetime(2026, 11, 23, 3, 15)),
    # The night summer time ends (25 October 2026, 04:00 → 03:00): still 07:00 by the city's clock.
    (Kind.PLANNED, datetime(2026, 10, 24, 23, 30), datetime(2026, 10, 25, 7, 0)),
    # The night summer time starts (29 March 2026, 03:00 → 04:00).
    (Kind.PLANNED, datetime(2026, 3, 28, 23, 30), datetime(2026, 3, 29, 7, 0)),
])
def test_quiet_hours_hold_planned_works_until_seven_city_time(kind, local, expected):
    held = not_before(kind, local.replace(tzinfo=KYIV), KYIV, QUIET)
    assert held.astimezone(KYIV).replace(tzinfo=None) == expected


@pytest.mark.parametrize("kind, data, news", [
    ("created", {}, True),
    ("resolved", {}, True),
    ("updated", {"old_expected_end": "2026-11-22T20:00:00+02:00", "new_expected_end": "2026-11-22T21:00:00+02:00"},
     True),
    ("updated", {"old_expected_end": "2026-11-22T20:00:00+02:00", "new_expected_end": "2026-11-22T20:59:00+02:00"},
     False),
    ("updated", {"old_expected_end": "2026-11-22T20:00:00+02:00", "new_expected_end": "2026-11-22T18:30:00+02:00"},
     True),
    ("updated", {}, False),
    ("edited", {}, False),
    ("breach", {}, False),
])
def test_news_is_a_new_record_a_term_moved_by_an_hour_or_a_resolution(kind, data, news):
    assert is_news(kind, data) is news


@pytest.mark.parametrize("resident, cell, hears", [
    ("Соборна 14", "вул. Соборна, 12-20", True),
    ("Соборна 14", "вул. Соборна, 12, 16", False),
    ("Соборна 14", "вул. Соборна, непарні 1-25", False),
    ("Соборна 15", "вул. Соборна, непарні 1-25", True),
    ("Соборна 14", "вул. Соборна", True),
    ("Соборна 14", "вул. Соборна, 30", False),
    ("соборна 14", "вул. Садова, 14", False),
    ("Соборна", "вул. Соборна, 30", True),  # a subscription to a whole street hears of every house on it
])
def test_a_record_reaches_the_houses_it_covers(settings, resident, cell, hears):
    where = locate(resident, settings)
    assert where is not None
    sub = SimpleNamespace(address=resident, street_key=where.street_key, house=where.house)
    assert (covered(parse_addresses(cell, settings.streets).items, [sub]) == [sub]) is hears


def messages(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(select(outbox.c.kind).where(outbox.c.role == "subscriber").order_by(outbox.c.id)
                            ).scalars().all()


def test_a_term_moved_by_less_than_an_hour_and_other_streets_send_nothing(engine, settings):
    now = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
    with engine.begin() as conn:
        store.sign_up(conn, medium="telegram", target="42", address="Соборна 14",
                      where=locate("Соборна 14", settings), services=[], client="t", now=now)
    sync(engine, table(emergency(addresses="вул. Соборна, 14", expected_end="22.11.2026 20:00"),
                       emergency(addresses="вул. Садова, 14")), settings, now)
    expand_due(engine, settings, now)
    assert messages(engine) == ["sub_created"]
    sync(engine, table(emergency(addresses="вул. Соборна, 14", expected_end="22.11.2026 20:00"),
                       emergency(addresses="вул. Садова, 14"),
                       update(1, expected_end="22.11.2026 20:30")), settings, now + timedelta(minutes=5))
    expand_due(engine, settings, now + timedelta(minutes=5))
    assert messages(engine) == ["sub_created"]
    sync(engine, table(emergency(addresses="вул. Соборна, 14", expected_end="22.11.2026 20:00"),
                       emergency(addresses="вул. Садова, 14"), update(1, expected_end="22.11.2026 20:30"),
                       update(1, expected_end="22.11.2026 22:00")), settings, now + timedelta(minutes=10))
    expand_due(engine, settings, now + timedelta(minutes=10))
    assert messages(engine) == ["sub_created", "sub_updated"]


def test_planned_works_are_announced_the_day_before_once(engine, settings):
    now = datetime(2026, 11, 20, 9, 0, tzinfo=KYIV)
    with engine.begin() as conn:
        store.sign_up(conn, medium="telegram", target="42", address="Соборна 14",
                      where=locate("Соборна 14", settings), services=[], client="t", now=now)
    sync(engine, table(planned(addresses="вул. Соборна, 10-20")), settings, now)  # starts 23.11 09:00
    expand_due(engine, settings, now)
    assert messages(engine) == ["sub_created"]
    expand_due(engine, settings, datetime(2026, 11, 22, 9, 30, tzinfo=KYIV))  # before 10:00
    assert messages(engine) == ["sub_created"]
    for hour in (10, 15):
        expand_due(engine, settings, datetime(2026, 11, 22, hour, 5, tzinfo=KYIV))
        assert messages(engine) == ["sub_created", "sub_planned_eve"]
    with engine.connect() as conn:
        eve = conn.execute(select(outbox.c.text_body).where(outbox.c.kind == "sub_planned_eve")).scalar_one()
    assert eve.startswith("<b>Завтра планові роботи за вашою адресою</b> «Соборна 14»")


@pytest.fixture
def bot_api():
    yield from fake_bot_api(chat_limit=None)


def test_a_chat_that_blocked_the_bot_is_unsubscribed(engine, env, monkeypatch, bot_api):
    monkeypatch.setenv("OUTAGES_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("OUTAGES_TELEGRAM_API_URL", bot_api.url)
    settings = load()
    now = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
    with engine.begin() as conn:
        for chat in ("41", "42"):
            store.sign_up(conn, medium="telegram", target=chat, address="Соборна 14",
                          where=locate("Соборна 14", settings), services=[], client="t", now=now)
    sync(engine, table(emergency(addresses="вул. Соборна, 14")), settings, now)
    expand_due(engine, settings, now)
    bot_api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    counts = drain(engine, TelegramTransport(telegram_options(settings)), now=now, budget_s=30)
    assert counts["failed"] == 1 and counts["sent"] == 1
    with engine.connect() as conn:
        ended = dict(conn.execute(select(subscriptions.c.target, subscriptions.c.disabled_at)).all())
    assert (ended["41"] is None) != (ended["42"] is None)  # the one whose message was refused
