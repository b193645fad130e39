"""The city's street catalogue (`[[streets]]` in the settings) and how a typed street name is found in it.

Residents and dispatchers type a street any way they know it: any case, with or without «вул.», with one of the
apostrophe look-alikes, in Russian («Фалеевская»), under a former name («Радянська»), or with a typo
(«Потьомкинська»). Each spelling is reduced to a *skeleton* (no type word, no apostrophes or soft signs, the
letters Ukrainian and Russian spell differently folded together), and skeletons are compared with rapidfuzz.
A name typed in Latin letters («Soborna», «vul. Potiomkinska») is compared the same way with the catalogue's
names romanised (outages/places/latin.py); a name with any Cyrillic letter never is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from outages.places import latin
from outages.text import fold

# Street-type words (Ukrainian, Russian, English and romanised spellings and abbreviations) -> the canonical
# abbreviation.
TYPES: dict[str, str] = {}
for _canonical, _spellings in {
    "вул.": ("вулиця", "вул", "ул", "улица", "street", "st", "str", "vul", "vulytsia", "vulytsya", "ul", "ulitsa"),
    "просп.": ("проспект", "просп", "пр-т", "пр-кт", "пр", "avenue", "ave", "av", "prosp", "prospekt", "prospect",
               "pr-t", "pr"),
    "пров.": ("провулок", "пров", "переулок", "пер", "lane", "ln", "prov", "provulok", "per", "pereulok"),
    "бульв.": ("бульвар", "бульв", "бул", "б-р", "boulevard", "blvd", "bulv", "bulvar"),
    "пл.": ("площа", "пл", "площадь", "square", "sq", "pl", "ploshcha"),
    "узвіз": ("узвіз", "спуск", "uzviz", "descent"),
    "шосе": ("шосе", "шоссе", "highway", "shose"),
    "наб.": ("набережна", "наб", "набережная", "embankment", "nab", "naberezhna"),
    "майдан": ("майдан", "maidan"),
    "тупик": ("тупик", "tupyk"),
    "проїзд": ("проїзд", "проезд", "proizd", "passage"),
    "сквер": ("сквер", "skver"),
    "парк": ("парк", "park"),
    "алея": ("алея", "аллея", "alley", "aleia"),
    "мкр.": ("мікрорайон", "микрорайон", "мкр", "мікр", "mkr", "mikroraion", "microdistrict"),
}.items():
    for _spelling in _spellings:
        TYPES[_spelling] = _canonical

_TYPE_WORD = r"(?:" + "|".join(re.escape(t) for t in sorted(TYPES, key=len, reverse=True)) + r")"
_LEADING_TYPE = re.compile(r"^\s*(" + _TYPE_WORD + r")(?:\.|\s|$)\s*", re.IGNORECASE)
_TRAILING_TYPE = re.compile(r"\s+(" + _TYPE_WORD + r")\.?\s*$", re.IGNORECASE)

# Letters Ukrainian and Russian spell differently, soft signs and apostrophes: folded away for comparison.
_SKELETON = str.maketrans({
    "є": "е", "э": "е", "ё": "е", "і": "и", "ї": "и", "ы": "и", "й": "и", "ґ": "г",
    "ь": None, "ъ": None, "'": None, "-": " ", ".": " ", ",": " ",
})
# A street found by its skeleton: 100 is the same spelling; 85 forgives a letter or two in a name.
CUTOFF = 85


@lru_cache(maxsize=16384)  # the same few thousand street spellings, over and over in a sync or a reindex
def split_type(text: str) -> tuple[str, str]:
    """(canonical type or "", the name without it) of a typed street: «вул. Соборна» -> («вул.», «Соборна»),
    «Каштановий сквер» -> («сквер», «Каштановий»)."""
    name = " ".join(str(text).split())
    kind = ""
    match = _LEADING_TYPE.match(name)
    if match and match.end() < len(name):
        kind, name = TYPES[match.group(1).casefold()], name[match.end():]
    else:
        match = _TRAILING_TYPE.search(name)
        if match and match.start() > 0:
            kind, name = TYPES[match.group(1).casefold()], name[:match.start()]
    return kind, name.strip(" .,")


_NOT_WORD = re.compile(r"[^\w\s]+")


@lru_cache(maxsize=16384)
def skeleton(name: str) -> str:
    """What is compared: the name without its type, case, punctuation, apostrophes, soft signs and uk/ru letter
    differences."""
    return " ".join(_NOT_WORD.sub(" ", fold(split_type(name)[1]).translate(_SKELETON)).replace("_", " ").split())


def street_key(kind: str, name: str) -> str:
    """The stored identity of a street: its canonical type and name, folded («вул. соборна»)."""
    return fold(f"{kind} {name}")


@dataclass(frozen=True)
class Street:
    name: str  # without the type: «Соборна»
    type: str = "вул."
    districts: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # former names, Russian spellings, other ways of writing it
    en: str = ""

    @property
    def full_name(self) -> str:
        """As the catalogue names it: «вул. Соборна», «Каштановий сквер»."""
        if self.type in ("сквер", "парк", "узвіз", "шосе", "майдан", "тупик", "проїзд", "алея"):
            return f"{self.name} {self.type}"
        return f"{self.type} {self.name}".strip()

    @property
    def key(self) -> str:
        return street_key(self.type, self.name)


@dataclass(frozen=True)
class Match:
    key: str
    name: str  # the catalogue's full name, or the street as typed when it is not in the catalogue
    known: bool


class _Names:
    """Spellings reduced to keys (Cyrillic skeletons, or Latin keys), and the streets each key names."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[Street]] = {}
        self.choices: dict[int, str] = {}
        self.owners: list[Street] = []

    def add(self, bone: str, street: Street) -> None:
        owners = self.by_key.setdefault(bone, [])
        if street not in owners:
            owners.append(street)
        self.choices[len(self.owners)] = bone
        self.owners.append(street)

    def find(self, bone: str, loose: bool) -> list[Street]:
        """The streets of this exact key, else those at the best fuzzy score (all of them, when tied)."""
        exact = self.by_key.get(bone)
        if exact:
            return list(exact)
        scorer = fuzz.token_set_ratio if loose else fuzz.ratio
        found = process.extract(bone, self.choices, scorer=scorer, score_cutoff=CUTOFF, limit=None)
        if not found:
            return []
        best = max(score for _, score, _ in found)
        out: list[Street] = []
        for _, score, index in found:
            street = self.owners[index]
            if score == best and street not in out:
                out.append(street)
        return out


