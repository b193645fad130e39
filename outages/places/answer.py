"""The one-line answer to a resident who searched for a house: what is off there now and until when, and what
is planned there — or that nothing is. Pure: records, the query and the clock in, words out (Ukrainian, or
English for ?lang=en).

Each of its two lists names at most ITEMS records; the rest are counted, «і ще 2 995 записів — переглянути всі»,
and the words «переглянути всі» lead to the site's paged list of the section holding them. A house under 3,000
records in a blackout would otherwise answer in hundreds of KB. The bot's reply (outages/residents/bot.py) follows
the same rule (`bounded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Sequence, TypeVar
from zoneinfo import ZoneInfo

from outages.places.addresses import AddressQuery
from outages.records.model import Kind
from outages.records.views import RecordView
from outages.text import plural_word

ITEMS = 10  # records named per list of an answer: the site's line and the bot's reply
T = TypeVar("T")


def bounded(items: Sequence[T]) -> tuple[list[T], int]:
    """The first ITEMS of `items`, and how many more there are."""
    return list(items[:ITEMS]), max(0, len(items) - ITEMS)

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
        "more": "і ще {count}",
        "see_all": "переглянути всі",
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
        "more": "and {count} more",
        "see_all": "see all",
    },
}


@dataclass(frozen=True)
class Piece:
    text: str
    section: str | None = None  # the words lead to this section's paged list of the same search (web: a link)


@dataclass(frozen=True)
class Answer:
    """The line in pieces: plain text, and the «переглянути всі» words with the list they lead to."""

    pieces: tuple[Piece, ...]

    def __str__(self) -> str:
        return "".join(piece.text for piece in self.pieces)


def answer(query: AddressQuery, covering: Iterable[RecordView], now: datetime, tz: ZoneInfo, lang: str = "uk",
           service_name: Callable[[str], str] = lambda name: name) -> str | None:
    """The line for a query with a house as plain text (None without one); `covering` are the records covering it."""
    said = answer_pieces(query, covering, now, tz, lang, service_name)
    return None if said is None else str(said)


@dataclass(frozen=True)
class Split:
    """The records covering a house as the line words them, each list by time: what is off now (emergencies, and
    works under way) and the works still to come. Made once per set of covering records (web/houses.py)."""

    off: list[RecordView]
    coming: list[RecordView]
    works_now: bool  # planned works are among what is off now
    off_more: str  # the section the «see all» of what is off leads to


def split(covering: Iterable[RecordView], now: datetime) -> Split:
    # The record's one computed state (outages.records.state): planned works past their stated end are over.
    active = sorted((r for r in covering if r.live), key=lambda r: (r.event_at, r.number))
    off = [r for r in active if r.kind is Kind.EMERGENCY or r.event_at <= now]
    coming = [r for r in active if not (r.kind is Kind.EMERGENCY or r.event_at <= now)]
    # The rest of what is off: the emergencies' list when any of them is among the rest, else works under way.
    more = "emergencies" if any(r.kind is Kind.EMERGENCY for r in off[ITEMS:]) else "ongoing"
    return Split(off, coming, any(r.kind is Kind.PLANNED for r in off), more)


def answer_pieces(query: AddressQuery, covering: Iterable[RecordView] | Split, now: datetime, tz: ZoneInfo,
                  lang: str = "uk", service_name: Callable[[str], str] = lambda name: name) -> Answer | None:
    """The line for a query with a house (None without one), each list bounded to ITEMS records; `covering`: the
    records covering the house, or their `split` at `now`."""
    words = _WORDS["en" if lang == "en" else "uk"]
    if not query.street_keys:
        return Answer((Piece(words["no_street"].format(text=query.text)),)) if query.text else None
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

    def off_now(record: RecordView) -> str:
        if record.expected_end is None:
            end = words["no_end"]
        elif record.overdue:
            end = words["overdue"].format(when=at_time(record.expected_end))
        else:
            end = words["until"].format(when=at_time(record.expected_end))
        return f"{service_name(record.service)} ({kind(record)}) — {end}"

    def planned(record: RecordView) -> str:
        span = (words["from_to"].format(start=at_time(record.event_at), end=at_time(record.expected_end))
                if record.expected_end else words["from"].format(start=at_time(record.event_at)))
        return f"{service_name(record.service)} ({kind(record)}) — {span}"

    def count(n: int) -> str:
        if lang == "en":
            return f"{n:,}"
        # 2 995 as Ukrainian writes it, the digits kept on one line.
        return f"{n:,}".replace(",", "\u00a0") + " " + plural_word(n, "запис", "записи", "записів")

    def listed(records: list[RecordView], say: Callable[[RecordView], str], section: str) -> list[Piece]:
        shown, rest = bounded(records)
        text = "; ".join(say(r) for r in shown)
        if not rest:
            return [Piece(text)]
        return [Piece(f"{text}; {words['more'].format(count=count(rest))} — "), Piece(words["see_all"], section)]

    parts = covering if isinstance(covering, Split) else split(covering, now)
    off, coming = parts.off, parts.coming
    pieces = [Piece(words["at"].format(address=query.label) + " ")]
    if off:
        head, _, tail = words["now"].partition("{items}")
        pieces += [Piece(head), *listed(off, off_now, parts.off_more), Piece(tail)]
    else:
        pieces.append(Piece(words["nothing_now"]))
    pieces.append(Piece(". "))
    # Works under way are said among what is off now: then "no planned works" would contradict the line.
    works_now = parts.works_now
    if coming:
        head, _, tail = words["planned"].partition("{items}")
        pieces += [Piece(head[0].upper() + head[1:]), *listed(coming, planned, "upcoming"), Piece(tail)]
    else:
        none_coming = words["nothing_else_planned" if works_now else "nothing_planned"]
        pieces.append(Piece(none_coming[0].upper() + none_coming[1:]))
    pieces.append(Piece("."))
    return Answer(tuple(piece for piece in pieces if piece.text))
