"""Relay confirmation (regulation 7.6–7.7): the signed link, the 45-minute reminder, the 60-minute escalation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from outages.notify.sender import deliver_pending
from outages.sync import sync
from rows import emergency, planned, table
from web import create_app

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
LINK = re.compile(r"https://hub\.example\.org(/relay/confirm/[\w.-]+)")
STATE = re.compile(r"https://hub\.example\.org(/relay/records/[\w.-]+)")


@pytest.fixture
def client(engine, mail_settings):  # noqa: ANN001, ANN201
    app = create_app(mail_settings, engine=engine)
    app.extensions["outages"].clock = lambda: NOW + timedelta(minutes=20)
    return app.test_client()


def text_of(message) -> str:  # noqa: ANN001
    return message.get_body(("plain",)).get_content()


def subjects(peer, address):  # noqa: ANN001, ANN201
    return [m["Subject"] for m in peer.to(address)]


def test_duty_officers_and_hoa_heads_get_a_link_others_do_not_and_a_click_is_recorded(
        engine, mail_settings, smtp_peer, client):
    sync(engine, table(emergency()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    duty = text_of(smtp_peer.to("duty.central@example.org")[0])
    assert "«Інформацію передано» → https://hub.example.org/relay/confirm/" in duty
    assert LINK.search(text_of(smtp_peer.to("hoa.soborna@example.org")[0]))
    assert not LINK.search(text_of(smtp_peer.to("deputy@example.org")[0]))
    path = LINK.search(duty).group(1)

    page = client.get(path)  # opening the link (or a mail scanner doing so) confirms nothing
    assert page.status_code == 200 and "Інформацію передано</button>" in page.get_data(as_text=True)
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

    # Confirmed: no reminder, no escalation for the duty officer; the HOA head who did not confirm is chased.
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=46))
    assert subjects(smtp_peer, "duty.central@example.org") == ["[АВАРІЯ] Водопостачання · Центральний · до 20:00 · №1"]
    assert subjects(smtp_peer, "hoa.soborna@example.org")[-1] == \
        "[НАГАДУВАННЯ] Підтвердьте передачу інформації · Водопостачання · Центральний · №1"


def test_no_confirmation_brings_a_reminder_at_45_minutes_and_control_at_60_once_each(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=44))
    assert len(smtp_peer.received) == 5
    for minutes in (45, 50):
        deliver_pending(engine, mail_settings, NOW + timedelta(minutes=minutes))
    reminder = smtp_peer.to("duty.central@example.org")[-1]
    assert reminder["Subject"] == "[НАГАДУВАННЯ] Підтвердьте передачу інформації · Водопостачання · Центральний · №1"
    assert "Підтвердьте, будь ласка, до 22.11.2026 19:00" in text_of(reminder)
    assert LINK.search(text_of(reminder)).group(1) == LINK.search(text_of(smtp_peer.to(
        "duty.central@example.org")[0])).group(1)  # the same link as the first message
    assert len(smtp_peer.received) == 7  # duty officer and HOA head, once each
    assert smtp_peer.to("control@example.org") == []
    for minutes in (60, 61, 90):
        deliver_pending(engine, mail_settings, NOW + timedelta(minutes=minutes))
    escalation = smtp_peer.to("control@example.org")
    assert [m["Subject"] for m in escalation] == [
        "[НЕ ПІДТВЕРДЖЕНО] Передача інформації · Водопостачання · Центральний · №1 · 2 адресат(и)"]
    body = text_of(escalation[0])
    assert "- Черговий Центрального (черговий районної адміністрації, duty.central@example.org)" in body
    assert "- ОСББ Соборна (голова ОСББ, hoa.soborna@example.org)" in body
    assert len(smtp_peer.received) == 8


def test_planned_works_ask_for_no_relay_and_a_forged_link_is_refused(engine, mail_settings, smtp_peer, client):
    sync(engine, table(planned()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    assert not any(LINK.search(text_of(m)) for m in smtp_peer.messages())
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=61))
    assert smtp_peer.to("control@example.org") == []
    assert client.get("/relay/confirm/ImV2ZW50OjE6ZHV0eS5jZW50cmFsQGV4YW1wbGUub3JnIg.forged").status_code == 404
    assert client.post("/relay/confirm/not-a-token").status_code == 404
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
