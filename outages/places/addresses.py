"""The «Адреси» cell as data: streets and the houses on them, and whether a record covers a resident's house.

Dispatchers follow the habits of Ukrainian utility notices (docs/web.md, "Search"):

    вул. Соборна, 12, 14                  two houses
    вул. Потьомкінська, 120-160           a range (also 1–25 with an en dash, «з 1 по 25»)
    вул. Соборна, непарні 1-25            one side of a range; «парна сторона» alone: the whole even side
    12а, 12/1, 12 корп. 2                 a house with a suffix: that building only
    просп. Центральний, 1-15; вул. Садова several streets, separated by «;» (or a new street type after a comma)
    вул. Садова                           no houses: the whole street
    перехрестя вул. Соборна / просп. Миру a crossing: both streets are named, no house is covered

A range covers every building whose number is in it (suffixes included: 130а is within 120-160); a single
house covers that number with the same suffix only (12 is not 12а). Parsing never fails: what cannot be read
as houses leaves the street counted as a whole, so nobody on it misses the record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from outages.places import latin
from outages.places.streets import TYPES, Streets, fuzzy_keys, split_type
from outages.text import clean

ODD, EVEN = "odd", "even"


@dataclass(frozen=True)
class Span:
    """Houses on one street: lo..hi (hi None: to the end of the street), one side or both; for a single house
    (lo == hi) its suffix («а», «/1», «к2»)."""

    lo: int
    hi: int | None
    parity: str | None = None
    suffix: str = ""

    @property
    def single(self) -> bool:
        return self.hi == self.lo

    def covers(self, house: int, suffix: str = "") -> bool:
        if house < self.lo or (self.hi is not None and house > self.hi):
            return False
        if self.parity is not None and (ODD if house % 2 else EVEN) != self.parity:
            return False
        return not self.single or self.suffix == suffix

    def as_json(self) -> dict[str, Any]:
        return {"lo": self.lo, "hi": self.hi, "parity": self.parity, "suffix": self.suffix}

    def describe(self) -> str:
        side = {ODD: "непарні ", EVEN: "парні "}.get(self.parity or "", "")
        if self.single:
            return f"{self.lo}{_show_suffix(self.suffix)}"
        if self.hi is None:
            return f"{side}від {self.lo}" if self.lo > 1 else (side + "сторона").replace("і сторона", "а сторона")
        return f"{side}{self.lo}–{self.hi}"


@dataclass(frozen=True)
class AddressItem:
    street_key: str
    street: str  # as the catalogue names it, or as typed when the catalogue does not know it
    known: bool
    whole: bool  # no houses named: the whole street
    spans: tuple[Span, ...] = ()  # empty and not whole: the street is only named (a crossing)

    def as_json(self) -> dict[str, Any]:
        return {"street": self.street, "street_key": self.street_key, "known": self.known, "whole": self.whole,
                "houses": [span.as_json() for span in self.spans]}

    def describe(self) -> str:
        if self.whole:
            return f"{self.street} (уся вулиця)"
        if not self.spans:
            return self.street
        return f"{self.street}, " + ", ".join(span.describe() for span in self.spans)


@dataclass(frozen=True)
class ParsedAddresses:
    items: tuple[AddressItem, ...] = ()
    unknown_streets: tuple[str, ...] = ()  # as typed, for the dispatcher's verdict

    def as_json(self) -> list[dict[str, Any]]:
        return [item.as_json() for item in self.items]


@dataclass(frozen=True)
class AddressQuery:
    """A resident's search: the streets it may mean (keys), and a house if one was typed."""

    text: str
    street_keys: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()  # their names, for the answer's words
    house: int | None = None
    suffix: str = ""

    @property
    def label(self) -> str:
        """The address as the answer names it: «вул. Соборна, 14»."""
        street = self.streets[0] if len(self.streets) == 1 else self.text
        if self.house is None or len(self.streets) != 1:
            return street
        return f"{street}, {self.house}{_show_suffix(self.suffix)}"


def covers(item: AddressItem, query: AddressQuery) -> bool:
    """Whether a parsed address item is what the query asks about: the same street, and (with a house) a span
    covering the house or the whole street."""
    if item.street_key not in query.street_keys:
        return False
    if query.house is None or item.whole:
        return True
    return any(span.covers(query.house, query.suffix) for span in item.spans)


# ---- reading the cell -------------------------------------------------------------------------------------

