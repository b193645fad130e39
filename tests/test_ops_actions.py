"""The contact centre's record actions (issue 19) through the real sync, the real drains, an aiosmtpd peer and the
fake Bot API, on SQLite and PostgreSQL: a phone report is told and published like a form record; a cancelled false
alarm leaves every channel and everyone told of it hears exactly once; a correction stands until the dispatcher
edits their own row. What is asserted is what each reader sees."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fake_telegram import TOKEN, fake_bot_api
from lxml import etree
from rows import emergency, table, update
from sqlalchemy import func, select
from test_cap import CAP, SCHEMA

from outages.console import actions
from outages.console.audit import Filters, page
from outages.delivery.drain import drain
from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.residents.bot import poll_once
from outages.residents.fanout import expand_due
from outages.schema import audit, records
from outages.settings import load
from outages.transports.telegram import BotApi, TelegramTransport, telegram_options
from web import create_app

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
CHANNEL = "@city_outages"
OLENA = 5550001
OPERATOR = "olha@contact.example.org"
CALLER = "Диспетчер Обленерго Степан Мельник, 067 111 22 33"
PHONE = {
    "kind": "emergency", "executor": "АТ «Обленерго»", "service": "Електропостачання", "districts": "Центральний",
    "addresses": "вул. Соборна, 10-16", "summary": "Пошкодження кабелю 10 кВ", "cause": "Механічне пошкодження",
    "impact": "Немає світла", "event_at": "22.11.2026 17:30", "expected_end": "22.11.2026 23:00",
    "reported_at": "2026-11-22T17:40", "caller": CALLER,
}


@pytest.fixture
def bot_api():
    yield from fake_bot_api(chat_limit=None)


@pytest.fixture
def hub(mail_settings, monkeypatch, bot_api):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_CHANNEL": CHANNEL,
                       "OUTAGES_TELEGRAM_API_URL": bot_api.url}.items():
        monkeypatch.setenv(key, value)
    return load()


def story(engine, number: int):
    """The record's audit entries, newest first."""
    with engine.connect() as conn:
        return page(conn, Filters(record=number))


def deliver(engine, settings, now):
    """What one `outages send` does at `now`: officials' mail, the fan-out, the Telegram lane."""
    deliver_pending(engine, settings, now)
    expand_due(engine, settings, now)
    drain(engine, TelegramTransport(telegram_options(settings)), now=now, budget_s=30)
    deliver_pending(engine, settings, now)


def subscribe(engine, settings, api, text: str, now: datetime) -> None:
    api.say(OLENA, text)
    options = telegram_options(settings)
    poll_once(engine, settings, BotApi(options), now)
    drain(engine, TelegramTransport(options), now=now, budget_s=30)


def get(engine, settings, path: str, now: datetime):
    app = create_app(settings, engine=engine)
    with time_machine.travel(now, tick=False):
        return app.test_client().get(path)


def page_text(engine, settings, path: str, now: datetime) -> str:
    body = get(engine, settings, path, now).get_data(as_text=True)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def subjects(peer) -> Counter:
    return Counter((m["To"], m["Subject"].split("]")[0] + "]") for m in peer.messages())


def cap_messages(engine, settings, number: int, now: datetime) -> list[etree._Element]:
    feed = get(engine, settings, "/cap/index.atom", now).get_data()
    urls = [u.removeprefix("http://localhost") for u in re.findall(rb'href="([^"]+\.xml)"', feed)[::-1]
            for u in [u.decode()] if f"outage-{number}-" in u]
    out = []
    for url in urls:
        alert = etree.fromstring(get(engine, settings, url, now).data)
        SCHEMA.assertValid(alert)
        out.append(alert)
    return out


# ---- a phone report (7.8) ----

