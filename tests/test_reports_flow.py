"""Residents' reports through the core (issue 20), on SQLite and PostgreSQL, with the real sync and the officials'
mail drained to an aiosmtpd peer: what the reporter is answered, what the utility, the duty officer and control
receive, and what the public may see — at the clock each step is given. The doors (the site, the bot, Open311, the
console) have their own tests; this is the pipeline behind them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, resolve, table
from sqlalchemy import func, select

from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.reports import forward, public
from outages.reports.intake import Intake, Refused, TooMany, submit
from outages.reports.moderate import NotAllowed, moderate
from outages.reports.options import report_options
from outages.schema import report_signals, reports

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 14, 30, tzinfo=KYIV)  # a Sunday afternoon, office hours
NIGHT = datetime(2026, 11, 22, 23, 10, tzinfo=KYIV)
OPERATOR = "olha@contact.example.org"


@pytest.fixture
def hub(mail_settings, engine):
    return mail_settings


def say(engine, settings, now, service="water", address="Соборна 40", text="Немає води", **contact):
    with engine.begin() as conn:
        return submit(conn, settings, Intake(service, address, text, **contact), now)


def act(engine, settings, report_id, action, now, **kw):
    with engine.begin() as conn:
        return moderate(conn, settings, report_id, action, actor=OPERATOR, now=now, **kw)


def report(engine, report_id):
    with engine.connect() as conn:
        return conn.execute(select(reports).where(reports.c.id == report_id)).one()


def visible(engine, settings):
    """What the public list shows: (id, status, words)."""
    with engine.connect() as conn:
        _, found = public.page(conn, report_options(settings))
    return [(r.id, r.status, r.note) for r in found]


def mails(peer, address):
    return [m["Subject"] for m in peer.to(address)]


KNOWN = [
    # (what the resident typed, the service, is it the known record's matter)
    ("Соборна 12", "water", True),
    ("вул. Соборна, 12", "water", True),
    ("соборная 12", "water", True),  # the Russian spelling
    ("Соборна 14", "water", False),  # the record names house 12 only
    ("Соборна 12", "heating", False),  # another service
    ("Садова 3", "water", False),
]


@pytest.mark.parametrize(("typed", "service", "known"), KNOWN)
def test_a_report_on_a_house_a_live_record_covers_is_answered_with_it_and_attached(engine, hub, typed, service,
                                                                                  known):
    sync(engine, table(emergency()), hub, NOW - timedelta(minutes=20))
    got = say(engine, hub, NOW, service=service, address=typed)
    if known:
        assert got.record is not None and got.record.number == 1
        assert "запис №1" in got.notice and "сьогодні до 20:00" in got.notice
        assert visible(engine, hub) == [(got.report.id, "open", "Повідомлення взято до розгляду: №1")]
    else:
        assert got.record is None and "перевірить" in got.notice
        assert visible(engine, hub) == []  # nothing public before moderation


def test_a_known_report_closes_with_its_record_and_nobody_is_mailed_twice(engine, hub, smtp_peer):
    sync(engine, table(emergency()), hub, NOW - timedelta(minutes=20))
    got = say(engine, hub, NOW, address="Соборна 12", email="olena@example.net")
    sync(engine, table(emergency(), resolve(1)), hub, NOW + timedelta(hours=3, minutes=30))
    sync(engine, table(emergency(), resolve(1)), hub, NOW + timedelta(hours=3, minutes=35))
    assert visible(engine, hub) == [(got.report.id, "closed", "Роботу виконано")]
    deliver_pending(engine, hub, NOW + timedelta(hours=3, minutes=36))
    # The address was never confirmed: only the confirmation went to it, no status news.
    assert mails(smtp_peer, "olena@example.net") == ["Підтвердіть адресу: повідомлення №1 (Демо-місто)"]
    assert mails(smtp_peer, "vodokanal@example.org")[1:] == []  # the record's own mail only; no forward


def test_an_unknown_report_waits_is_accepted_forwarded_taken_by_a_later_record_and_closed(engine, hub, smtp_peer):
    got = say(engine, hub, NOW, address="вул. Соборна 40", email="olena@example.net", name="Олена Коваль",
              phone="067 000 11 22")
    assert got.report.status == "pending" and visible(engine, hub) == []
    act(engine, hub, got.report.id, "accept", NOW + timedelta(minutes=5))
    assert visible(engine, hub) == [(1, "open", "Повідомлення взято до розгляду")]
    deliver_pending(engine, hub, NOW + timedelta(minutes=6))
    [forwarded] = smtp_peer.to("vodokanal@example.org")
    assert forwarded["Subject"] == ("[ПОВІДОМЛЕННЯ МЕШКАНЦЯ] Водопостачання: вул. Соборна, 40 — взяти в роботу "
                                    "сьогодні до 15:05")  # water is SOS: 30 minutes
    body = forwarded.get_body(("plain",)).get_content()
    assert "Олена Коваль, тел. 067 000 11 22, olena@example.net" in body
    assert "/reports/take/" in body
    # A form record made an hour later covering Соборна 30-50 takes it; its resolution closes it.
    later = emergency(addresses="вул. Соборна, 30-50", recorded_at="22.11.2026 15:40:00",
                      event_at="22.11.2026 15:30")
    sync(engine, table(later), hub, NOW + timedelta(minutes=75))
    assert visible(engine, hub) == [(1, "open", "Повідомлення взято до розгляду: №1")]
    sync(engine, table(later, resolve(1)), hub, NOW + timedelta(hours=3, minutes=30))
    assert visible(engine, hub) == [(1, "closed", "Роботу виконано")]
    assert report(engine, 1).record_number == 1


def test_explain_closes_publicly_with_the_note_and_reject_is_never_public(engine, hub):
    first = say(engine, hub, NOW, address="Соборна 40")
    second = say(engine, hub, NOW, address="Садова 7", service="roads", text="Яма")
    with pytest.raises(NotAllowed, match="Напишіть роз'яснення"):
        act(engine, hub, first.report.id, "explain", NOW)
    act(engine, hub, first.report.id, "explain", NOW, note="Планове відключення, див. графік на сайті")
    act(engine, hub, second.report.id, "reject", NOW)
    assert visible(engine, hub) == [
        (1, "closed", "Роз'яснення надано: Планове відключення, див. графік на сайті")]
    with engine.connect() as conn:
        assert public.one(conn, report_options(hub), second.report.id) is None
    with pytest.raises(NotAllowed, match="вже закрите"):
        act(engine, hub, second.report.id, "accept", NOW)


def test_three_reports_on_one_street_raise_one_signal_to_the_utility_and_control(engine, hub, smtp_peer):
    for minute, house in enumerate((40, 42, 44, 46, 48)):
        say(engine, hub, NOW + timedelta(minutes=minute), address=f"Соборна {house}", client=f"10.0.0.{house}")
    say(engine, hub, NOW + timedelta(minutes=5), address="Садова 3")  # another street: no crowd
    deliver_pending(engine, hub, NOW + timedelta(minutes=6))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(report_signals)).scalar() == 1
    for address in ("vodokanal@example.org", "control@example.org"):
        assert mails(smtp_peer, address) == [
            "[МОЖЛИВА АВАРІЯ] Водопостачання: вул. Соборна — 3 повідомлення мешканців за 30 хв"]
    assert mails(smtp_peer, "oblenergo@example.org") == []
    # After the window, a new crowd is a new signal.
    for minute, house in enumerate((50, 52, 54)):
        say(engine, hub, NOW + timedelta(minutes=40 + minute), address=f"Соборна {house}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(report_signals)).scalar() == 2


def test_an_sos_report_at_night_goes_to_the_utility_and_the_duty_officer_at_once(engine, hub, smtp_peer):
    got = say(engine, hub, NIGHT, service="power", address="Садова 3", text="Немає світла в під'їзді",
              phone="050 123 45 67")
    assert "без перевірки" in got.notice and "30 хв" in got.notice
    late_roads = say(engine, hub, NIGHT, service="roads", address="Садова 5", text="Яма")
    assert "з 08:00" in late_roads.notice and "завтра" in late_roads.notice
    deliver_pending(engine, hub, NIGHT + timedelta(minutes=1))
    assert mails(smtp_peer, "oblenergo@example.org") == [
        "[ПОВІДОМЛЕННЯ МЕШКАНЦЯ][НЕ ПЕРЕВІРЕНО] Електропостачання: вул. Садова, 3 — взяти в роботу сьогодні до 23:40"]
    assert mails(smtp_peer, "duty.central@example.org") == [
        "[SOS][НЕ ПЕРЕВІРЕНО] Електропостачання: вул. Садова, 3 — повідомлення мешканця вночі"]
    assert mails(smtp_peer, "duty.zavod@example.org") == []  # Садова is in Центральний only
    assert visible(engine, hub) == []  # forwarded, still not public before the contact centre checks it


def test_a_take_missed_by_30_minutes_reaches_control_once(engine, hub, smtp_peer):
    sos = say(engine, hub, NOW, service="power", address="Садова 3")
    lights = say(engine, hub, NOW, service="lighting", address="Садова 5")
    act(engine, hub, sos.report.id, "accept", NOW)
    act(engine, hub, lights.report.id, "accept", NOW)
    with engine.begin() as conn:
        assert forward.enqueue_late(conn, hub, NOW + timedelta(minutes=29)) == 0
        assert forward.enqueue_late(conn, hub, NOW + timedelta(minutes=31)) == 1  # the SOS one: 30 minutes
        assert forward.enqueue_late(conn, hub, NOW + timedelta(minutes=40)) == 0  # told once
        forward.take(conn, lights.report.id, NOW + timedelta(minutes=90))  # the lighting one in time (2 h)
        assert forward.enqueue_late(conn, hub, NOW + timedelta(hours=3)) == 0
    deliver_pending(engine, hub, NOW + timedelta(hours=3))
    assert mails(smtp_peer, "control@example.org") == [
        "[НЕ ВЗЯТО В РОБОТУ] АТ «Обленерго»: повідомлення №1, вул. Садова, 3 — строк минув сьогодні о 15:00"]


REFUSED = [
    # (service, address, text, the field refused, words of the answer)
    ("water", "", "", "address_string", "Вкажіть адресу"),
    ("water", "14", "", "address_string", "Не знайшли вулицю"),
    ("electricity", "Соборна 14", "", "service_code", "Оберіть послугу"),
    ("water", "Соборна 14", "я" * 4001, "description", "4001 символів, можна до 4000"),
]


@pytest.mark.parametrize(("service", "address", "text", "field", "words"), REFUSED)
def test_a_report_that_cannot_be_read_is_refused_with_the_reason_and_nothing_is_stored(engine, hub, service,
                                                                                      address, text, field, words):
    with pytest.raises(Refused) as refused:
        say(engine, hub, NOW, service=service, address=address, text=text)
    assert words in refused.value.errors[field]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reports)).scalar() == 0


def test_one_client_may_send_ten_reports_an_hour(engine, hub):
    for minute in range(10):
        say(engine, hub, NOW + timedelta(minutes=minute), address=f"Соборна {40 + minute}", client="203.0.113.9")
    with pytest.raises(TooMany) as refused:
        say(engine, hub, NOW + timedelta(minutes=10), address="Соборна 60", client="203.0.113.9")
    assert refused.value.retry_after == 50 * 60
    say(engine, hub, NOW + timedelta(minutes=10), address="Соборна 60", client="203.0.113.10")  # another client


def test_the_reporters_contact_never_reaches_the_public_view(engine, hub):
    sync(engine, table(emergency()), hub, NOW - timedelta(minutes=20))
    got = say(engine, hub, NOW, address="Соборна 12", email="olena@example.net", name="Олена Коваль",
              phone="067 000 11 22", client="203.0.113.9")
    with engine.connect() as conn:
        shown = str(public.one(conn, report_options(hub), got.report.id).as_json())
    for private in ("olena@example.net", "Олена", "067 000 11 22", "203.0.113.9", got.report.token):
        assert private not in shown


def test_a_report_public_through_its_record_shows_the_residents_words_only_once_a_person_read_them(engine, hub,
                                                                                                  smtp_peer):
    sync(engine, table(emergency()), hub, NOW - timedelta(minutes=20))
    got = say(engine, hub, NOW, address="Соборна 12", text="Сусід з 5 поверху каже, що це надовго")
    with engine.connect() as conn:
        assert public.one(conn, report_options(hub), got.report.id).description == ""
    act(engine, hub, got.report.id, "accept", NOW + timedelta(minutes=3))  # read: only checked, not forwarded
    with engine.connect() as conn:
        shown = public.one(conn, report_options(hub), got.report.id)
    assert (shown.description, shown.note) == ("Сусід з 5 поверху каже, що це надовго",
                                               "Повідомлення взято до розгляду: №1")
    deliver_pending(engine, hub, NOW + timedelta(minutes=4))
    assert [s for s in mails(smtp_peer, "vodokanal@example.org") if "ПОВІДОМЛЕННЯ МЕШКАНЦЯ" in s] == []
    with pytest.raises(NotAllowed, match="вже взято до розгляду"):
        act(engine, hub, got.report.id, "accept", NOW + timedelta(minutes=5))


def test_the_audit_trail_of_a_decision_keeps_no_contact_so_forgetting_leaves_none_behind(engine, hub):
    from outages.console.audit import Filters as AuditFilters
    from outages.console.audit import page as audit_page
    from outages.reports.forget import forget

    got = say(engine, hub, NOW, address="Соборна 40", email="olena@example.net", name="Олена Коваль",
              phone="067 000 11 22", client="203.0.113.9")
    act(engine, hub, got.report.id, "accept", NOW)
    with engine.begin() as conn:
        assert forget(conn, "OLENA@example.net", NOW) == 1
    with engine.connect() as conn:
        trail = audit_page(conn, AuditFilters(object=f"report:{got.report.id}"))
        kept = conn.execute(select(reports.c.email, reports.c.name, reports.c.phone, reports.c.client)).one()
    [entry] = trail
    said = str(entry.before) + str(entry.after) + entry.reason
    for private in ("olena@example.net", "Олена", "067 000 11 22", "203.0.113.9", got.report.token):
        assert private not in said
    assert entry.after["has_email"] is True and entry.after["status"] == "open"
    assert tuple(kept) == ("", "", "", "")
