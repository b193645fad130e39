"""Hostile or odd addresses poison only their own message (issue 22's critical finding): an internationalised
address reaches the outbox in a form every SMTP server takes, and one that cannot be sent fails alone, at once,
with a reason, while every other message behind it goes out. Against a real aiosmtpd peer."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, table
from smtp_peer import rows_of
from sqlalchemy import update

from outages.officials.directory import check_address
from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.schema import outbox

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)


@pytest.mark.parametrize(("typed", "kept"), [
    ("mykola@пошта.укр", "mykola@xn--80a1acn3a.xn--j1amh"),  # the domain as punycode, which smtplib can send
    ("Mykola@Example.ORG", "Mykola@example.org"),
    ("mykola@xn--80a1acn3a.xn--j1amh", "mykola@xn--80a1acn3a.xn--j1amh"),  # punycode stays punycode
])
def test_an_address_is_kept_in_a_form_every_mail_server_takes(typed, kept):
    assert check_address(typed) == kept


@pytest.mark.parametrize("typed", ["микола@пошта.укр", "a@b", "Соборна 12 Bcc: x@evil.example",
                                   "x@evil.example\r\nBcc: y@z.org"])
def test_an_address_that_needs_smtputf8_or_is_not_an_address_is_refused_with_a_reason(typed):
    with pytest.raises(ValueError) as refused:
        check_address(typed)
    assert str(refused.value)


def test_one_unsendable_address_fails_alone_and_every_other_message_goes_out(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    first = rows_of(engine)[0]
    with engine.begin() as conn:  # an address stored before addresses were checked (or typed into a directory)
        conn.execute(update(outbox).where(outbox.c.id == first.id).values(recipient="микола@пошта.укр"))
    counts = deliver_pending(engine, mail_settings, NOW)
    assert counts["failed"] == 1 and counts["sent"] == len(rows_of(engine)) - 1
    bad = next(r for r in rows_of(engine) if r.id == first.id)
    assert bad.status == "failed" and "SMTPUTF8" in bad.last_error
    assert all(r.status == "sent" for r in rows_of(engine) if r.id != first.id)
    assert deliver_pending(engine, mail_settings, NOW)["sent"] == 0  # nothing retried, nothing sent twice