def test_a_phone_report_is_told_and_published_like_a_form_record(engine, hub, bot_api, smtp_peer):
    done = actions.enter(engine, PHONE, actor=OPERATOR, settings=hub, now=NOW)
    assert (done.number, done.said) == (1, "Прийнято, №1, вчасно (внесено через 10 хв)")
    deliver(engine, hub, NOW)

    record = get(engine, hub, "/api/v1/outages/1", NOW).get_json()
    assert (record["source"], record["state"], record["deadline"]["delay_minutes"]) == ("phone", "active", 10.0)
    assert record["recorded_at"] == "2026-11-22T17:40:00+02:00"  # when the utility called, not when typed
    assert "Пошкодження кабелю 10 кВ" in page_text(engine, hub, "/outages/1", NOW)
    assert any(m["Subject"].startswith("[АВАРІЯ] Електропостачання") for m in smtp_peer.to("deputy@example.org"))
    assert "Пошкодження кабелю 10 кВ" in bot_api.chat(CHANNEL)[0].text
    # Who called is private: on no public page, feed, API answer or CAP message, nor in officials' mail.
    for path in ("/", "/outages/1", "/api/v1/outages/1", "/feed.atom", "/cap/index.atom", "/planned.ics"):
        assert "Мельник" not in get(engine, hub, path, NOW).get_data(as_text=True), path
    assert all("Мельник" not in m.as_string() for m in smtp_peer.messages())
    assert [(e.actor, e.action, e.after["caller"]) for e in story(engine, 1)] == [(OPERATOR, "record_new", CALLER)]


REFUSED = [
    ("an unknown district", {"districts": "Південний"}, "Невідомий район «Південний»"),
    ("an emergency in the future", {"event_at": "22.11.2026 19:00"}, "аварія не може статися в майбутньому"),
    ("an end before the event", {"expected_end": "22.11.2026 12:00"}, "Термін ліквідації (22.11.2026 12:00)"),
    ("a call from tomorrow", {"reported_at": "23.11.2026 09:00", "event_at": "23.11.2026 08:50"},
     "пізніша за поточний час"),
    ("no summary", {"summary": ""}, "Не заповнено: коротка інформація"),
    ("nobody called", {"caller": " "}, "хто телефонував"),
    ("an unknown service", {"service": "Інтернет"}, "Невідома послуга «Інтернет»"),
]


@pytest.mark.parametrize(("change", "said"), [pytest.param(c, s, id=name) for name, c, s in REFUSED])
def test_a_refused_phone_report_names_the_value_and_stores_nothing(engine, settings, change, said):
    with pytest.raises(actions.Refused) as refused:
        actions.enter(engine, PHONE | change, actor=OPERATOR, settings=settings, now=NOW)
    assert said in str(refused.value)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(audit)).scalar() == 0


# ---- cancel: a false alarm leaves every channel; everyone told hears exactly once ----

