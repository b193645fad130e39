"""E-mail subscriptions by address, end to end against a real SMTP server: sign-up → confirmation mail → GET
changes nothing → POST confirms → a matching emergency → one mail with RFC 8058 headers → one-click POST →
no more mail. Plus: the same answer for a known address, the rate limit, forgetting, counts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rows import emergency, planned, table
from sqlalchemy import select

from outages.delivery.drain import drain
from outages.officials.options import mail_options
from outages.records.sync import sync
from outages.residents import subscriptions as store
from outages.residents.fanout import expand_due
from outages.schema import outbox, subscriptions
from outages.transports.smtp import SmtpTransport

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
OLENA = "olena@example.org"


@pytest.fixture
def app(mail_settings, engine):
    from web import create_app

    app = create_app(mail_settings, engine=engine)
    app.extensions["outages"].clock = lambda: NOW
    return app


def mails_to(peer, address):
    return [r.message for r in peer.received if address in r.rcpt_tos]


def deliver_mail(engine, settings, now):
    return drain(engine, SmtpTransport(mail_options(settings)), now=now, budget_s=30)


def link(message, kind: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https://hub\.example\.org(/subscribe/{kind}/\S+)", text).group(1)


def subscribe(client, email=OLENA, address="Соборна 14", ip="198.51.100.7", **extra):
    return client.post("/subscribe", data={"email": email, "address": address, **extra},
                       environ_base={"REMOTE_ADDR": ip})


def test_sign_up_confirm_one_mail_one_click_unsubscribe(app, engine, mail_settings, smtp_peer, run_cli):
    client = app.test_client()
    page = client.get("/subscribe")
    assert page.status_code == 200 and 'name="email"' in page.text and 'name="address"' in page.text
    answer = subscribe(client)
    assert answer.status_code == 200 and "Перевірте пошту" in answer.text
    assert deliver_mail(engine, mail_settings, NOW)["sent"] == 1
    [confirmation] = mails_to(smtp_peer, OLENA)
    assert "Підтвердіть підписку: вул. Соборна, 14" in confirmation["Subject"]
    confirm_path = link(confirmation, "confirm")

    shown = client.get(confirm_path)  # what a mail scanner does: it must change nothing
    assert shown.status_code == 200 and "<form method=\"post\">" in shown.text and "Підтвердити" in shown.text
    assert "unconfirmed" in run_cli("subscribers").output
    with engine.connect() as conn:
        assert conn.execute(select(subscriptions.c.confirmed_at)).scalar() is None
    done = client.post(confirm_path)
    assert done.status_code == 200 and "Підписку на «вул. Соборна, 14» підтверджено" in done.text

    sync(engine, table(emergency(addresses="вул. Соборна, 12-20")), mail_settings, NOW)
    expand_due(engine, mail_settings, NOW)
    expand_due(engine, mail_settings, NOW)  # a second expansion adds nothing
    deliver_mail(engine, mail_settings, NOW + timedelta(minutes=1))
    confirmation_and_news = mails_to(smtp_peer, OLENA)
    assert len(confirmation_and_news) == 2
    news = confirmation_and_news[1]
    assert news["Subject"] == "Аварія: Водопостачання — вул. Соборна, 14"
    unsubscribe_path = link(news, "unsubscribe")
    assert news["List-Unsubscribe"] == f"<https://hub.example.org{unsubscribe_path}>"
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = news.get_body(("plain",)).get_content()
    assert "Новий запис за вашою адресою «вул. Соборна, 14»" in body and "Порив водогону" in body
    assert "Іван Петренко" not in body and "0501234567" not in body
    assert "/subscribe/manage/" in body

    # RFC 8058: the mail client POSTs this body to the List-Unsubscribe URL; it unsubscribes at once.
    gone = client.post(unsubscribe_path, data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded")
    assert gone.status_code == 200 and "Ви відписалися" in gone.text
    sync(engine, table(emergency(addresses="вул. Соборна, 12-20"), emergency(addresses="вул. Соборна, 14")),
         mail_settings, NOW + timedelta(minutes=10))
    expand_due(engine, mail_settings, NOW + timedelta(minutes=10))
    deliver_mail(engine, mail_settings, NOW + timedelta(minutes=11))
    assert len(mails_to(smtp_peer, OLENA)) == 2


def test_one_send_after_a_sync_delivers_the_subscribers_news_with_the_officials_mail(app, engine, mail_settings,
                                                                                   smtp_peer, run_cli):
    client = app.test_client()
    subscribe(client)
    deliver_mail(engine, mail_settings, NOW)
    client.post(link(mails_to(smtp_peer, OLENA)[0], "confirm"))
    sync(engine, table(emergency(addresses="вул. Соборна, 12-20")), mail_settings, NOW)
    with time_machine.travel(NOW + timedelta(minutes=1), tick=True):  # the CLI reads the real clock
        result = run_cli("send")
    assert result.exit_code == 0, result.output
    assert "підписникам додано до черги (queued for subscribers) 1" in result.output
    assert [m["Subject"] for m in mails_to(smtp_peer, OLENA)][1:] == ["Аварія: Водопостачання — вул. Соборна, 14"]
    assert "лишається в черзі (remaining) 0" in result.output


def test_the_answer_does_not_tell_whether_an_address_is_known(app, engine, mail_settings):
    client = app.test_client()
    first, second = subscribe(client), subscribe(client)
    other = subscribe(client, email="someone.else@example.org")
    assert first.status_code == second.status_code == other.status_code == 200
    assert first.text == second.text == other.text


@pytest.mark.parametrize("email, address, message", [
    ("not-an-address", "Соборна 14", "Адреса електронної пошти «not-an-address» неправильна"),
    (OLENA, "", "Вкажіть адресу"),
    (OLENA, "Неіснуюча 5", "Вулицю «Неіснуюча 5» не знайдено в довіднику міста"),
])
def test_bad_input_is_named_and_nothing_is_stored(app, engine, email, address, message):
    answer = subscribe(app.test_client(), email=email, address=address)
    assert answer.status_code == 400 and message in answer.text
    with engine.connect() as conn:
        assert conn.execute(select(subscriptions)).all() == []


def test_sign_ups_are_limited_per_client(app, engine, mail_settings):
    client = app.test_client()
    answers = [subscribe(client, email=f"p{i}@example.org", ip="203.0.113.9").status_code for i in range(6)]
    assert answers == [200] * 5 + [429]
    assert subscribe(client, email="p6@example.org", ip="203.0.113.10").status_code == 200  # another client


def test_an_expired_or_forged_confirmation_changes_nothing(app, engine, mail_settings):
    client = app.test_client()
    subscribe(client)
    with engine.connect() as conn:
        sub_id = conn.execute(select(subscriptions.c.id)).scalar()
    token = store.confirm_token("test-secret", sub_id, NOW)
    app.extensions["outages"].clock = lambda: NOW + timedelta(hours=24, minutes=1)
    expired = client.post(f"/subscribe/confirm/{token}")
    assert expired.status_code == 410 and "Посилання застаріло" in expired.text
    forged = client.post(f"/subscribe/confirm/{token[:-2]}xx")
    assert forged.status_code == 404
    with engine.connect() as conn:
        assert conn.execute(select(subscriptions.c.confirmed_at)).scalar() is None


def test_unconfirmed_sign_ups_are_forgotten_after_seven_days(engine, mail_settings, app):
    subscribe(app.test_client())
    with engine.begin() as conn:
        assert store.purge(conn, NOW + timedelta(days=6)) == 0
        assert store.purge(conn, NOW + timedelta(days=7, minutes=1)) == 1
        assert conn.execute(select(subscriptions)).all() == []
        assert conn.execute(select(outbox).where(outbox.c.recipient == OLENA)).all() == []


def test_forget_deletes_a_person_and_counts_show_no_addresses(app, engine, mail_settings, run_cli):
    client = app.test_client()
    subscribe(client)
    subscribe(client, address="Садова 3")
    listing = run_cli("subscribers")
    assert OLENA not in listing.output and "2" in listing.output
    result = run_cli("subscribers", "forget", OLENA)
    assert result.exit_code == 0 and "видалено підписок (subscriptions deleted): 2" in result.output
    with engine.connect() as conn:
        assert conn.execute(select(subscriptions)).all() == []
        assert conn.execute(select(outbox).where(outbox.c.recipient == OLENA)).all() == []
    assert "підписок немає" in run_cli("subscribers").output


def test_planned_works_news_waits_for_the_end_of_quiet_hours(app, engine, mail_settings, smtp_peer):
    client = app.test_client()
    subscribe(client)
    with engine.begin() as conn:
        store.confirm(conn, conn.execute(select(subscriptions.c.id)).scalar(), NOW)
    late = datetime(2026, 11, 22, 23, 30, tzinfo=KYIV)
    sync(engine, table(planned(addresses="вул. Соборна, 10-16", recorded_at="22.11.2026 23:20",
                               event_at="26.11.2026 09:00", expected_end="26.11.2026 17:00")), mail_settings, late)
    expand_due(engine, mail_settings, late)
    with engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.kind == "sub_created")).one()
    assert row.next_attempt_at == datetime(2026, 11, 23, 7, 0, tzinfo=KYIV)
    deliver_mail(engine, mail_settings, late + timedelta(minutes=5))
    assert [m["Subject"] for m in mails_to(smtp_peer, OLENA) if "Планові" in m["Subject"]] == []


def test_a_subscriber_reads_a_long_text_shortened_like_everyone_else(app, engine, mail_settings, smtp_peer,
                                                                        monkeypatch):
    """A 40,000-character summary reaches the subscriber cut at display_max_chars and marked «…»."""
    from outages.settings import load

    monkeypatch.setenv("OUTAGES_DISPLAY_MAX_CHARS", "300")
    settings = load()
    client = app.test_client()
    subscribe(client)
    deliver_mail(engine, mail_settings, NOW)
    client.post(link(mails_to(smtp_peer, OLENA)[0], "confirm"))
    summary = " ".join(["Порив водогону на магістралі"] * 1500)
    sync(engine, table(emergency(addresses="вул. Соборна, 12-20", summary=summary)), settings, NOW)
    expand_due(engine, settings, NOW)
    deliver_mail(engine, settings, NOW + timedelta(minutes=1))
    news = mails_to(smtp_peer, OLENA)[1]
    for part in ("plain", "html"):
        body = news.get_body((part,)).get_content()
        assert "Порив водогону на магістралі" in body and "…" in body
        assert summary[:301] not in body and len(body) < 20_000
