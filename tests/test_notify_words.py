"""Right words: every time named relative to the reader's day in the city's zone, the reminder on the
calendar day before, the Date header in the city's offset, tel: links and a viewport, digests, and the reminders
of records whose term passed without an update."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, planned, table, update
from smtp_peer import DIRECTORY

from outages.officials.sender import deliver_pending
from outages.officials.words import reader_time, span, tel
from outages.records.sync import sync
from outages.settings import load

KYIV = ZoneInfo("Europe/Kyiv")
UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)

# What an officials' mail subject says of the test record: service, first address, districts.
WHAT = "Водопостачання · вул. Соборна, 12 · Центральний"


def kyiv(text: str) -> datetime:
    return datetime.strptime(text, "%d.%m.%Y %H:%M").replace(tzinfo=KYIV)


@pytest.mark.parametrize(("moment", "reader", "prep", "expected"), [
    (kyiv("22.11.2026 20:00"), kyiv("22.11.2026 18:00"), "до", "сьогодні до 20:00"),
    (kyiv("23.11.2026 09:00"), kyiv("22.11.2026 18:00"), "з", "завтра з 09:00"),
    (kyiv("30.11.2026 20:00"), kyiv("22.11.2026 18:00"), "", "30.11 о 20:00"),
    (kyiv("30.11.2026 11:30"), kyiv("22.11.2026 18:00"), "", "30.11 об 11:30"),
    # Across midnight: the same 20:00 is «сьогодні» before it and «вчора» the next morning.
    (kyiv("22.11.2026 20:00"), kyiv("22.11.2026 23:59"), "", "сьогодні о 20:00"),
    (kyiv("22.11.2026 20:00"), kyiv("23.11.2026 00:01"), "", "вчора о 20:00"),
    (kyiv("23.11.2026 00:30"), kyiv("22.11.2026 23:50"), "до", "завтра до 00:30"),
    (kyiv("01.01.2027 09:00"), kyiv("31.12.2026 22:00"), "з", "завтра з 09:00"),
    (kyiv("03.01.2027 09:00"), kyiv("31.12.2026 22:00"), "", "03.01.2027 о 09:00"),
    # Autumn change (25.10.2026 04:00 EEST → 03:00 EET): 21:30 UTC is 23:30 that evening, not 00:30 the next day.
    (datetime(2026, 10, 25, 21, 30, tzinfo=UTC), kyiv("25.10.2026 10:00"), "до", "сьогодні до 23:30"),
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), kyiv("25.10.2026 10:00"), "", "сьогодні о 03:30"),
    # Spring change (29.03.2026 03:00 EET → 04:00 EEST): 21:30 UTC on the 28th is still 23:30 of the 28th.
    (datetime(2026, 3, 28, 21, 30, tzinfo=UTC), kyiv("29.03.2026 10:00"), "", "вчора о 23:30"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), kyiv("29.03.2026 10:00"), "з", "сьогодні з 04:30"),
])
def test_a_time_names_the_readers_day_in_the_city(moment, reader, prep, expected):
    assert reader_time(moment, KYIV, reader.astimezone(KYIV).date(), prep) == expected


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("23.11.2026 09:00", "23.11.2026 17:00", "завтра з 09:00 до 17:00"),
    ("26.11.2026 07:00", "30.11.2026 18:00", "26.11 з 07:00, 30.11 до 18:00"),
    ("22.11.2026 21:00", "23.11.2026 05:00", "сьогодні з 21:00, завтра до 05:00"),
])
def test_works_name_both_ends(start, end, expected):
    assert span(kyiv(start), kyiv(end), KYIV, date(2026, 11, 22)) == expected


@pytest.mark.parametrize(("phone", "uri"), [("0512 47-11-02", "tel:0512471102"), ("+380 67 345 15 55",
                                                                                 "tel:+380673451555"),
                                            ("1580", "tel:1580"), ("немає", "")])
def test_phones_become_tel_links(phone, uri):
    assert tel(phone) == uri


def subjects(peer, address):
    return [m["Subject"] for m in peer.to(address)]


def test_a_mail_queued_before_midnight_says_tomorrow_and_an_overdue_one_next_morning_says_yesterday(
        engine, mail_settings, smtp_peer):
    night = kyiv("22.11.2026 23:50")
    sync(engine, table(emergency(recorded_at="22.11.2026 23:45", event_at="22.11.2026 23:30",
                                 expected_end="23.11.2026 02:00")), mail_settings, night)
    deliver_pending(engine, mail_settings, night)
    assert subjects(smtp_peer, "press@example.org") == [
        "[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · завтра до 02:00 · №1"]
    text = smtp_peer.to("press@example.org")[0].get_body(("plain",)).get_content()
    assert "Час події: сьогодні о 23:30" in text and "Термін ліквідації: завтра о 02:00" in text
    morning = kyiv("23.11.2026 08:00")
    sync(engine, table(emergency(recorded_at="22.11.2026 23:45", event_at="22.11.2026 23:30",
                                 expected_end="23.11.2026 02:00")), mail_settings, morning)
    deliver_pending(engine, mail_settings, morning)
    assert f"[ПРОСТРОЧЕНО] {WHAT} · термін сьогодні о 02:00 минув · №1" in subjects(
        smtp_peer, "control@example.org")


def test_the_overdue_mail_read_the_next_day_names_yesterday(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    sync(engine, table(emergency()), mail_settings, kyiv("23.11.2026 07:30"))
    deliver_pending(engine, mail_settings, kyiv("23.11.2026 07:30"))
    assert f"[ПРОСТРОЧЕНО] {WHAT} · термін вчора о 20:00 минув · №1" in subjects(
        smtp_peer, "control@example.org")


def reminders(peer) -> list[tuple[str, str]]:
    return sorted((r.rcpt_tos[0], r.message["Subject"]) for r in peer.received
                  if r.message["Subject"].startswith("[ЗАВТРА"))


@pytest.mark.parametrize(("recorded", "start", "drains", "expected"), [
    # The calendar day before, from 10:00 — even when the works start just after midnight.
    ("18.11.2026 09:00", "24.11.2026 00:30", ["23.11.2026 09:59", "23.11.2026 10:00"], "23.11.2026 10:00"),
    # The worker was away the day before: nothing on the day itself (the old code sent it at 06:16 that morning).
    ("18.11.2026 09:00", "24.11.2026 09:00", ["24.11.2026 06:16", "24.11.2026 08:00"], None),
    # Reported less than a day ahead: no reminder at all.
    ("23.11.2026 12:00", "24.11.2026 09:00", ["23.11.2026 12:05", "23.11.2026 18:00"], None),
    # Across the autumn clock change: the day before is 24.10, at 10:00 local.
    ("18.10.2026 09:00", "25.10.2026 09:00", ["24.10.2026 09:59", "24.10.2026 10:00"], "24.10.2026 10:00"),
])
def test_the_planned_works_reminder_goes_on_the_calendar_day_before_only(engine, mail_settings, smtp_peer,
                                                                         recorded, start, drains, expected):
    end = (kyiv(start) + timedelta(hours=8)).strftime("%d.%m.%Y %H:%M")
    works = planned(recorded_at=recorded, event_at=start, expected_end=end)
    sync(engine, table(works), mail_settings, kyiv(recorded) + timedelta(minutes=1))
    deliver_pending(engine, mail_settings, kyiv(recorded) + timedelta(minutes=1))
    seen_at = None
    for moment in drains:
        deliver_pending(engine, mail_settings, kyiv(moment))
        if reminders(smtp_peer) and seen_at is None:
            seen_at = moment
    assert seen_at == expected
    if expected:
        first = reminders(smtp_peer)[0][1]
        assert "· завтра з " in first and first.startswith("[ЗАВТРА ПЛАНОВІ РОБОТИ]")


def test_headers_are_in_the_city_offset_and_the_html_has_a_viewport_and_tel_links(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    summer = kyiv("20.06.2026 12:00")
    sync(engine, table(emergency(), emergency(recorded_at="20.06.2026 11:50", event_at="20.06.2026 11:40",
                                              expected_end="20.06.2026 18:00")), mail_settings, summer)
    deliver_pending(engine, mail_settings, NOW)
    dates = sorted(str(m["Date"]) for m in smtp_peer.to("deputy@example.org"))
    assert dates == ["Sat, 20 Jun 2026 12:00:00 +0300", "Sun, 22 Nov 2026 18:00:00 +0200"]
    assert parsedate_to_datetime(dates[1]) == NOW
    message = smtp_peer.to("deputy@example.org")[0]
    html = message.get_body(("html",)).get_content()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<a href="tel:0501234567">0501234567</a>' in html  # the utility's dispatcher, for officials
    hoa = smtp_peer.to("hoa.soborna@example.org")[0].get_body(("html",)).get_content()
    assert "0501234567" not in hoa  # HOA heads are residents: no dispatcher's phone


def test_the_contact_centre_hotline_is_a_setting_shown_as_a_tel_link(engine, mail_settings, smtp_peer, monkeypatch):
    monkeypatch.setenv("OUTAGES_HOTLINE", "15-80")
    settings = load()
    sync(engine, table(emergency()), settings, NOW)
    deliver_pending(engine, settings, NOW)
    message = smtp_peer.to("hoa.soborna@example.org")[0]
    assert 'гаряча лінія <a href="tel:1580">15-80</a>' in message.get_body(("html",)).get_content()
    assert "Контакт-центр, гаряча лінія 15-80." in message.get_body(("plain",)).get_content()


DIGEST_DIRECTORY = [dict(r, delivery="daily") if r["role"] == "press" else r for r in DIRECTORY]


@pytest.mark.parametrize("directory", [DIGEST_DIRECTORY])
@pytest.mark.parametrize("notify_toml", ['[delivery]\ndeputy = "hourly"\n'])
def test_a_digest_lists_each_records_current_state_once_and_new_emergencies_still_go_at_once(
        engine, mail_settings, smtp_peer, directory, notify_toml):
    works = planned(recorded_at="22.11.2026 17:00", event_at="26.11.2026 09:00", expected_end="26.11.2026 17:00",
                    districts="Центральний")
    sync(engine, table(emergency(), works), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    sync(engine, table(emergency(), works, update(1)), mail_settings, NOW + timedelta(minutes=20))
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=20))
    # The emergency at once; its update and the planned works wait for the digest.
    assert subjects(smtp_peer, "press@example.org") == [
        "[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 20:00 · №1"]
    assert subjects(smtp_peer, "deputy@example.org") == subjects(smtp_peer, "press@example.org")
    deliver_pending(engine, mail_settings, kyiv("22.11.2026 19:00"))  # the top of the hour: the deputy's digest
    assert subjects(smtp_peer, "deputy@example.org")[1:] == [
        "[ЗВЕДЕННЯ ЗА ГОДИНУ] Аварії та планові роботи · 2 записи · аварій: 1"]
    assert len(smtp_peer.to("press@example.org")) == 1
    deliver_pending(engine, mail_settings, kyiv("23.11.2026 07:59"))
    assert len(smtp_peer.to("press@example.org")) == 1
    deliver_pending(engine, mail_settings, kyiv("23.11.2026 08:00"))  # notify.digest_hour
    digest = smtp_peer.to("press@example.org")[-1]
    assert digest["Subject"] == "[ЗВЕДЕННЯ ЗА ДОБУ] Аварії та планові роботи · 2 записи · аварій: 1"
    text = digest.get_body(("plain",)).get_content()
    assert ("№1 · АВАРІЯ · Водопостачання · Центральний\nСтан: триває, термін вчора до 23:00\n"
            "Що сталося: оновлення") in text
    assert "№2 · ПЛАНОВІ РОБОТИ · Електропостачання · Центральний\nСтан: заплановано 26.11 з 09:00 до 17:00" in text
    assert text.count("№1 ·") == 1
    deliver_pending(engine, mail_settings, kyiv("24.11.2026 08:00"))
    assert len(smtp_peer.to("press@example.org")) == 2  # each change is carried once



def test_a_forgotten_record_reminds_control_and_the_utility_at_3_6_12_24_hours_then_daily_with_the_true_age(
        engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    moment = kyiv("22.11.2026 20:05")
    sync(engine, table(emergency()), mail_settings, moment)  # the term (20:00) passes: «ПРОСТРОЧЕНО»
    while moment <= kyiv("25.11.2026 22:00"):
        deliver_pending(engine, mail_settings, moment)
        moment += timedelta(minutes=30)
    for address in ("control@example.org", "vodokanal@example.org"):
        got = [(str(m["Date"])[5:22], m["Subject"]) for m in smtp_peer.to(address)
               if m["Subject"].startswith("[ПРОСТРОЧЕНО")]  # not the relay escalation, nor Monday's digest
        assert got == [
            ("22 Nov 2026 20:05", f"[ПРОСТРОЧЕНО] {WHAT} · термін сьогодні о 20:00 минув · №1"),
            # Due at 23:05 and 02:05; a mail at most every notify.reminder_fold_hours (4) holds them an hour, and
            # each says the hours that have truly passed when it goes, not its step.
            ("23 Nov 2026 00:05", f"[ПРОСТРОЧЕНО 4 ГОД] {WHAT} · термін вчора о 20:00 минув · №1"),
            ("23 Nov 2026 04:05", f"[ПРОСТРОЧЕНО 8 ГОД] {WHAT} · термін вчора о 20:00 минув · №1"),
            ("23 Nov 2026 08:05", f"[ПРОСТРОЧЕНО 12 ГОД] {WHAT} · термін вчора о 20:00 минув · №1"),
            ("23 Nov 2026 20:05", f"[ПРОСТРОЧЕНО 24 ГОД] {WHAT} · термін вчора о 20:00 минув · №1"),
            # Overdue until updated: after a day, once a day (the 25 h stop dropped №5 and №13 from control's list).
            ("24 Nov 2026 20:05", f"[ПРОСТРОЧЕНО 48 ГОД] {WHAT} · термін 22.11 о 20:00 минув · №1"),
            ("25 Nov 2026 20:05", f"[ПРОСТРОЧЕНО 72 ГОД] {WHAT} · термін 22.11 о 20:00 минув · №1"),
        ], address
    reminder = smtp_peer.to("vodokanal@example.org")[1]
    assert "Внесіть до форми оновлення з новим терміном" in reminder.get_body(("plain",)).get_content()
    assert "Термін вчора о 20:00 минув 4 год тому." in reminder.get_body(("plain",)).get_content()
    assert reminder["In-Reply-To"] == smtp_peer.to("vodokanal@example.org")[0]["Message-ID"]


def test_an_update_with_a_new_term_stops_the_reminders(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    sync(engine, table(emergency()), mail_settings, kyiv("22.11.2026 20:05"))
    deliver_pending(engine, mail_settings, kyiv("22.11.2026 23:05"))
    later = update(1, recorded_at="22.11.2026 23:30", expected_end="23.11.2026 12:00")
    sync(engine, table(emergency(), later), mail_settings, kyiv("22.11.2026 23:30"))
    for moment in ("23.11.2026 02:05", "23.11.2026 08:05", "23.11.2026 11:59"):
        deliver_pending(engine, mail_settings, kyiv(moment))
    assert [m["Subject"].split("]")[0] for m in smtp_peer.to("control@example.org")
            if m["Subject"].startswith("[ПРОСТРОЧЕНО")] == [
        "[ПРОСТРОЧЕНО 3 ГОД"]  # the notice and the 3-hour reminder came due in one round: one mail


def test_a_bad_delivery_choice_is_named_in_ukrainian_and_skips_only_that_entry(settings):
    from outages.officials.cadence import role_cadences
    from outages.officials.directory import parse_entry
    from outages.settings import SettingsError

    with pytest.raises(ValueError, match="delivery «weekly»: невідомий спосіб доставки"):
        parse_entry({"email": "press@example.org", "role": "press", "delivery": "weekly"}, settings)
    assert parse_entry({"email": "press@example.org", "role": "press", "delivery": "Daily"}, settings).delivery == \
        "daily"
    settings.data["delivery"] = {"press": "weekly"}
    with pytest.raises(SettingsError, match="delivery.press: expected one of now, hourly, daily, got 'weekly'"):
        role_cadences(settings)
