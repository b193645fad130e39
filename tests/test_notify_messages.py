"""The messages as received: subject, both parts, no attachment, no extra header, dispatcher text escaped."""

from __future__ import annotations

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, table, update

from outages.officials.messages import render
from outages.officials.sender import deliver_pending
from outages.records.sync import sync

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
HOSTILE = '<script>alert("x")</script> & Ко\nBcc: evil@example.org\nX-Injected: yes'
HEADERS = {"Content-Type", "MIME-Version", "Date", "Subject", "From", "To", "Message-ID"}


def only(peer, address):
    found = peer.to(address)
    assert len(found) == 1, f"{address}: {len(found)} messages"
    return found[0]


def test_dispatcher_text_is_escaped_never_a_header_never_an_attachment(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency(summary=HOSTILE, cause="/etc/passwd", impact="/etc/hostname",
                                 addresses="вул. Соборна, 12")), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    message = only(smtp_peer, "duty.central@example.org")
    assert set(message.keys()) == HEADERS
    assert message["Subject"] == "[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 20:00 · №1"
    assert message["To"] == "duty.central@example.org"
    assert message["From"].addresses[0].addr_spec == "hub@example.org"
    digest = hashlib.sha256(b"duty.central@example.org").hexdigest()[:12]
    assert message["Message-ID"] == f"<outages.r1.v1.created.{digest}@example.org>"
    parts = [part for part in message.walk() if not part.is_multipart()]
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert not any(part.get_content_disposition() == "attachment" or part.get_filename() for part in parts)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Коротко: <script>alert(\"x\")</script> & Ко" in text and "Причини: /etc/passwd" in text
    assert "root:" not in text + html  # the path stayed text: the file was not attached nor read
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Ко<br>Bcc: evil@example.org" in html
    assert "Bcc" not in message and "X-Injected" not in message


def test_an_update_says_what_changed_and_has_its_own_message_id(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    sync(engine, table(emergency(), update(1)), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    first, second = sorted(smtp_peer.to("press@example.org"), key=lambda m: m["Message-ID"])
    assert first["Message-ID"] != second["Message-ID"]
    update_message = next(m for m in (first, second) if "ОНОВЛЕННЯ" in m["Subject"])
    assert update_message["Subject"] == \
        "[АВАРІЯ · ОНОВЛЕННЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 23:00 (було 20:00) · №1"
    text = update_message.get_body(("plain",)).get_content()
    assert "термін ліквідації сьогодні о 20:00 → сьогодні о 23:00" in text
    assert "- термін ліквідації: сьогодні о 20:00 → сьогодні о 23:00" in text
    # One thread per record and recipient: the update answers the first message.
    created = next(m for m in (first, second) if m is not update_message)
    assert "In-Reply-To" not in created
    assert update_message["In-Reply-To"] == update_message["References"] == created["Message-ID"]
    assert set(update_message.keys()) == HEADERS | {"In-Reply-To", "References"}


def test_officials_see_the_utility_contact_hoa_heads_do_not_and_nobody_sees_the_reporter_email(
        engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    official = only(smtp_peer, "deputy@example.org").get_body(("plain",)).get_content()
    hoa = only(smtp_peer, "hoa.soborna@example.org").get_body(("plain",)).get_content()
    assert "Відповідальна особа виконавця: Іван Петренко, тел. 0501234567" in official
    assert "Іван Петренко" not in hoa and "0501234567" not in hoa
    for message in smtp_peer.messages():
        whole = message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()
        assert "ivan@example.org" not in whole


@pytest.mark.parametrize("kind", ["created", "breach", "overdue"])
def test_a_newline_in_any_field_cannot_break_the_subject_line(kind):
    context = {
        "city": "Місто", "number": 7, "emergency": True, "kind_uk": "Аварійна ситуація", "tag": "АВАРІЯ",
        "status": "active", "executor": "Водоканал\r\nBcc: evil@example.org", "service": "Вода\nX-A: 1",
        "districts": "Центральний\n", "addresses": "", "place": "вул. Соборна, 12\r\nBcc: evil@example.org",
        "summary": "s", "cause": "", "impact": "", "event_at": "", "expected_end": "", "end_short": "20:00\r\n",
        "start_short": "", "recorded_at": "",
        "resolved_at": "", "deadline": "внесено\nчерез 80 хв", "deadline_met": False, "contact": {},
        "record_url": "", "recipient_name": "", "role_uk": "", "relay_url": "", "relay_state_url": "",
        "changes": [],
    }
    subject = render(kind, context).subject
    assert "\n" not in subject and "\r" not in subject and subject == subject.strip()
    assert subject.endswith("№7") or "№7" in subject


def test_text_that_cannot_be_encoded_still_makes_a_sendable_message(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency(summary="Порив \ud800 водогону")), mail_settings, NOW)
    assert deliver_pending(engine, mail_settings, NOW)["sent"] == 5
    text = only(smtp_peer, "press@example.org").get_body(("plain",)).get_content()
    assert "Коротко: Порив" in text and "водогону" in text, text
