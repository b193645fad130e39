"""Filters residents use: district, service, and a street search that forgives how people type.

«вул. Соборна», «вулиця соборна», «Соборна» and «СОБОРНА 12» all find «вул. Соборна, 12, 14»; apostrophes
(’ ' ʼ) do not matter. The web pages, feeds and API share these filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from .queries import RecordView
from .settings import Settings
from .text import fold

# Street-type words and their abbreviations, removed before matching.
_PREFIXES = (
    "вулиця", "вул", "проспект", "просп", "пр-т", "пр", "провулок", "пров", "бульвар", "бульв", "б-р",
    "площа", "пл", "шосе", "узвіз", "набережна", "наб", "майдан", "тупик", "проїзд", "street", "st", "avenue", "ave",
)
_PREFIX_RE = re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(p) for p in _PREFIXES) + r")(?:\.|\b)", re.IGNORECASE)
_PUNCT = re.compile(r"[.,;:()/\\№#-]+")


def street_key(text: str) -> str:
    """Text reduced to what identifies a street and building: no street types, punctuation or case."""
    folded = fold(text)
    folded = _PREFIX_RE.sub(" ", folded)
    return " ".join(_PUNCT.sub(" ", folded).split())


@dataclass(frozen=True)
class Filters:
    districts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    query: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, object], settings: Settings) -> "Filters":
        """From request arguments (`district`, `service`, `q`); unknown names are ignored, not errors."""

        def values(name: str) -> list[str]:
            getlist = getattr(args, "getlist", None)
            raw = getlist(name) if getlist else [args.get(name)] if args.get(name) else []
            return [part for item in raw for part in str(item).split(",") if part.strip()]

        districts = tuple(d for d in (settings.districts.lookup(v) for v in values("district")) if d)
        services = tuple(s for s in (settings.services.lookup(v) for v in values("service")) if s)
        query = " ".join(str(args.get("q") or "").split())[:200]
        return cls(districts=districts, services=services, query=query)

    def __bool__(self) -> bool:
        return bool(self.districts or self.services or self.query)

    def matches(self, record: RecordView) -> bool:
        if self.districts and not set(self.districts) & set(record.districts):
            return False
        if self.services and record.service not in self.services:
            return False
        if self.query:
            wanted = street_key(self.query)
            if wanted and wanted not in street_key(record.addresses):
                return False
        return True

    def apply(self, records: Iterable[RecordView]) -> list[RecordView]:
        return [r for r in records if self.matches(r)]

    def as_args(self) -> dict[str, str]:
        """The same filters as query arguments (for links to feeds)."""
        args = {}
        if self.districts:
            args["district"] = ",".join(self.districts)
        if self.services:
            args["service"] = ",".join(self.services)
        if self.query:
            args["q"] = self.query
        return args
