"""Relay confirmation (regulation 7.6–7.7): the signed link, the 45-minute reminder, the 60-minute escalation."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, planned, resolve, table, update
from smtp_peer import DIRECTORY
from sqlalchemy import select

from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.schema import relay_confirmations
from web import create_app

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
LINK = re.compile(r"https://hub\.example\.org(/relay/confirm/[\w.-]+)")
STATE = re.compile(r"https://hub\.example\.org(/relay/records/[\w.-]+)")


@pytest.fixture
def directory() -> list[dict]:
    # The test directory and the HOA department of regulation 7.7 (it relays to the ОСББ the hub does not reach).
    return list(DIRECTORY) + [{"email": "hoa.dept@example.org", "name": "Управління ОСББ", "role": "hoa_department"}]


@pytest.fixture
def client(engine, mail_settings):
    app = create_app(mail_settings, engine=engine)
    app.extensions["outages"].clock = lambda: NOW + timedelta(minutes=20)
    return app.test_client()


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def subjects(peer, address):
    return [m["Subject"] for m in peer.to(address)]


def test_the_duty_officer_and_the_hoa_department_are_asked_an_hoa_head_is_told_and_a_click_is_recorded(
        engine, mail_settings, smtp_peer, client):
    sync(engine, table(emergency()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    duty = text_of(smtp_peer.to("duty.central@example.org")[0])
    assert ("Регламент, п. 7.6: протягом години доведіть цю інформацію до голів комітетів самоорганізації "
            "населення (КСН) вашого району") in duty
    assert "«Інформацію передано» → https://hub.example.org/relay/confirm/" in duty
    department = text_of(smtp_peer.to("hoa.dept@example.org")[0])
    assert ("Регламент, п. 7.7: протягом години доведіть цю інформацію до голів ОСББ, яких хаб не сповіщає "
            "напряму (напряму вже повідомлено: ОСББ Соборна)") in department
    assert LINK.search(department)
    hoa = text_of(smtp_peer.to("hoa.soborna@example.org")[0])  # told directly, not asked to relay to himself
    assert not LINK.search(hoa) and "голів" not in hoa
    assert "Передавати її далі чи підтверджувати не потрібно." in hoa
    assert not LINK.search(text_of(smtp_peer.to("deputy@example.org")[0]))
    path = LINK.search(duty).group(1)

    page = client.get(path)  # opening the link (or a mail scanner doing so) confirms nothing
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Інформацію передано</button>" in body
    assert "Підтвердьте, що ви довели інформацію до голів комітетів" in body and "(регламент, п. 7.6)" in body
    assert 'lang="en"' not in body  # Ukrainian, all of it
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    state_path = STATE.search(duty).group(1)
    assert "очікує підтвердження" in client.get(state_path).get_data(as_text=True)

    done = client.post(path).get_data(as_text=True)
    assert "Підтверджено 22.11.2026 18:20 (Черговий Центрального)" in done
    again = client.post(path).get_data(as_text=True)  # the first click counts
    assert "Підтверджено 22.11.2026 18:20" in again
    state = client.get(state_path).get_data(as_text=True)
    assert "Черговий Центрального" in state and "підтверджено" in state and "Підтверджено 1 з 2." in state
    assert "Іван Петренко, тел. 0501234567" in state  # officials' page: the utility's contact
    assert "ivan@example.org" not in state

    # Confirmed: no reminder, no escalation for the duty officer; the department that did not confirm is chased.
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=46))
    assert subjects(smtp_peer, "duty.central@example.org") == [
        "[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 20:00 · №1"]
    assert subjects(smtp_peer, "hoa.dept@example.org")[-1] == \
        "[НАГАДУВАННЯ] Підтвердьте передачу інформації · Водопостачання · вул. Соборна, 12 · Центральний · №1"
    assert subjects(smtp_peer, "hoa.soborna@example.org") == [
        "[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 20:00 · №1"]


def test_one_confirmation_per_record_covers_its_updates_and_the_state_page_lists_people_not_messages(
        engine, mail_settings, smtp_peer, client):
    sync(engine, table(emergency()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    sync(engine, table(emergency(), update(1)), mail_settings, NOW + timedelta(minutes=10))
    # Stamped by the sync's clock: a later stamp is refused as implausible.
    fixed = resolve(1, recorded_at="22.11.2026 18:14:00", event_at="22.11.2026 18:10")
    sync(engine, table(emergency(), update(1), fixed), mail_settings, NOW + timedelta(minutes=15))
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=15))
    messages = smtp_peer.to("duty.central@example.org")
    assert len(messages) == 3
    links = {LINK.search(text_of(m)).group(1) for m in messages if LINK.search(text_of(m))}
    assert len(links) == 1  # every message about the record carries the one link of the record
    state_path = STATE.search(text_of(messages[0])).group(1)
    state = client.get(state_path).get_data(as_text=True)
    assert state.count("Черговий Центрального") == 1 and "Підтверджено 0 з 2." in state
    client.post(links.pop())
    assert "Підтверджено 1 з 2." in client.get(state_path).get_data(as_text=True)
    # No reminder for the confirmed officer, whichever of the three messages it would have been about.
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=50))
    assert len(smtp_peer.to("duty.central@example.org")) == 3


def test_a_relay_link_is_opaque_and_expires_after_the_configured_days(engine, mail_settings, smtp_peer, client):
    sync(engine, table(emergency()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    path = LINK.search(text_of(smtp_peer.to("duty.central@example.org")[0])).group(1)
    token = path.rsplit("/", 1)[1]
    payload = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8", "replace")
    assert "duty.central" not in decoded and "@" not in decoded and "duty" not in token
    hub = client.application.extensions["outages"]
    hub.clock = lambda: NOW + timedelta(days=6, hours=23)
    assert client.get(path).status_code == 200
    hub.clock = lambda: NOW + timedelta(days=7, minutes=1)  # the default: 7 days
    expired = client.post(path)
    assert expired.status_code == 410
    assert "Посилання діє 7 дн. після надсилання листа, і цей строк минув." in expired.get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.execute(select(relay_confirmations)).first() is None


@pytest.mark.parametrize("notify_toml", ["[notify]\nrelay_link_days = 2\n"])
def test_the_expiry_of_relay_links_is_a_setting(engine, mail_settings, smtp_peer, client, notify_toml):
    sync(engine, table(emergency()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    path = LINK.search(text_of(smtp_peer.to("duty.central@example.org")[0])).group(1)
    client.application.extensions["outages"].clock = lambda: NOW + timedelta(days=2, minutes=1)
    assert client.get(path).status_code == 410


def test_no_confirmation_brings_a_reminder_at_45_minutes_and_control_at_60_once_each(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=44))
    assert len(smtp_peer.received) == 6
    for minutes in (45, 50):
        deliver_pending(engine, mail_settings, NOW + timedelta(minutes=minutes))
    reminder = smtp_peer.to("duty.central@example.org")[-1]
    assert reminder["Subject"] == ("[НАГАДУВАННЯ] Підтвердьте передачу інформації · Водопостачання · вул. Соборна, 12"
                                   " · Центральний · №1")
    assert "Підтвердьте, будь ласка, сьогодні до 19:00." in text_of(reminder)
    assert LINK.search(text_of(reminder)).group(1) == LINK.search(text_of(smtp_peer.to(
        "duty.central@example.org")[0])).group(1)  # the same link as the first message
    assert len(smtp_peer.received) == 8  # duty officer and HOA department, once each
    assert smtp_peer.to("control@example.org") == []
    for minutes in (60, 61, 90):
        deliver_pending(engine, mail_settings, NOW + timedelta(minutes=minutes))
    escalation = smtp_peer.to("control@example.org")
    assert [m["Subject"] for m in escalation] == [
        "[НЕ ПІДТВЕРДЖЕНО] Передача інформації · Водопостачання · вул. Соборна, 12 · Центральний · №1 · 2 адресати"]
    body = text_of(escalation[0])
    assert "- Черговий Центрального (черговий районної адміністрації, duty.central@example.org)" in body
    assert "- Управління ОСББ (управління з питань ОСББ, hoa.dept@example.org)" in body
    assert len(smtp_peer.received) == 9


def test_control_gets_one_escalation_per_round_for_all_records_and_none_for_an_ended_emergency(
        engine, mail_settings, smtp_peer):
    rows = [emergency(), emergency(recorded_at="22.11.2026 14:10", summary="Друга", addresses="вул. Садова, 3"),
            emergency(recorded_at="22.11.2026 14:15", event_at="22.11.2026 14:00", summary="Третя",
                      addresses="вул. Лісова, 1")]
    sync(engine, table(*rows), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    fixed = resolve(3, recorded_at="22.11.2026 18:25:00", event_at="22.11.2026 18:20")  # before the sync's clock
    sync(engine, table(*rows, fixed), mail_settings, NOW + timedelta(minutes=30))
    for minutes in (30, 61):
        deliver_pending(engine, mail_settings, NOW + timedelta(minutes=minutes))
    assert [m["Subject"] for m in smtp_peer.to("control@example.org")] == [
        "[НЕ ПІДТВЕРДЖЕНО] Передача інформації · 2 записи · №1, №2 · 4 адресати"]


def test_planned_works_ask_for_no_relay_and_a_forged_link_is_refused(engine, mail_settings, smtp_peer, client):
    sync(engine, table(planned()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    assert not any(LINK.search(text_of(m)) for m in smtp_peer.messages())
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=61))
    assert smtp_peer.to("control@example.org") == []
    assert client.get("/relay/confirm/ImV2ZW50OjE6ZHV0eS5jZW50cmFsQGV4YW1wbGUub3JnIg.forged").status_code == 404
    refused = client.post("/relay/confirm/not-a-token")
    assert refused.status_code == 404 and "Посилання недійсне" in refused.get_data(as_text=True)
    assert "Not Found" not in refused.get_data(as_text=True)  # Ukrainian, like every relay page
    assert client.get("/relay/records/MQ.forged").status_code == 404


def test_the_relay_hour_is_an_hour_of_real_time_across_the_autumn_clock_change(engine, mail_settings, smtp_peer):
    # 25.10.2026 04:00 EEST becomes 03:00 EET. A message sent at 03:00 EEST is escalated 60 real minutes later,
    # at 03:00 EET on the wall clock; wall-clock arithmetic would wait until 04:00 EET.
    utc = ZoneInfo("UTC")
    sent = datetime(2026, 10, 25, 0, 0, tzinfo=utc)
    event = emergency(recorded_at="25.10.2026 02:55", event_at="25.10.2026 02:40", expected_end="25.10.2026 09:00")
    sync(engine, table(event), mail_settings, sent.astimezone(KYIV))
    deliver_pending(engine, mail_settings, sent.astimezone(KYIV))
    deliver_pending(engine, mail_settings, (sent + timedelta(minutes=59)).astimezone(KYIV))
    assert smtp_peer.to("control@example.org") == []
    deliver_pending(engine, mail_settings, (sent + timedelta(minutes=61)).astimezone(KYIV))  # 03:01 EET
    assert len(smtp_peer.to("control@example.org")) == 1


def test_an_emergency_that_ended_before_the_hub_heard_of_it_is_told_but_nobody_is_asked_to_relay_it(
        engine, mail_settings, smtp_peer):
    sync(engine, table(emergency(), resolve(1)), mail_settings, NOW)  # the report and its resolution together
    deliver_pending(engine, mail_settings, NOW)
    told = smtp_peer.to("duty.central@example.org")
    # One mail in its current state (history.fold), not «[АВАРІЯ]» and «[ЛІКВІДОВАНО]» in the same minute.
    assert [m["Subject"] for m in told] == ["[ЛІКВІДОВАНО] Водопостачання · вул. Соборна, 12 · Центральний · №1"]
    assert not any(LINK.search(text_of(m)) for m in told)
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=90))
    assert len(smtp_peer.to("duty.central@example.org")) == 1 and smtp_peer.to("control@example.org") == []
