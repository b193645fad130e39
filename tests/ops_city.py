"""A console's city in every state a record page or the day's work can show (issue 19), for the console's HTML and
browser tests: an overdue emergency asking district duty officers to relay it, planned works, two rejected rows (one
hostile), a record whose form row was deleted from the sheet, one resolved and one cancelled by phone, a phone
report with its caller, and a failed message. Built through the real sync and the console's own actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rows import emergency, planned, table
from sqlalchemy import select, update

from outages.console import actions
from outages.records.sync import sync
from outages.schema import outbox

KYIV = ZoneInfo("Europe/Kyiv")
SYNCED = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
NOW = datetime(2026, 11, 22, 23, 0, tzinfo=KYIV)  # three hours after №1's term (20:00)
OPERATOR = "olha@contact.example.org"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
CALLER = "Диспетчер Обленерго Степан Мельник, 067 111 22 33"
LONG = "Пошкодження кабельної лінії 10 кВ на перехресті " + "вулиць Соборної та Адміральської " * 6
# The records, by number, as `console_city` leaves them.
ACTIVE, PLANNED, GONE, RESOLVED, CANCELLED, PHONE = 1, 2, 3, 4, 5, 6
PHONE_REPORT = {
    "kind": "emergency", "executor": "АТ «Обленерго»", "service": "Електропостачання", "districts": "Центральний",
    "addresses": "вул. Соборна, 10-16; " + "вул. Адміральська, 1-99; " * 4, "summary": LONG,
    "cause": "Механічне пошкодження під час земляних робіт", "impact": "Немає світла",
    "event_at": "2026-11-22T18:30", "expected_end": "2026-11-23T06:00", "reported_at": "2026-11-22T18:45",
    "caller": CALLER,
}


def console_city(engine, settings) -> None:
    sheet = [emergency(), planned(),
             emergency(districts="Південний", addresses="вул. Херсонська, 5", summary="Немає води",
                       contact_name="Олена Коваль", contact_phone="067 123 45 67", reporter_email="olena@example.org",
                       recorded_at="22.11.2026 15:10:00", event_at="22.11.2026 15:00"),
             emergency(districts="Нікуди", summary=HOSTILE, contact_name=HOSTILE, contact_phone="+380 50 111 2233",
                       reporter_email="x@example.org", recorded_at="22.11.2026 15:20:00"),
             emergency(addresses="вул. Адміральська, 3", summary="Немає тиску", recorded_at="22.11.2026 14:10:00",
                       event_at="22.11.2026 14:00", expected_end="23.11.2026 08:00"),
             emergency(addresses="вул. Потьомкінська, 20", summary="Порив на вводі", recorded_at="22.11.2026 14:20:00",
                       event_at="22.11.2026 14:10", expected_end="23.11.2026 08:00"),
             emergency(addresses="вул. Фалеєвська, 7", summary="Витік на колодязі", recorded_at="22.11.2026 14:30:00",
                       event_at="22.11.2026 14:20", expected_end="23.11.2026 08:00")]
    sync(engine, table(*sheet), settings, SYNCED)
    # The dispatcher deletes row 6 (record №3): nothing in the sheet can close it now.
    sync(engine, table(*sheet[:4], None, *sheet[5:]), settings, SYNCED + timedelta(minutes=5))
    actions.resolve(engine, RESOLVED, "Водопостачання відновлено, бригада поїхала", "2026-11-22T18:20",
                    actor=OPERATOR, settings=settings, now=SYNCED + timedelta(minutes=30))
    actions.cancel(engine, CANCELLED, "Хибний виклик: витоку немає, підтвердив диспетчер", actor=OPERATOR,
                   settings=settings, now=SYNCED + timedelta(minutes=35))
    actions.enter(engine, PHONE_REPORT, actor=OPERATOR, settings=settings, now=SYNCED + timedelta(minutes=50))
    with engine.begin() as conn:
        conn.execute(update(outbox).values(status="sent", sent_at=NOW - timedelta(hours=2)))
        failed = conn.execute(select(outbox.c.id).where(outbox.c.relay.is_(False), outbox.c.record_number == ACTIVE)
                              .order_by(outbox.c.id)).scalars().first()
        assert failed is not None, "the settings must have officials to tell (mail_settings)"
        conn.execute(update(outbox).where(outbox.c.id == failed).values(
            status="failed", sent_at=None, failed_at=NOW - timedelta(minutes=30), attempts=7,
            last_error="550 5.1.1 mailbox unavailable " + HOSTILE))
