"""Each worker's open records by house (outages/places/live.py), read again when the data version changes, and the
residents' searches parsed once: what `/?q=…` and its sections answer from, without SQL over the street's rows.

The data version is the response cache's (web/cache.py: read at most every `cache_check_seconds`). An index is
read under the version the request saw (a read takes a few hundred milliseconds at 10,000 open records, once per
change and worker), again when the request's clock is before the moment it was read (a test moving the clock
back), and after READ_AGAIN (records that time took out of every section are then dropped, so a quiet worker's
memory stays flat). While one thread reads a new version, the others answer from the last index
(stale-while-revalidate, as the response cache does) rather than wait: `made_from` stamps their pages with that
older version, so the cache renders them again at the next request. Only a worker's first read makes the others
wait.

What a house's page shows is worked out once per set of covering records (`Houses.facts`): the spellings and
suffixes of one house («14», «14а», «14/1»…) are usually covered by the same records, and a house under a few
thousand of them took 25 ms where a small one took 2. The facts live as long as a cached page does
(`cache_seconds`, and the same data version), so they are never staler than the response cache already allows.

A search is parsed once per (text, version): `parsed` keeps up to PARSED of them (the catalogue's fuzzy match
costs more than the answer itself), and the response cache keys a search page by what `canonical_query` makes of
it, so «вул. Соборна 14а», «соборна 14А» and «Soborna 14a» are one entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, g

from outages.display import capped
from outages.places import live
from outages.places.addresses import AddressQuery, parse_query
from outages.places.answer import Split, split
from outages.places.live import OpenRecords
from outages.places.search import Filters
from outages.records.views import SECTIONS, RecordView, data_state

READ_AGAIN = timedelta(minutes=30)
PARSED = 4096
FACTS = 1024  # houses' facts a worker keeps: more than a blackout's streets have houses asked within a minute
FACT_RECORDS = 400_000  # ...and the records they list together (a few references each: ~10 MB at most)


@dataclass(frozen=True)
class HouseFacts:
    """What the page of a search shows, worked out at `at` from one data version."""

    version: object
    at: datetime
    found: list[RecordView]  # the covering records the page's district and service filters keep, state at `at`
    lists: dict[str, list[RecordView]]  # each section's records among `found`, in the section's order
    planned_today: int  # planned works under way at some moment of the day
    answer: Split  # the covering records of any district or service (status active), as the answer line words them

    @property
    def changed_at(self) -> datetime | None:
        """When the data last changed, as of the version these facts were read at (data_state's second half)."""
        return self.version[1] if isinstance(self.version, tuple) else None


class Houses:
    def __init__(self) -> None:
        self._open: OpenRecords | None = None
        self._reading = threading.Lock()
        self._parsed: dict[str, AddressQuery] = {}
        self._facts: OrderedDict[tuple, HouseFacts] = OrderedDict()
        self._facts_lock = threading.Lock()
        self._listed = 0  # records listed by the kept facts (FACT_RECORDS)
        self.reads = 0  # how many times the index was read (/healthz)
        self.worked = 0  # how many times a house's facts were worked out (/healthz)

    def open_records(self, app: Flask, now: datetime) -> OpenRecords:
        version = _version(app)
        known = self._open
        if _usable(known, version, now):
            return known
        if known is not None and known.read_at <= now and not self._reading.acquire(blocking=False):
            # Another thread is reading the new version: answer from the last one meanwhile (the page says which
            # version it was made from, so the response cache renders it again; see `made_from`).
            return known
        if known is None or known.read_at > now:
            self._reading.acquire()
        try:
            known = self._open
            if _usable(known, version, now):
                return known  # read by another thread while this one waited
            hub = app.extensions["outages"]
            with capped(hub.settings.display_max_chars), hub.engine.connect() as conn:
                fresh = OpenRecords.read(conn, now, version)
            if known is None or known.unknown != fresh.unknown:
                self._parsed = {}  # a street records newly name may be what a search meant
            self._open = fresh
            self.reads += 1
            return fresh
        finally:
            self._reading.release()

    def parse(self, app: Flask, text: str, now: datetime) -> AddressQuery:
        """The search as streets and a house, parsed once per text while the streets records name stay the same."""
        found = self._parsed.get(text)
        if found is None:
            unknown = self.open_records(app, now).unknown
            found = parse_query(text, app.extensions["outages"].settings.streets, unknown)
            if len(self._parsed) >= PARSED:
                self._parsed = {}
            self._parsed[text] = found
        return found

    def facts(self, app: Flask, filters: Filters, now: datetime, day: tuple[datetime, datetime],
              ttl: float) -> tuple[AddressQuery, HouseFacts]:
        """The search parsed, and its page's facts: worked out afresh, or as worked out for the same covering
        records, filters and day within the last `ttl` seconds of the request's clock (0: always afresh)."""
        index = self.open_records(app, now)
        made_from(index)
        query = self.parse(app, filters.query, now)
        numbers = tuple(index.covering(query, filters.streets))
        key = (numbers, filters.districts, filters.services, day[0])
        with self._facts_lock:
            known = self._facts.get(key)
            if known is not None and known.version == index.version and \
                    known.at <= now < known.at + timedelta(seconds=ttl):
                self._facts.move_to_end(key)
                # The page made from them is as old as they are: the response cache must not keep it a whole
                # cache_seconds more (a page of facts 29 s old would otherwise say the same for 59 s).
                g.cache_age = max(g.get("cache_age", 0.0), (now - known.at).total_seconds())
                return query, known
        self.worked += 1
        found = index.select(numbers, now)
        kept = [r for r in found if filters.matches(r)]
        fresh = HouseFacts(
            version=index.version, at=now, found=kept, lists=live.sections(kept, now, SECTIONS),
            planned_today=live.planned_between(kept, *day),
            answer=split([r for r in found if r.status == "active"], now))
        if ttl > 0:
            with self._facts_lock:
                old = self._facts.pop(key, None)
                self._listed += len(fresh.found) - (len(old.found) if old else 0)
                self._facts[key] = fresh
                while len(self._facts) > FACTS or self._listed > FACT_RECORDS:
                    _key, gone = self._facts.popitem(last=False)
                    self._listed -= len(gone.found)
        return query, fresh

    def stats(self) -> dict[str, int]:
        known = self._open
        return {"records": len(known.views) if known else 0, "reads": self.reads, "parsed": len(self._parsed),
                "facts": len(self._facts), "worked": self.worked}


def made_from(index: OpenRecords) -> None:
    """The page of this request shows `index`: the response cache must keep it as of that data version."""
    if g.get("cache_version") is not None and g.cache_version != index.version:
        g.cache_version = index.version


def _usable(known: OpenRecords | None, version: object, now: datetime) -> bool:
    return known is not None and known.version == version and known.read_at <= now < known.read_at + READ_AGAIN


def _version(app: Flask) -> object:
    def read() -> object:
        with app.extensions["outages"].engine.connect() as conn:
            return data_state(conn)
    return app.extensions["outages_cache"].version(read)


def houses(app: Flask | None = None) -> Houses:
    app = app or current_app
    found = app.extensions.get("outages_houses")
    if found is None:
        found = app.extensions.setdefault("outages_houses", Houses())
    return found


def canonical_query(app: Flask, text: str, now: datetime) -> str:
    """The one spelling of a search that names one street: «вул. Соборна, 14а» for every way of typing it. A
    search naming several streets or none is kept as typed (its page names it as typed)."""
    text = " ".join(text.split())[:200]
    if not text:
        return text
    try:
        query = houses(app).parse(app, text, now)
    except Exception:  # noqa: BLE001 — the store is down: the cache may still hold this spelling's last page
        return text
    return query.label if len(query.streets) == 1 else text