def test_a_cancelled_false_alarm_leaves_every_channel_and_each_person_told_hears_once(engine, hub, bot_api,
                                                                                      smtp_peer):
    sheet = table(emergency(addresses="вул. Соборна, 10-16"))
    subscribe(engine, hub, bot_api, "Соборна 14", NOW - timedelta(hours=4))
    sync(engine, sheet, hub, NOW - timedelta(minutes=10))
    deliver(engine, hub, NOW - timedelta(minutes=10))
    told = {m["To"] for m in smtp_peer.messages()}
    assert "deputy@example.org" in told and len(bot_api.texts(OLENA)) >= 2  # subscribed, then told

    actions.cancel(engine, 1, "Хибний виклик: аварії немає, підтвердив диспетчер", actor=OPERATOR, settings=hub,
                   now=NOW)
    for later in (NOW, NOW + timedelta(minutes=5)):
        sync(engine, sheet, hub, later)  # the unchanged sheet undoes nothing and tells nobody again
        deliver(engine, hub, later)

    cancelled = Counter(m["To"] for m in smtp_peer.messages() if m["Subject"].startswith("[СКАСОВАНО]"))
    assert cancelled == Counter({address: 1 for address in told})  # each person told, exactly once
    mail = next(m for m in smtp_peer.to("deputy@example.org") if m["Subject"].startswith("[СКАСОВАНО]"))
    assert "Хибний виклик" in mail.get_body(("plain",)).get_content()
    assert sum("СКАСОВАНО" in t for t in bot_api.texts(OLENA)) == 1  # the subscriber, once
    post = bot_api.chat(CHANNEL)[0].text
    assert post.startswith("❌ <b>Скасовано</b>: Хибний виклик") and "Термін ліквідації" not in post

    assert "Скасовано 22.11 о 18:00: Хибний виклик" in page_text(engine, hub, "/outages/1", NOW)
    assert get(engine, hub, "/api/v1/outages/1", NOW).get_json()["state"] == "cancelled"
    assert "Порив водогону" not in page_text(engine, hub, "/?q=Соборна 14", NOW)
    assert get(engine, hub, "/api/v1/outages?status=active", NOW).get_json()["outages"] == []

    alerts = cap_messages(engine, hub, 1, NOW)
    assert [a.findtext("cap:msgType", namespaces=CAP) for a in alerts] == ["Alert", "Cancel"]
    first, cancel = alerts
    reference = ",".join(first.findtext(f"cap:{n}", namespaces=CAP) for n in ("sender", "identifier", "sent"))
    assert cancel.findtext("cap:references", namespaces=CAP) == reference

    with engine.connect() as conn:
        assert conn.execute(select(records.c.status)).scalar() == "cancelled"
        [entry] = page(conn, Filters(record=1))
    assert (entry.action, entry.reason, entry.before, entry.after) == (
        "record_cancel", "Хибний виклик: аварії немає, підтвердив диспетчер", {"status": "active"},
        {"status": "cancelled"})


def test_the_dispatchers_update_of_a_cancelled_record_is_refused_in_words(engine, settings):
    sync(engine, table(emergency()), settings, NOW - timedelta(minutes=10))
    actions.cancel(engine, 1, "Хибний виклик", actor=OPERATOR, settings=settings, now=NOW - timedelta(minutes=5))
    result = sync(engine, table(emergency(), update(1)), settings, NOW)
    said = result.plan.verdict(result.plan.decisions[1])
    assert said.startswith("Відхилено: Повідомлення №1 скасовано контакт-центром як помилкове")


def test_cancelled_records_leave_the_deadline_report_and_are_counted_apart(engine, settings, run_cli):
    late = emergency(recorded_at="22.11.2026 14:45:00")  # 65 minutes after the event
    sync(engine, table(late, emergency(addresses="вул. Соборна, 20")), settings, NOW - timedelta(hours=1))
    actions.cancel(engine, 1, "Хибний виклик", actor=OPERATOR, settings=settings, now=NOW)
    result = run_cli("report", "deadlines", "--since", "01.11.2026", "--until", "30.11.2026", "--format", "json")
    report = json.loads(result.output)
    assert [(u["records"], u["late"]) for u in report["utilities"]] == [(1, 0)]
    assert report["breaches"] == []
    assert report["cancelled"] == [{"executor": "КП «Водоканал»", "records": 1}]


# ---- correct: one «ВИПРАВЛЕНО» per official told; it stands until the dispatcher edits the row ----

