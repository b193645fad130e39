"""Filters residents use: district, service, and a street search that forgives how people type.

«вул. Соборна», «вулиця соборна», «Соборна» and «СОБОРНА 12» all find «вул. Соборна, 12, 14»; apostrophes
(’ ' ʼ) do not matter. The web pages, feeds and API share these filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from sqlalchemy import ColumnElement, Connection, exists, select

from .queries import RecordView
from .schema import record_districts, records
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

    def sql_conditions(self, conn: Connection) -> list[ColumnElement]:
        """The filters as SQL conditions on `records`, for lists read a page at a time."""
        out: list[ColumnElement] = []
        if self.districts:
            # EXISTS probes the (record_number, district) key per candidate row: cheap on every section's range.
            out.append(exists().where(record_districts.c.record_number == records.c.number,
                                      record_districts.c.district.in_(self.districts)))
        if self.services:
            out.append(records.c.service.in_(self.services))
        if self.query:
            out.append(self._query_condition(conn))
        return out

    def _query_condition(self, conn: Connection) -> ColumnElement:
        # Street search keeps `street_key`'s forgiving match by reading only (number, addresses) once; the
        # address index of issue 8 (record_addresses) replaces this with a condition of its own.
        wanted = street_key(self.query)
        if not wanted:
            return records.c.number.is_not(None)
        numbers = [n for n, text in conn.execute(select(records.c.number, records.c.addresses))
                   if wanted in street_key(text)]
        return records.c.number.in_(numbers)

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
