"""One pipeline behind three doors (/report, the bot's /report, Open311's POST requests, and the console's phone):
read what a resident said, answer from the known records first, otherwise keep the report for moderation — or, at
night, forward an SOS report at once (seed 000 4.9.1) — and raise the crowd signal.

A report of a service on a house that an active record of that service covers is that record's matter: it is
attached at once, public, open while the record is (no moderation, nothing forwarded: the utility wrote the
record). Everything else waits for the contact centre (seed 002: premoderation), and nothing of it is public before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from outages.officials.words import reader_day, reader_time
from outages.places.addresses import AddressQuery
from outages.places.index import condition, districts_of
from outages.places.search import Filters
from outages.records.state import live
from outages.records.views import RecordView, get_record
from outages.reports import crowd, forward, tell
from outages.reports.options import ReportOptions, Service, report_options
from outages.reports.store import (
    DESCRIPTION_MAX,
    OPEN,
    PENDING,
    SOURCES,
    get,
    new_token,
    taken_words,
)
from outages.schema import records, reports
from outages.settings import Settings
from outages.text import clean, one_line


class Refused(Exception):
    """The report cannot be taken; `errors` maps each field to what the resident should fix (Ukrainian)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class TooMany(Exception):
    """This client sent `reports.limit_per_hour` reports within the hour; `retry_after` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many reports; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Intake:
    service_code: str
    address: str
    description: str = ""
    email: str = ""
    name: str = ""
    phone: str = ""
    chat_id: str = ""
    source: str = "web"
    client: str = ""  # who sent it (an IP address, «tg:<chat>»): the rate limit's key, erased with the contacts


@dataclass(frozen=True)
class Received:
    report: Any  # the stored row
    record: RecordView | None  # the known record it was attached to
    notice: str  # the answer, in the resident's words
    service: Service


def submit(conn: Connection, settings: Settings, intake: Intake, now: datetime) -> Received:
    """Take one report in the caller's transaction; Refused (nothing stored) or TooMany."""
    options = report_options(settings)
    service, query, fields = _read(conn, settings, options, intake)
    if intake.client and _sent_within_hour(conn, intake.client, now) >= options.limit_per_hour:
        first = conn.execute(select(func.min(reports.c.created_at)).where(
            reports.c.client == intake.client, reports.c.created_at > now - timedelta(hours=1))).scalar()
        raise TooMany(max(1, int(((first or now) + timedelta(hours=1) - now).total_seconds())))
    record = covering_record(conn, settings, service, query, now)
    values = dict(fields, token=new_token(), created_at=now, updated_at=now, public=False, unmoderated=False,
                  status=PENDING, note="")
    if record is not None:
        values.update(status=OPEN, public=True, record_number=record.number, note=taken_words(record.number))
    report_id = conn.execute(reports.insert().values(**values)).inserted_primary_key[0]
    report = get(conn, report_id)
    tell.confirm_email(conn, settings, report, now)
    if record is not None:
        return Received(report, record, known_notice(record, settings, now), service)
    opens = options.opens(now, settings.tz)
    if opens != now and service.sos:
        report = forward.forward(conn, settings, report, now, unmoderated=True)
    crowd.check(conn, settings, report, now)
    return Received(report, None, waiting_notice(report, service, options, settings, now), service)


def covering_record(conn: Connection, settings: Settings, service: Service, query: AddressQuery,
                    now: datetime) -> RecordView | None:
    """The newest live record of the service whose addresses cover the house (or, without a house, name the
    street; a whole-district record covers every house of its districts)."""
    where = [records.c.service == service.name, live(records.c, now), condition(query, settings.streets)]
    # The newest number alone, then that record: page_records would also count every match, which in a blackout
    # (10,000 live records, bench/reports_bench.py) tripled the intake's time.
    number = conn.execute(select(records.c.number).where(*where).order_by(records.c.number.desc()).limit(1)).scalar()
    return get_record(conn, number, now) if number is not None else None


