"""The one-line answer to a resident who searched for a house: what is off there now and until when, and what
is planned there — or that nothing is. Pure: records, the query and the clock in, words out (Ukrainian, or
English for ?lang=en)."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from outages.places.addresses import AddressQuery
from outages.records.model import Kind
from outages.records.views import RecordView

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = {"uk": ("пн", "вт", "ср", "чт", "пт", "сб", "нд"), "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_WORDS = {
    "uk": {
        "at": "За адресою {address}",
        "now": "зараз: {items}",
        "nothing_now": "зараз нічого не вимкнено",
        "planned": "заплановано: {items}",
        "nothing_planned": "планових робіт не заплановано",
        "nothing_else_planned": "інших планових робіт не заплановано",
        "until": "до {when}",
        "no_end": "термін не вказано",
        "overdue": "термін минув {when}, новий не повідомлено",
        "from_to": "{start} – {end}",
        "from": "з {start}",
        "emergency": "аварія",
        "works": "планові роботи",
        "number": "№{n}",
        "at_time": "{day} {date} о {time}",
        "no_street": "Вулицю «{text}» не знайдено в довіднику міста",
        "whole": "увесь район: {districts}",
    },
    "en": {
        "at": "At {address}",
        "now": "now: {items}",
        "nothing_now": "nothing is off now",
        "planned": "planned: {items}",
        "nothing_planned": "no planned works",
        "nothing_else_planned": "no other planned works",
        "until": "until {when}",
        "no_end": "no time to fix given",
        "overdue": "time to fix passed {when}, no new one given",
        "from_to": "{start} – {end}",
        "from": "from {start}",
        "emergency": "emergency",
        "works": "planned works",
        "number": "No. {n}",
        "at_time": "{day} {date} at {time}",
        "no_street": "No street «{text}» in the city's street list",
        "whole": "the whole district: {districts}",
    },
}


def answer(query: AddressQuery, covering: Iterable[RecordView], now: datetime, tz: ZoneInfo, lang: str = "uk",
           service_name: Callable[[str], str] = lambda name: name) -> str | None:
    """The line for a query with a house (None without one); `covering` are the records covering it."""
    words = _WORDS["en" if lang == "en" else "uk"]
    if not query.street_keys:
        return words["no_street"].format(text=query.text) if query.text else None
    if query.house is None:
        return None

    def at_time(moment: datetime) -> str:
        local = moment.astimezone(tz)
        days = _DAYS["en" if lang == "en" else "uk"]
        # «6 Dec» in English: 06.12 reads as the 12th of June to many readers of English.
        date = f"{local.day} {_MONTHS_EN[local.month - 1]}" if lang == "en" else local.strftime("%d.%m")
        return words["at_time"].format(day=days[local.weekday()], date=date, time=local.strftime("%H:%M"))

    def kind(record: RecordView) -> str:
        said = f"{words['emergency' if record.kind is Kind.EMERGENCY else 'works']}, " + words["number"].format(
            n=record.number)
        if not record.addresses.strip() and record.districts:  # a whole-district record (no «Адреси»)
            said += ", " + words["whole"].format(districts=", ".join(record.districts))
        return said

    # The record's one computed state (outages.records.state): planned works past their stated end are over.
    active = sorted((r for r in covering if r.live), key=lambda r: (r.event_at, r.number))
    off, coming = [], []
    for record in active:
        name = service_name(record.service)
        if record.kind is Kind.EMERGENCY or record.event_at <= now:
            if record.expected_end is None:
                end = words["no_end"]
            elif record.overdue:
                end = words["overdue"].format(when=at_time(record.expected_end))
            else:
                end = words["until"].format(when=at_time(record.expected_end))
            off.append(f"{name} ({kind(record)}) — {end}")
        else:
            span = (words["from_to"].format(start=at_time(record.event_at), end=at_time(record.expected_end))
                    if record.expected_end else words["from"].format(start=at_time(record.event_at)))
            coming.append(f"{name} ({kind(record)}) — {span}")
    # Works under way are said among what is off now: then "no planned works" would contradict the line.
    works_now = any(r.kind is Kind.PLANNED and r.event_at <= now for r in active)
    none_coming = words["nothing_else_planned" if works_now else "nothing_planned"]
    parts = [words["now"].format(items="; ".join(off)) if off else words["nothing_now"],
             words["planned"].format(items="; ".join(coming)) if coming else none_coming]
    return words["at"].format(address=query.label) + " " + ". ".join(
        [parts[0], parts[1][0].upper() + parts[1][1:]]) + "."
