"""Who is told (regulation 7.5–7.7), checked on what a real SMTP server receives."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, planned, resolve, table, update

from outages.officials.routing import mentions_street
from outages.officials.sender import deliver_pending
from outages.records.sync import sync

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)  # a Sunday
AUDIENCE_CENTRAL_WATER = {"deputy@example.org", "press@example.org", "water.head@example.org",
                          "duty.central@example.org", "hoa.soborna@example.org"}


def received(peer) -> list[tuple[str, str]]:
    return sorted((r.rcpt_tos[0], r.message["Subject"]) for r in peer.received)


def test_a_new_emergency_reaches_the_officials_and_only_its_district_and_street(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    counts = deliver_pending(engine, mail_settings, NOW)
    assert counts["sent"] == 5 and counts["failed"] == counts["deferred"] == 0
    got = received(smtp_peer)
    assert {to for to, _ in got} == AUDIENCE_CENTRAL_WATER  # not Заводський, not Адміральська, not energy
    assert {subject for _, subject in got} == {
        "[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 20:00 · №1"}


def test_every_recipient_is_told_once_per_change_however_often_sync_and_send_run(engine, mail_settings, smtp_peer):
    rows = table(emergency())
    for _ in range(2):
        sync(engine, rows, mail_settings, NOW)
        deliver_pending(engine, mail_settings, NOW)
    assert len(smtp_peer.received) == 5
    rows = table(emergency(), update(1))
    for _ in range(2):
        sync(engine, rows, mail_settings, NOW + timedelta(minutes=5))
        deliver_pending(engine, mail_settings, NOW + timedelta(minutes=5))
    # Within 45 minutes, so no relay reminder joins in (tests/test_notify_relay.py covers those).
    # Stamped by then: a stamp later than the sync's clock is refused as implausible.
    fixed = resolve(1, recorded_at="22.11.2026 18:40:00", event_at="22.11.2026 18:35")
    sync(engine, table(emergency(), update(1), fixed), mail_settings, NOW + timedelta(minutes=40))
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=40))
    deliver_pending(engine, mail_settings, NOW + timedelta(minutes=41))
    per_recipient: dict[str, list[str]] = {}
    for to, subject in received(smtp_peer):
        per_recipient.setdefault(to, []).append(subject)
    assert set(per_recipient) == AUDIENCE_CENTRAL_WATER
    for subjects in per_recipient.values():
        assert sorted(subjects) == [
            "[АВАРІЯ · ОНОВЛЕННЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 23:00 (було 20:00)"
            " · №1",
            "[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 20:00 · №1",
            "[ЛІКВІДОВАНО] Водопостачання · вул. Соборна, 12 · Центральний · №1",
        ]


def test_a_late_emergency_tells_control_and_its_own_utility_at_once(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency(recorded_at="22.11.2026 15:00")), mail_settings, NOW)  # 80 min after the event
    deliver_pending(engine, mail_settings, NOW)
    breach = [(to, s) for to, s in received(smtp_peer) if s.startswith("[ПОРУШЕННЯ СТРОКУ]")]
    assert breach == [
        ("control@example.org", "[ПОРУШЕННЯ СТРОКУ] КП «Водоканал» · аварія №1 · внесено через 80 хв після події"
                                " — запізнення"),
        ("vodokanal@example.org", "[ПОРУШЕННЯ СТРОКУ] КП «Водоканал» · аварія №1 · внесено через 80 хв після події"
                                  " — запізнення"),
    ]


def test_planned_works_in_two_districts_and_a_late_planned_breach_waits_for_the_weekly_digest(
        engine, mail_settings, smtp_peer):
    late = planned(recorded_at="22.11.2026 09:00", event_at="24.11.2026 09:00", expected_end="24.11.2026 17:00",
                   districts="Заводський, Центральний", addresses="вул. Адміральська, 3")  # 48 h ahead: breach
    sync(engine, table(late), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    got = received(smtp_peer)
    assert {to for to, _ in got} == {"deputy@example.org", "press@example.org", "energy.head@example.org",
                                     "duty.central@example.org", "duty.zavod@example.org", "hoa.admiral@example.org"}
    assert {s for _, s in got} == {
        "[ПЛАНОВІ РОБОТИ] Електропостачання · вул. Адміральська, 3 · Заводський, Центральний"
        " · 24.11 з 09:00 до 17:00 · №1"}
    before = len(smtp_peer.received)
    monday = datetime(2026, 11, 23, 9, 30, tzinfo=KYIV)  # the digest of the week 16–22.11 is due from 09:00
    deliver_pending(engine, mail_settings, monday - timedelta(hours=1))
    assert len(smtp_peer.received) == before
    deliver_pending(engine, mail_settings, monday)
    deliver_pending(engine, mail_settings, monday + timedelta(minutes=20))
    digest = sorted((r.rcpt_tos[0], r.message["Subject"]) for r in smtp_peer.received[before:])
    assert digest == [
        ("control@example.org", "[ЗВЕДЕННЯ] Порушення строків планових робіт · 16.11.2026–22.11.2026 · 1"),
        ("oblenergo@example.org",
         "[ЗВЕДЕННЯ] Порушення строків планових робіт · 16.11.2026–22.11.2026 · АТ «Обленерго» · 1"),
    ]
    body = [r.message for r in smtp_peer.received if r.rcpt_tos == ["oblenergo@example.org"]][-1]
    assert "№1 · АТ «Обленерго» · Електропостачання · Заводський, Центральний" in \
        body.get_body(("plain",)).get_content()


def test_the_day_before_planned_works_their_audience_is_reminded_once(engine, mail_settings, smtp_peer):
    works = planned(recorded_at="18.11.2026 09:00", event_at="24.11.2026 09:00", expected_end="24.11.2026 17:00")
    sync(engine, table(works), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)

    def reminders() -> list[tuple[str, str]]:
        return [(to, s) for to, s in received(smtp_peer) if s.startswith("[ЗАВТРА")]

    deliver_pending(engine, mail_settings, datetime(2026, 11, 23, 9, 59, tzinfo=KYIV))
    assert reminders() == []  # not before 10:00 the day before
    for minute in (0, 30):
        deliver_pending(engine, mail_settings, datetime(2026, 11, 23, 10, minute, tzinfo=KYIV))
    assert sorted(to for to, _ in reminders()) == ["deputy@example.org", "duty.central@example.org",
                                                  "energy.head@example.org", "hoa.soborna@example.org",
                                                  "press@example.org"]
    assert {s for _, s in reminders()} == {
        "[ЗАВТРА ПЛАНОВІ РОБОТИ] Електропостачання · вул. Соборна, 12 · Центральний · завтра з 09:00 до 17:00 · №1"}


# The HOA head of вул. Соборна and of вул. Адміральська, told of records written as dispatchers write them: the
# address forms of tests/test_search.py, and the spellings the site's search forgives (one street matcher).
HOA_FORMS = [
    ("вул. Соборна, 12, 14", {"hoa.soborna@example.org"}),
    ("вул. Соборна, непарні 1-25", {"hoa.soborna@example.org"}),
    ("ул. Соборная, 12", {"hoa.soborna@example.org"}),  # Russian
    ("вул. Собрна, 14", {"hoa.soborna@example.org"}),  # a typo
    ("СОБОРНА 3", {"hoa.soborna@example.org"}),
    ("вулиця Радянська, 14", {"hoa.soborna@example.org"}),  # the street's former name
    ("вул. Адміральська, 12а, 14/1", {"hoa.admiral@example.org"}),
    ("вул. Соборна, 2; вул. Адміральська, 5", {"hoa.soborna@example.org", "hoa.admiral@example.org"}),
    ("вул. Потьомкінська, 120-160", set()),
    ("вул. Садова", set()),
    ("вул. Незнайома, 3", set()),
]


@pytest.mark.parametrize("addresses, heads", HOA_FORMS)
def test_an_hoa_head_is_told_of_a_record_on_their_street_however_it_is_written(engine, mail_settings, smtp_peer,
                                                                               addresses, heads):
    sync(engine, table(emergency(addresses=addresses)), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    told = {to for to, _ in received(smtp_peer)}
    assert told & {"hoa.soborna@example.org", "hoa.admiral@example.org"} == heads
    assert "deputy@example.org" in told  # everybody else is told as before


@pytest.mark.parametrize("addresses, street, expected", [
    ("вул. Соборна, 12, 14; просп. Центральний, 1-15", "вулиця Соборна", True),
    ("СОБОРНА 3", "вул. Соборна", True),
    ("просп. Центральний, 1-15", "проспект Центральний", True),
    ("вул. Велика Соборна, 2", "вул. Мала", False),
    ("вул. Соборнянська, 2", "вул. Соборна", False),
    ("ул. Соборная, 12", "вул. Соборна", True),
    ("вул. Собрна, 14", "вул. Соборна", True),
])
def test_streets_of_the_directory_are_found_in_free_text_addresses(settings, addresses, street, expected):
    assert mentions_street(addresses, street, settings.streets) is expected


def test_a_first_import_of_old_rows_mails_only_what_is_still_news(engine, mail_settings, smtp_peer):
    # A city connects a sheet with weeks of history: officials hear of the last 72 hours only.
    old = emergency(recorded_at="01.11.2026 10:20", event_at="01.11.2026 10:00", expected_end="01.11.2026 18:00",
                    summary="Давня аварія")
    recent = emergency(recorded_at="21.11.2026 19:10", event_at="21.11.2026 19:00", expected_end="23.11.2026 18:00")
    sync(engine, table(old, recent), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    assert {subject for _, subject in received(smtp_peer)} == {
        "[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · завтра до 18:00 · №2",
    }


def test_a_new_emergency_and_its_update_in_one_sync_are_one_message_in_its_current_state(
        engine, mail_settings, smtp_peer):
    # The worker was away for a while: the report and its update arrive together, and are told as one.
    sync(engine, table(emergency(), update(1)), mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    assert sorted(subject for to, subject in received(smtp_peer) if to == "deputy@example.org") == [
        "[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 23:00 · №1",
    ]