@dataclass(frozen=True)
class Streets:
    """The catalogue: finds a typed street by its name or an alias, exactly or within CUTOFF; a resident's search
    in Latin letters by the names romanised."""

    entries: tuple[Street, ...] = ()
    _names: _Names = field(default_factory=_Names, compare=False, repr=False)
    _latin: _Names = field(default_factory=_Names, compare=False, repr=False)  # built here, once per catalogue
    _resolved: dict[str, "Match"] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        seen: dict[str, Street] = {}
        for street in self.entries:
            if street.key in seen:
                raise ValueError(f"streets: «{street.full_name}» is listed twice")
            seen[street.key] = street
            for spelling in (street.name, *street.aliases):
                bone = skeleton(spelling)
                if bone:
                    self._names.add(bone, street)
            for spelling in (street.name, *street.aliases, *([street.en] if street.en else [])):
                for bone in latin.keys(split_type(spelling)[1]):
                    self._latin.add(bone, street)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def candidates(self, typed: str, loose: bool = True) -> list[Street]:
        """Every catalogue street the typed name may mean, best first: an exact skeleton (preferring the typed
        type), else the best fuzzy score; streets tied at the best score are all returned («Морська» may be
        «Велика Морська» or «Мала Морська»). Loose (a resident's search): part of a name is enough, and a name in
        Latin letters is looked up among the romanised names; strict (a dispatcher's cell): the whole name, a
        letter or two apart, so «Нова Соборна» stays its own street, and a cell is read in Cyrillic only."""
        kind, name = split_type(typed)
        if loose and latin.is_latin(name):
            found = self._latin.find(latin.key(name), loose)
        else:
            bone = skeleton(name)
            found = self._names.find(bone, loose) if bone else []
        same_type = [s for s in found if s.type == kind]
        return same_type or found

    def resolve(self, typed: str) -> Match:
        """One street for a dispatcher's text: the best catalogue street, or the street as typed (unknown)."""
        known = self._resolved.get(typed)
        if known is None:
            if len(self._resolved) > 50_000:  # a bound, for a worker that runs for months
                self._resolved.clear()
            known = self._resolved[typed] = self._resolve(typed)
        return known

    def _resolve(self, typed: str) -> Match:
        found = self.candidates(typed, loose=False)
        if found:
            return Match(found[0].key, found[0].full_name, True)
        kind, name = split_type(typed)
        shown = " ".join(str(typed).split()).strip(" .,")
        return Match(street_key(kind or "вул.", name), shown, False)


def fuzzy_keys(typed: str, names: dict[str, str]) -> list[str]:
    """Keys of streets not in the catalogue (key -> name as typed in records) that the typed name may mean; a name
    typed in Latin letters is compared with those names romanised."""
    if latin.is_latin(split_type(typed)[1]):
        return _latin_fuzzy_keys(split_type(typed)[1], names)
    bone = skeleton(typed)
    if not bone or not names:
        return []
    choices = {key: skeleton(name) for key, name in names.items()}
    found = process.extract(bone, choices, scorer=fuzz.token_set_ratio, score_cutoff=CUTOFF, limit=None)
    if not found:
        return []
    best = max(score for _, score, _ in found)
    return [key for _, score, key in found if score == best]


def _latin_fuzzy_keys(name: str, names: dict[str, str]) -> list[str]:
    bone = latin.key(name)
    if not bone or not names:
        return []
    choices = {(key, n): found for key, text in names.items()
               for n, found in enumerate(latin.keys(split_type(text)[1]))}
    found = process.extract(bone, choices, scorer=fuzz.token_set_ratio, score_cutoff=CUTOFF, limit=None)
    if not found:
        return []
    best = max(score for _, score, _ in found)
    return list(dict.fromkeys(key for _, score, (key, _) in found if score == best))


def load(raw: Any) -> Streets:
    """`[[streets]]` from the settings; raises ValueError naming the bad entry."""
    if raw is None:
        return Streets()
    if not isinstance(raw, list):
        raise ValueError("streets: expected a list of [[streets]] tables")
    entries = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ValueError(f"streets[{index}]: expected a table with a name")
        typed = item.get("name")
        if not isinstance(typed, str) or not typed.strip():
            raise ValueError(f"streets[{index}]: every street needs a name")
        found_type, name = split_type(typed)
        kind = item.get("type", found_type or "вул.")
        if not isinstance(kind, str) or TYPES.get(kind.strip(" .").casefold(), kind) not in TYPES.values():
            raise ValueError(f"streets[{index}].type: unknown street type {kind!r}; known: "
                             + ", ".join(sorted(set(TYPES.values()))))
        lists = {}
        for key in ("districts", "aliases"):
            value = item.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"streets[{index}].{key}: expected a list of text")
            lists[key] = tuple(v.strip() for v in value if v.strip())
        entries.append(Street(name=name, type=TYPES.get(kind.strip(" .").casefold(), kind), en=str(item.get("en", "")),
                              **lists))
    return Streets(tuple(entries))