_CROSSING = re.compile(r"^\s*(?:перехрестя|перетин|ріг|розі|перекресток)(?:\s+(?:вулиць|вулиці|вул\.?))?\s+",
                       re.IGNORECASE)
_CROSSING_SPLIT = re.compile(r"\s*(?:/|\\|\s(?:та|і|й|и)\s|&)\s*", re.IGNORECASE)
_ODD = re.compile(r"непарн\w*|нечетн\w*|нечётн\w*", re.IGNORECASE)
_EVEN = re.compile(r"парн\w*|четн\w*|чётн\w*", re.IGNORECASE)
_RANGE = re.compile(r"(?<!\d)(\d{1,4})\s*(?:-|–|—|\.\.)\s*(\d{1,4})(?!\d)"
                    r"|(?:з|від|с|от)\s+(\d{1,4})\s+(?:по|до)\s+(\d{1,4})(?!\d)", re.IGNORECASE)
_FROM = re.compile(r"(?:від|з|с|от)\s+(\d{1,4})(?!\d)", re.IGNORECASE)
_HOUSE = re.compile(
    r"(?<![\w/])(\d{1,4})"
    r"(?:\s*-?\s*([а-яієїґa-z])(?![\w]))?"  # 12а, 12-А, 12 б
    r"(?:\s*/\s*(\d{1,4}))?"  # 12/1
    r"(?:\s*,?\s*(?:корп(?:ус)?|к)\.?\s*(\d{1,3}))?",  # 12 корп. 2
    re.IGNORECASE,
)
_BUILDING = re.compile(r"корп(?:ус)?\.?\s*(\d{1,3})", re.IGNORECASE)
# Inside a building, not a building: an entrance or a flat follows the house it belongs to.
_INSIDE = re.compile(r"під['’ʼ]?їзд|подъезд|\bкв\.|квартир|поверх|этаж|\bп\.\s*\d", re.IGNORECASE)
_NOISE = re.compile(r"\b(?:будинки|будинок|буд|дома|дом|д|№|сторона|side|houses?)\b\.?|№", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{3,}")
_NEW_STREET = re.compile(r"^\s*" + r"(?:" + "|".join(re.escape(t) for t in sorted(TYPES, key=len, reverse=True))
                         + r")(?:\.|\s)", re.IGNORECASE)
# The street name, then houses: the name ends with a word that has a letter («8 Березня 41»: houses «41»).
_NAME_THEN_HOUSES = re.compile(
    r"^(?P<name>.*?[^\W\d_][^\s,]*)\s+(?P<houses>(?:(?:не)?парн\w*\s*|№\s*|буд\.?\s*|будинки?\s*)*\d.*)$",
    re.IGNORECASE)
_LATIN_LOOKALIKES = str.maketrans("aeiopcxbkmht", "аеіорсхвкмнт")


def parse_addresses(text: str, streets: Streets) -> ParsedAddresses:
    """The «Адреси» cell as items of (street, houses); never raises."""
    items: list[AddressItem] = []
    unknown: list[str] = []
    for chunk in re.split(r"[;\n]+", clean(text)):
        chunk = chunk.strip(" ,.")
        if not chunk:
            continue
        crossing = _CROSSING.match(chunk)
        if crossing:
            for name in _CROSSING_SPLIT.split(chunk[crossing.end():]):
                if name.strip(" ,."):
                    items.append(_item(name, streets, unknown, whole=False, spans=[]))
            continue
        for name, parts in _streets_in(chunk, streets):
            spans = _spans(parts)
            items.append(_item(name, streets, unknown, whole=not spans, spans=spans))
    return ParsedAddresses(tuple(items), tuple(dict.fromkeys(unknown)))


def _streets_in(chunk: str, streets: Streets) -> list[tuple[str, list[str]]]:
    """(street name, house parts) for each street of a chunk: a comma-part starting with a street type, or one
    without numbers that names a catalogue street, starts the next street; other words («біля школи») are
    notes on the street before."""
    out: list[tuple[str, list[str]]] = []
    for part in (p.strip() for p in chunk.split(",")):
        if not part:
            continue
        starts_street = not out or _NEW_STREET.match(part) or (
            not re.search(r"\d", part) and _WORD.search(_ODD.sub("", _EVEN.sub("", _NOISE.sub("", part))))
            and not _INSIDE.search(part) and streets.candidates(part, loose=False))
        if starts_street:
            name, houses = _name_and_houses(part)
            out.append((name, [houses] if houses else []))
        else:
            out[-1][1].append(part)
    return out


def _name_and_houses(text: str) -> tuple[str, str]:
    """«вул. Соборна 12» -> («вул. Соборна», «12»); «вул. 8 Березня» -> («вул. 8 Березня», "")."""
    kind, rest = split_type(text)
    match = _NAME_THEN_HOUSES.match(rest)
    if not match:
        return text, ""
    name = match.group("name")
    return (f"{kind} {name}" if kind else name), match.group("houses")


def _spans(parts: list[str]) -> list[Span]:
    spans: list[Span] = []
    for part in parts:
        if _INSIDE.search(part):
            part = part[:_INSIDE.search(part).start()]  # «81/1, під'їзд 3»: the entrance is inside 81/1
        building = _BUILDING.fullmatch(part.strip())
        if building and spans and spans[-1].single:
            # «12, корп. 2»: the building of the house just named.
            last = spans.pop()
            spans.append(Span(last.lo, last.hi, None, last.suffix + "к" + building.group(1)))
            continue
        parity = ODD if _ODD.search(part) else EVEN if _EVEN.search(part) else None
        rest = _EVEN.sub(" ", _ODD.sub(" ", part))
        found = False
        for match in _RANGE.finditer(rest):
            lo, hi = sorted(int(n) for n in (match.group(1) or match.group(3), match.group(2) or match.group(4)))
            spans.append(Span(lo, hi, parity))
            found = True
        rest = _RANGE.sub(" ", rest)
        start = _FROM.search(rest)
        if start:
            spans.append(Span(int(start.group(1)), None, parity))
            rest = _FROM.sub(" ", rest)
            found = True
        for match in _HOUSE.finditer(_NOISE.sub(" ", rest)):
            spans.append(Span(int(match.group(1)), int(match.group(1)), None, _suffix(match)))
            found = True
        if not found and parity is not None:
            spans.append(Span(1, None, parity))  # «парна сторона»: the whole even side
    return spans


def _suffix(match: re.Match[str], letters: dict[int, Any] = _LATIN_LOOKALIKES) -> str:
    """«а», «/1», «к2»: a Latin letter is the Cyrillic one it looks like, or (`letters`, for a search typed in
    Latin) the one it romanises («12b» is 12б)."""
    letter, fraction, building = match.group(2), match.group(3), match.group(4)
    out = (letter or "").casefold().translate(letters).translate(_LATIN_LOOKALIKES)
    if fraction:
        out += "/" + fraction
    if building:
        out += "к" + building
    return out


def _show_suffix(suffix: str) -> str:
    return re.sub(r"к(\d+)", r" корп. \1", suffix)


def _item(name: str, streets: Streets, unknown: list[str], whole: bool, spans: list[Span]) -> AddressItem:
    name = " ".join(name.split()).strip(" ,.")
    match = streets.resolve(name)
    if not match.known:
        unknown.append(match.name)
    return AddressItem(match.key, match.name, match.known, whole, tuple(spans))


# ---- reading a resident's search ----------------------------------------------------------------------------

def parse_query(text: str, streets: Streets, other_streets: dict[str, str] | None = None) -> AddressQuery:
    """«Потьомкінська 130», «вул. Соборна, 14», «Фалеевская 5», «Соборна», «Soborna 14»: the streets it may mean
    and the house. `other_streets` (key -> name) are streets records name that the catalogue does not know."""
    typed = " ".join(clean(text).replace(",", " ").split())
    if not typed:
        return AddressQuery(text="")
    house, suffix, name = None, "", typed
    street, houses = _name_and_houses(typed)
    found_house = _HOUSE.search(_NOISE.sub(" ", houses)) if houses else None
    if found_house:
        letters = latin.HOUSE_LETTERS if latin.is_latin(split_type(street)[1]) else _LATIN_LOOKALIKES
        name, house, suffix = street, int(found_house.group(1)), _suffix(found_house, letters)
    found = streets.candidates(name)
    keys = [s.key for s in found]
    names = [s.full_name for s in found]
    for key in fuzzy_keys(name, other_streets or {}):
        if key not in keys:
            keys.append(key)
            names.append((other_streets or {})[key])
    return AddressQuery(text=typed, street_keys=tuple(keys), streets=tuple(names), house=house, suffix=suffix)

