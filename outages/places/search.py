"""Filters residents use: district, service, and a search by address (`q`) that forgives how people type.

`q` is a street, or a street and a house: «Соборна» finds every record on вул. Соборна; «Соборна 14» only those
whose houses cover 14 (or the whole street), so «вул. Соборна, 12, 14» is found and «вул. Соборна, 1-9» is
not. Case, apostrophes (’ ' ʼ), street types, Russian spellings, former names and small typos do not matter
(outages/places/streets.py). The house test runs in SQL over the parsed addresses (outages/places/index.py); the web
pages, feeds and API share these filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Mapping

from sqlalchemy import ColumnElement, Connection, exists, select

from outages.places import index as address_index
from outages.places.addresses import AddressQuery, parse_query
from outages.places.streets import Streets
from outages.records.views import RecordView, list_records
from outages.schema import record_districts, records
from outages.settings import Settings


@dataclass(frozen=True)
class Filters:
    districts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    query: str = ""
    streets: Streets = field(default_factory=Streets, compare=False, repr=False)

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
        return cls(districts=districts, services=services, query=query, streets=settings.streets)

    def __bool__(self) -> bool:
        return bool(self.districts or self.services or self.query)

    def address(self, conn: Connection) -> AddressQuery | None:
        """The search as streets and a house; None without `q`. Streets the catalogue does not know are found
        among those records name."""
        if not self.query:
            return None
        return parse_query(self.query, self.streets, address_index.unknown_streets(conn))

    def where(self, conn: Connection, address: AddressQuery | None = None) -> ColumnElement[bool] | None:
        """The address search as a condition on `records` (None without `q`); a query naming no street known
        to the catalogue or to any record matches nothing. `address`: the search already read (`address`)."""
        query = address or self.address(conn)
        return address_index.condition(query, self.streets) if query is not None else None

    def matches(self, record: RecordView) -> bool:
        """District and service; the address search is `where` (it needs the stored, parsed addresses)."""
        if self.districts and not set(self.districts) & set(record.districts):
            return False
        if self.services and record.service not in self.services:
            return False
        return True

    def apply(self, records: Iterable[RecordView], conn: Connection | None = None) -> list[RecordView]:
        """The records among these that the filters select (with `q`, `conn` answers the address search)."""
        if not self.query:
            return [r for r in records if self.matches(r)]
        if conn is None:
            raise ValueError("the address search needs the store: pass conn")
        query = self.address(conn)
        assert query is not None
        found = set(conn.execute(select(records.c.number).where(address_index.condition(query, self.streets)))
                    .scalars())
        return [r for r in records if r.number in found and self.matches(r)]

    def records(self, conn: Connection, now: datetime, address: AddressQuery | None = None) -> list[RecordView]:
        """Every record these filters select, the address search done in SQL."""
        return [r for r in list_records(conn, now, where=self.where(conn, address)) if self.matches(r)]

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
            # The address search (outages/places/index.py) selected once, here: a page's statements (a count, a
            # slice) then test a list of numbers instead of each scanning the street's rows again.
            where = self.where(conn)
            if where is not None:
                found = list(conn.execute(select(records.c.number).where(where)).scalars())
                out.append(address_index.one_of(conn, records.c.number, found))
        return out

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