def test_a_correction_is_told_once_and_stands_until_the_dispatcher_edits_the_row(engine, hub, bot_api, smtp_peer):
    sheet = table(emergency(addresses="вул. Соборна, 10-16"))
    sync(engine, sheet, hub, NOW - timedelta(minutes=10))
    deliver(engine, hub, NOW - timedelta(minutes=10))
    told = {m["To"] for m in smtp_peer.messages()}

    actions.correct(engine, 1, {"expected_end": "23.11.2026 02:00", "addresses": "вул. Соборна, 10-18"},
                    "Виконавець уточнив термін телефоном", actor=OPERATOR, settings=hub, now=NOW)
    for later in (NOW, NOW + timedelta(minutes=5)):
        sync(engine, sheet, hub, later)
        deliver(engine, hub, later)

    corrected = [m for m in smtp_peer.messages() if "ВИПРАВЛЕНО" in m["Subject"]]
    assert Counter(m["To"] for m in corrected) == Counter({address: 1 for address in told})
    body = next(m for m in corrected if m["To"] == "deputy@example.org").get_body(("plain",)).get_content()
    assert "термін ліквідації: сьогодні о 20:00 → завтра о 02:00" in body
    assert "адреси: вул. Соборна, 10-16 → вул. Соборна, 10-18" in body
    assert "Виконавець уточнив термін телефоном" in body
    record = get(engine, hub, "/api/v1/outages/1", NOW).get_json()
    assert (record["expected_end"], record["addresses"]) == ("2026-11-23T02:00:00+02:00", "вул. Соборна, 10-18")
    assert "Термін ліквідації: 23.11.2026 02:00" in bot_api.chat(CHANNEL)[0].text
    assert [a.findtext("cap:msgType", namespaces=CAP) for a in cap_messages(engine, hub, 1, NOW)] == \
        ["Alert", "Update"]

    # The dispatcher edits their own row later: their words win, and the story shows it.
    sync(engine, table(emergency(addresses="вул. Соборна, 10-16", expected_end="23.11.2026 04:00")), hub,
         NOW + timedelta(minutes=10))
    record = get(engine, hub, "/api/v1/outages/1", NOW + timedelta(minutes=10)).get_json()
    assert (record["expected_end"], record["addresses"]) == ("2026-11-23T04:00:00+02:00", "вул. Соборна, 10-16")


def test_a_correction_refuses_an_unknown_value_and_changes_nothing(engine, settings):
    sync(engine, table(emergency()), settings, NOW - timedelta(minutes=10))
    for form, said in (({"districts": "Південний"}, "Невідомий район «Південний»"),
                       ({"expected_end": "22.11.2026 10:00"}, "раніший за час настання події"),
                       ({"summary": "Порив водогону"}, "Нічого не змінено")):
        with pytest.raises(actions.Refused, match=said):
            actions.correct(engine, 1, form, "причина", actor=OPERATOR, settings=settings, now=NOW)
    with pytest.raises(actions.Refused, match="причина"):
        actions.correct(engine, 1, {"summary": "Інше"}, "  ", actor=OPERATOR, settings=settings, now=NOW)
    with engine.connect() as conn:
        assert conn.execute(select(records.c.revision, records.c.summary)).one() == (1, "Порив водогону")
        assert conn.execute(select(func.count()).select_from(audit)).scalar() == 0


# ---- resolve by phone, relay by phone, resend ----

def test_a_resolution_by_phone_reads_like_the_form_one(engine, hub, smtp_peer):
    sync(engine, table(emergency()), hub, NOW - timedelta(minutes=10))
    deliver(engine, hub, NOW - timedelta(minutes=10))
    actions.resolve(engine, 1, "Водопостачання відновлено", "22.11.2026 17:45", actor=OPERATOR, settings=hub,
                    now=NOW)
    deliver(engine, hub, NOW)
    record = get(engine, hub, "/api/v1/outages/1", NOW).get_json()
    assert (record["state"], record["resolved_at"]) == ("resolved", "2026-11-22T17:45:00+02:00")
    mail = [m for m in smtp_peer.to("deputy@example.org") if m["Subject"].startswith("[ЛІКВІДОВАНО]")]
    assert len(mail) == 1 and "Водопостачання відновлено" in mail[0].get_body(("plain",)).get_content()
    with pytest.raises(actions.Refused, match="уже завершено"):
        actions.cancel(engine, 1, "пізно", actor=OPERATOR, settings=hub, now=NOW)