def known_notice(record: RecordView, settings: Settings, now: datetime) -> str:
    today = reader_day(now, settings.tz)
    until = reader_time(record.expected_end, settings.tz, today, "до")
    what = one_line(record.summary) or record.kind.uk
    term = f" Відновлення очікується {until}." if until else ""
    return (f"Про це вже відомо: запис №{record.number}, {one_line(record.service)} — {what}.{term} "
            f"Ваше повідомлення додано до запису №{record.number}; щойно роботу виконають, статус зміниться на "
            f"«Роботу виконано».")


def waiting_notice(report: Any, service: Service, options: ReportOptions, settings: Settings,
                   now: datetime) -> str:
    if report.unmoderated:
        within = int(options.take_within(service).total_seconds() // 60)
        return (f"Повідомлення передано виконавцю ({service.utility or 'Контакт-центр'}) і черговому району одразу, "
                f"без перевірки: зараз неробочий час Контакт-центру. Виконавець має взяти його в роботу протягом "
                f"{within} хв.")
    opens = options.opens(now, settings.tz)
    if opens == now:
        return ("Повідомлення отримано. Контакт-центр перевірить його і передасть виконавцю; до перевірки воно "
                "ніде не публікується.")
    when = reader_time(opens, settings.tz, reader_day(now, settings.tz), "з")
    return (f"Повідомлення отримано. Контакт-центр перевірить його {when} і передасть виконавцю; до перевірки "
            f"воно ніде не публікується.")


def _read(conn: Connection, settings: Settings, options: ReportOptions,
          intake: Intake) -> tuple[Service, AddressQuery, dict[str, Any]]:
    errors: dict[str, str] = {}
    service = options.service(intake.service_code.strip())
    if service is None:
        errors["service_code"] = ("Оберіть послугу зі списку: " + ", ".join(f"{s.code} ({s.name})"
                                                                      for s in options.services))
    address = one_line(intake.address)[:300]
    query = Filters(query=address, streets=settings.streets).address(conn) if address else None
    if not address:
        errors["address_string"] = "Вкажіть адресу: вулицю і номер будинку, наприклад «Соборна 14»."
    elif query is None or not query.street_keys:
        errors["address_string"] = (f"Не знайшли вулицю в «{address}». Напишіть назву вулиці і номер будинку, "
                                    "наприклад «Соборна 14».")
    elif len(query.street_keys) > 1:
        errors["address_string"] = ("Уточніть вулицю: " + " або ".join(query.streets[:4])
                                    + f" (напишіть, наприклад, «{query.streets[0]} 14»).")
    description = clean(intake.description).strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Опис задовгий: {len(description)} символів, можна до {DESCRIPTION_MAX}."
    email = one_line(intake.email).strip()
    if email and ("@" not in email or len(email) > 254 or any(c in email for c in " <>,;")):
        errors["email"] = f"Адреса e-mail «{email[:60]}» не схожа на справжню."
    if intake.source not in SOURCES:
        raise ValueError(f"unknown source {intake.source!r}")
    if errors:
        raise Refused(errors)
    assert service is not None and query is not None
    fields = {
        "source": intake.source, "service_code": service.code, "address": address,
        "street_key": query.street_keys[0], "street": query.streets[0], "house": query.house,
        "suffix": query.suffix, "districts": list(districts_of(settings.streets, query.street_keys[:1])),
        "description": description, "email": email, "name": one_line(intake.name)[:200],
        "phone": one_line(intake.phone)[:100], "chat_id": one_line(intake.chat_id)[:50],
        "client": one_line(intake.client)[:100],
    }
    return service, query, fields


def _sent_within_hour(conn: Connection, client: str, now: datetime) -> int:
    return int(conn.execute(select(func.count()).select_from(reports).where(
        reports.c.client == client, reports.c.created_at > now - timedelta(hours=1))).scalar() or 0)


def address_refusal(conn: Connection, settings: Settings, address: str) -> str | None:
    """What `submit` would say of this address (None: it would take it), for a door that asks one field at a time
    (the bot) and wants to ask the address again at once rather than after the description. The same reading as
    `submit`'s, so the words cannot drift apart."""
    options = report_options(settings)
    probe = Intake(service_code=options.services[0].code if options.services else "", address=address)
    try:
        _read(conn, settings, options, probe)
    except Refused as refused:
        return refused.errors.get("address_string")
    return None
