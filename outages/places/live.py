"""The open records in memory, indexed by street and house: a resident's search for a house in a blackout costs
microseconds, not a scan of the street's rows in SQL (issue 21).

"Open" is every record that `/` and its sections may show from the moment the index is read on, until the data
changes: active records (not planned works that ended more than a day before), and those resolved within the
last day (FIXED_HOURS). Thousands in a blackout, never the year. The index is read once per data version (the
web's worker keeps one, web/houses.py); what a page shows is then decided here at the request's clock with the
same rules as SQL (`section_where`, `planned_between` in outages/records/views.py; the state in
outages/records/state.py), and tests/test_houses.py checks both give the same answers.

The house test is the stored, parsed addresses (table record_addresses, the rows SQL searches): a single house
is a key, a range is spread over its houses (up to SPREAD of them; longer and open-ended ranges are tested one by
one), the whole street and whole-district records (no «Адреси») are lists of their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from outages.places.addresses import ODD, AddressQuery, Span
from outages.places.index import districts_of, unknown_streets
from outages.places.streets import Streets
from outages.records.model import Kind
from outages.records.views import FIXED_HOURS, UPCOMING_DAYS, RecordView, list_records, restate
from outages.schema import record_addresses, records

SPREAD = 1000  # houses a range is spread over in the index; a longer one is tested at each search


def open_where(now: datetime) -> ColumnElement[bool]:
    """The records any section of `/` may hold from `now` on until the data changes (time only takes away)."""
    c = records.c
    since = now - timedelta(hours=FIXED_HOURS)
    return or_(and_(c.status == "active", or_(c.kind != Kind.PLANNED.value, c.expected_end.is_(None),
                                              c.expected_end >= since)),
               and_(c.status == "resolved", c.resolved_at >= since))


@dataclass
class _Street:
    """One street's open records by house: lists of record numbers."""

    whole: list[int] = field(default_factory=list)  # the whole street
    houses: dict[tuple[int, str], list[int]] = field(default_factory=lambda: defaultdict(list))  # (house, suffix)
    spread: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # any suffix of the house
    long: list[tuple[int, Span]] = field(default_factory=list)  # ranges too long (or open) to spread
    named: list[int] = field(default_factory=list)  # every record naming the street (a street-only search)


@dataclass
class OpenRecords:
    """The open records at one data version, read at `read_at`; valid for requests at or after that moment."""

    version: object
    read_at: datetime
    views: dict[int, RecordView]
    streets: dict[str, _Street]
    whole_districts: dict[str, list[int]]  # district -> records with no «Адреси» (every house of it)
    unknown: dict[str, str]  # streets records name that the catalogue lacks (all records, not only open ones)

    @classmethod
    def read(cls, conn: Connection, now: datetime, version: object = None) -> "OpenRecords":
        views = {v.number: v for v in list_records(conn, now, where=open_where(now))}
        a = record_addresses.c
        rows = conn.execute(select(a.record_number, a.street_key, a.whole, a.lo, a.hi, a.parity, a.suffix)
                            .where(a.record_number.in_(select(records.c.number).where(open_where(now))))
                            .order_by(a.record_number, a.id))
        streets: dict[str, _Street] = defaultdict(_Street)
        for number, key, whole, lo, hi, parity, suffix in rows:
            if number not in views:
                continue  # changed between the two reads: the next version reads it again
            street = streets[key]
            if not street.named or street.named[-1] != number:
                street.named.append(number)
            if whole:
                street.whole.append(number)
            elif lo is None:
                continue  # a crossing: the street is named, no house is covered
            elif hi == lo:
                street.houses[(lo, suffix)].append(number)
            elif hi is not None and hi - lo <= SPREAD:
                for house in range(lo, hi + 1):
                    if parity is None or (ODD if house % 2 else "even") == parity:
                        street.spread[house].append(number)
            else:
                street.long.append((number, Span(lo, hi, parity, suffix)))
        whole_districts: dict[str, list[int]] = defaultdict(list)
        for view in views.values():
            if view.addresses == "":
                for district in view.districts:
                    whole_districts[district].append(view.number)
        return cls(version, now, views, dict(streets), dict(whole_districts), unknown_streets(conn))

    def covering(self, query: AddressQuery, catalogue: Streets) -> list[int]:
        """Numbers of the open records the query finds, in number order: the same as
        `outages.places.index.condition` in SQL."""
        found: set[int] = set()
        for key in query.street_keys:
            street = self.streets.get(key)
            if street is None:
                continue
            if query.house is None:
                found.update(street.named)
                continue
            house = query.house
            found.update(street.whole)
            found.update(street.houses.get((house, query.suffix), ()))
            found.update(street.spread.get(house, ()))
            found.update(n for n, span in street.long if span.covers(house, query.suffix))
        if query.house is not None:
            for district in districts_of(catalogue, query.street_keys):
                found.update(self.whole_districts.get(district, ()))
        return sorted(found)

    def select(self, numbers: Iterable[int], now: datetime,
               keep: Callable[[RecordView], bool] = lambda _: True) -> list[RecordView]:
        """These records with their state at `now` (the index was read earlier), those `keep` accepts."""
        out = []
        for number in numbers:
            view = self.views[number]
            if keep(view):
                out.append(restate(view, now))
        return out


# ---- what SQL's sections say, over views in memory (outages/records/views.py: section_where) ----------------


def sections(found: list[RecordView], now: datetime, names: Iterable[str]) -> dict[str, list[RecordView]]:
    """Each section's records among `found` (their state at `now`), in the section's order: one pass, thousands of
    records in a millisecond or two."""
    since, horizon = now - timedelta(hours=FIXED_HOURS), now + timedelta(days=UPCOMING_DAYS)
    out: dict[str, list[RecordView]] = {"emergencies": [], "ongoing": [], "upcoming": [], "fixed": []}
    for r in found:
        planned = r.kind is Kind.PLANNED
        if r.status == "active":
            if not planned:
                out["emergencies"].append(r)
            elif r.event_at > now:
                if r.event_at <= horizon:
                    out["upcoming"].append(r)
            elif r.expected_end is None or r.expected_end >= now:
                out["ongoing"].append(r)  # live planned works under way
            if planned and r.expected_end is not None and since <= r.expected_end < now:
                out["fixed"].append(r)  # ended as planned within the day
        elif r.status == "resolved" and r.resolved_at is not None and since <= r.resolved_at <= now:
            out["fixed"].append(r)
    return {name: _ordered(name, out[name]) for name in names}


def _ordered(name: str, listed: list[RecordView]) -> list[RecordView]:
    if name == "emergencies":
        return sorted(listed, key=lambda r: (r.event_at, r.number), reverse=True)
    if name == "ongoing":
        return sorted(listed, key=lambda r: (r.expected_end or r.event_at, r.number))
    if name == "upcoming":
        return sorted(listed, key=lambda r: (r.event_at, r.number))
    if name == "fixed":
        return sorted(listed, key=lambda r: (r.resolved_at or r.expected_end, r.number), reverse=True)
    raise ValueError(name)


def planned_between(found: list[RecordView], start: datetime, end: datetime) -> int:
    """As outages.records.views.planned_between: active planned works under way at some moment in [start, end)."""
    return sum(1 for r in found if r.status == "active" and r.kind is Kind.PLANNED and r.event_at < end
               and (r.expected_end is None or r.expected_end > start))