def test_a_relay_confirmed_by_phone_counts_as_the_link(engine, hub, smtp_peer):
    sync(engine, table(emergency()), hub, NOW - timedelta(minutes=10))
    deliver(engine, hub, NOW - timedelta(minutes=10))
    done = actions.relay_by_phone(engine, 1, "duty.central@example.org", "Черговий Коваль", actor=OPERATOR,
                                  now=NOW)
    assert done.said == "передачу підтверджено: duty.central@example.org"
    with pytest.raises(actions.Refused, match="уже підтверджено"):
        actions.relay_by_phone(engine, 1, "duty.central@example.org", "ще раз", actor=OPERATOR, now=NOW)
    with pytest.raises(actions.Refused, match="не просили"):
        actions.relay_by_phone(engine, 1, "press@example.org", "Прес", actor=OPERATOR, now=NOW)


def test_a_failed_message_is_resent_once(engine, hub, smtp_peer):
    sync(engine, table(emergency()), hub, NOW - timedelta(minutes=10))
    smtp_peer.refuse.add("deputy@example.org")
    deliver(engine, hub, NOW - timedelta(minutes=10))
    from smtp_peer import rows_of

    [failed] = [r for r in rows_of(engine) if r.recipient == "deputy@example.org"]
    assert failed.status == "failed"
    smtp_peer.refuse.discard("deputy@example.org")
    actions.resend(engine, failed.id, actor=OPERATOR, now=NOW)
    with pytest.raises(actions.Refused, match="не було відхилене"):
        actions.resend(engine, failed.id, actor=OPERATOR, now=NOW)
    deliver(engine, hub, NOW)
    assert len(smtp_peer.to("deputy@example.org")) == 1
    assert [(e.action, e.after["outbox"]) for e in story(engine, 1)] == [("message_resend", failed.id)]


def test_the_same_phone_report_sent_twice_is_refused_naming_the_first(engine, settings):
    actions.enter(engine, PHONE, actor=OPERATOR, settings=settings, now=NOW)
    with pytest.raises(actions.Refused, match="Такий запис уже внесено: №1"):
        actions.enter(engine, PHONE, actor="another@contact.example.org", settings=settings, now=NOW)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar() == 1


def test_the_story_over_ssh_names_the_caller_and_the_cancel_reason(engine, settings, run_cli):
    actions.enter(engine, PHONE, actor=OPERATOR, settings=settings, now=NOW)
    actions.cancel(engine, 1, "Хибний виклик", actor=OPERATOR, settings=settings, now=NOW)
    story = run_cli("record", "1").output
    assert f"за телефонним дзвінком (phone report) · телефонував (staff only): {CALLER}" in story
    assert "Причина скасування (public): Хибний виклик" in story


def test_a_correction_reaches_subscribers_told_before_and_those_it_now_covers_once(engine, hub, bot_api):
    sheet = table(emergency(addresses="вул. Соборна, 10-16"))
    subscribe(engine, hub, bot_api, "Соборна 14", NOW - timedelta(hours=4))
    sync(engine, sheet, hub, NOW - timedelta(minutes=10))
    deliver(engine, hub, NOW - timedelta(minutes=10))
    told_before = len(bot_api.texts(OLENA))

    actions.correct(engine, 1, {"cause": "Корозія труби"}, "Уточнено причину", actor=OPERATOR, settings=hub,
                    now=NOW - timedelta(minutes=5))  # not what a resident acts on: nobody is messaged
    actions.correct(engine, 1, {"expected_end": "23.11.2026 02:00"}, "Виконавець уточнив термін", actor=OPERATOR,
                    settings=hub, now=NOW)
    for later in (NOW, NOW + timedelta(minutes=5)):
        sync(engine, sheet, hub, later)
        deliver(engine, hub, later)
    news = bot_api.texts(OLENA)[told_before:]
    assert len(news) == 1 and "Контакт-центр виправив запис за вашою адресою" in news[0]
    assert "Виконавець уточнив термін" in news[0] and "23.11.2026 02:00" in news[0]
