"""Issue 20's acceptance, scenario by scenario through every door a resident has — the site's /report, Open311's
POST requests and the bot's /report — on SQLite and PostgreSQL, with the real sync making the records, the real
moderation, and the officials' mail drained to an aiosmtpd peer. Each door is driven as its users drive it (a form
post, an HTTP client, a chat); what is asserted is what the resident is answered, what the public list shows and
what the utility, the duty officer and control receive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_telegram import TOKEN, fake_bot_api
from rows import emergency, resolve, table
from sqlalchemy import func, select

from outages.delivery.drain import drain
from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.reports import public
from outages.reports.moderate import moderate
from outages.reports.options import report_options
from outages.residents.bot import poll_once
from outages.schema import report_signals, reports
from outages.settings import load
from outages.transports.telegram import BotApi, TelegramTransport, telegram_options

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 14, 30, tzinfo=KYIV)  # office hours; the record of tests/rows.py is live
EVENING = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)  # after the sheet's «Ліквідовано» row of 17:55
NIGHT = datetime(2026, 11, 22, 23, 10, tzinfo=KYIV)
OPERATOR = "olha@contact.example.org"


@dataclass
class Said:
    text: str  # what the resident was answered
    report_id: int  # the report the door made


class Site:
    name = "site"

    def __init__(self, app) -> None:
        self.client, self.hub = app.test_client(), app.extensions["outages"]

    def report(self, now, service, address, text, client):
        self.hub.clock = lambda: now
        answer = self.client.post("/report", data={"service": service, "address": address, "description": text,
                                                   "email": "olena@example.net", "phone": "067 000 11 22"},
                                  environ_base={"REMOTE_ADDR": client})
        assert answer.status_code == 200, answer.text
        return answer.text


class Open311:
    name = "open311"

    def __init__(self, app) -> None:
        self.client, self.hub = app.test_client(), app.extensions["outages"]

    def report(self, now, service, address, text, client):
        self.hub.clock = lambda: now
        answer = self.client.post("/open311/v2/requests.json", data={
            "service_code": service, "address_string": address, "description": text,
            "first_name": "Олена", "last_name": "Коваль", "phone": "067 000 11 22"},
            environ_base={"REMOTE_ADDR": client})
        assert answer.status_code == 200, answer.text
        return answer.get_json()[0]["service_notice"]


class Bot:
    """The bot's one-line /report, sent to the fake Bot API and read back from the chat; `client` picks the chat."""

    name = "bot"

    def __init__(self, app) -> None:
        hub = app.extensions["outages"]
        self.engine, self.settings = hub.engine, hub.settings
        self.api = app.config["BOT_API"]

    def report(self, now, service, address, text, client):
        chat = 5550000 + int(client.rsplit(".", 1)[-1])
        seen = len(self.api.texts(chat))
        self.api.say(chat, f"/report {service} {address} {text}")
        options = telegram_options(self.settings)
        poll_once(self.engine, self.settings, BotApi(options), now)
        drain(self.engine, TelegramTransport(options), now=now, budget_s=30)
        [answer] = self.api.texts(chat)[seen:]
        return answer


DOORS = [Site, Open311, Bot]


@pytest.fixture
def bot_api():
    yield from fake_bot_api(chat_limit=None)


@pytest.fixture
def mail_settings(mail_settings, monkeypatch, bot_api):
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_API_URL": bot_api.url}.items():
        monkeypatch.setenv(key, value)
    return load()


@pytest.fixture(params=DOORS, ids=lambda door: door.name)
def door(request, mail_settings, engine, bot_api):
    from web import create_app

    app = create_app(mail_settings, engine=engine)
    app.config["BOT_API"] = bot_api
    return request.param(app)


def say(door, engine, now, service="water", address="Соборна 40", text="Немає води", client="198.51.100.7"):
    answer = door.report(now, service, address, text, client)
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(reports.c.id))).scalar()
    return Said(answer, newest)


def act(engine, settings, report_id, action, now, **kw):
    with engine.begin() as conn:
        return moderate(conn, settings, report_id, action, actor=OPERATOR, now=now, **kw)


def shown(engine, settings):
    with engine.connect() as conn:
        _, found = public.page(conn, report_options(settings))
    return [(r.status, r.note) for r in found]


def subjects(peer, address):
    return [m["Subject"] for m in peer.to(address)]


def test_a_known_house_is_answered_with_its_record_and_closed_with_it(door, engine, mail_settings):
    sync(engine, table(emergency()), mail_settings, NOW - timedelta(minutes=20))
    said = say(door, engine, NOW, address="Соборна 12")
    assert "Про це вже відомо: запис №1" in said.text and "сьогодні до 20:00" in said.text
    assert shown(engine, mail_settings) == [("open", "Повідомлення взято до розгляду: №1")]
    sync(engine, table(emergency(), resolve(1)), mail_settings, EVENING)
    assert shown(engine, mail_settings) == [("closed", "Роботу виконано")]


def test_an_unknown_house_waits_is_accepted_forwarded_taken_by_a_later_record_and_done(door, engine, mail_settings,
                                                                                       smtp_peer):
    said = say(door, engine, NOW, address="вул. Соборна, 40")
    assert "Контакт-центр перевірить його" in said.text and shown(engine, mail_settings) == []
    act(engine, mail_settings, said.report_id, "accept", NOW + timedelta(minutes=5))
    assert shown(engine, mail_settings) == [("open", "Повідомлення взято до розгляду")]
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=6))
    assert subjects(smtp_peer, "vodokanal@example.org") == [
        "[ПОВІДОМЛЕННЯ МЕШКАНЦЯ] Водопостачання: вул. Соборна, 40 — взяти в роботу сьогодні до 15:05"]
    later = emergency(addresses="вул. Соборна, 30-50", recorded_at="22.11.2026 15:40:00",
                      event_at="22.11.2026 15:30")
    sync(engine, table(later), mail_settings, NOW + timedelta(minutes=75))
    assert shown(engine, mail_settings) == [("open", "Повідомлення взято до розгляду: №1")]
    sync(engine, table(later, resolve(1)), mail_settings, EVENING)
    assert shown(engine, mail_settings) == [("closed", "Роботу виконано")]


def test_explained_is_public_with_the_note_and_rejected_never(door, engine, mail_settings):
    explained = say(door, engine, NOW, address="Соборна 40")
    rejected = say(door, engine, NOW, service="roads", address="Садова 7", text="Яма")
    act(engine, mail_settings, explained.report_id, "explain", NOW, note="Планове відключення до 16:00")
    act(engine, mail_settings, rejected.report_id, "reject", NOW)
    assert shown(engine, mail_settings) == [("closed", "Роз'яснення надано: Планове відключення до 16:00")]


def test_three_reports_on_one_street_raise_one_signal(door, engine, mail_settings, smtp_peer):
    for minute, house in enumerate((40, 42, 44, 46)):
        say(door, engine, NOW + timedelta(minutes=minute), address=f"Соборна {house}", client=f"10.0.0.{house}")
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=5))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(report_signals)).scalar() == 1
    for address in ("vodokanal@example.org", "control@example.org"):
        assert subjects(smtp_peer, address) == [
            "[МОЖЛИВА АВАРІЯ] Водопостачання: вул. Соборна — 3 повідомлення мешканців за 30 хв"]


def test_an_sos_report_at_night_reaches_the_utility_and_the_duty_officer_at_once(door, engine, mail_settings,
                                                                               smtp_peer):
    said = say(door, engine, NIGHT, service="power", address="Садова 3", text="Немає світла")
    assert "без перевірки" in said.text
    deliver_pending(engine, mail_settings, NIGHT + timedelta(minutes=1))
    assert subjects(smtp_peer, "oblenergo@example.org") == [
        "[ПОВІДОМЛЕННЯ МЕШКАНЦЯ][НЕ ПЕРЕВІРЕНО] Електропостачання: вул. Садова, 3 — взяти в роботу сьогодні до 23:40"]
    assert subjects(smtp_peer, "duty.central@example.org") == [
        "[SOS][НЕ ПЕРЕВІРЕНО] Електропостачання: вул. Садова, 3 — повідомлення мешканця вночі"]


def test_a_take_missed_by_30_minutes_reaches_control_once(door, engine, mail_settings, smtp_peer):
    said = say(door, engine, NOW, service="power", address="Садова 3")
    act(engine, mail_settings, said.report_id, "accept", NOW)
    for minutes in (29, 31, 45, 120):  # the mail lane's passes
        deliver_pending(engine, mail_settings, NOW + timedelta(minutes=minutes))
    assert subjects(smtp_peer, "control@example.org") == [
        "[НЕ ВЗЯТО В РОБОТУ] АТ «Обленерго»: повідомлення №1, вул. Садова, 3 — строк минув сьогодні о 15:00"]
