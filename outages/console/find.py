"""Records as a resident names them on the phone, for the contact centre: `outages records --q "Соборна 14"` (and
the console's search later). The same search as the public site's (outages/places/search.py: streets as people
type them, in Latin letters, with typos, Russian spellings and former names; houses tested in SQL over the parsed
addresses) and the same one-line answer for a house (outages/places/answer.py).

One page, newest record first, read as an SQL slice with its count: the same cost with 50,000 records stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection

from outages.places.addresses import AddressQuery
from outages.places.answer import answer
from outages.places.index import condition
from outages.places.search import Filters
from outages.records.state import live
from outages.records.views import RecordView, list_records, page_records
from outages.schema import records
from outages.settings import Settings

STATES = ("live", "all")  # live: active or overdue (outages/records/state.py); all: ended, resolved, cancelled too
LIMIT = 50


@dataclass(frozen=True)
class Found:
    total: int  # how many match
    records: list[RecordView]  # the newest of them, newest first
    query: AddressQuery | None  # the search as streets and a house (None without one)
    answer: str | None  # the public site's line for a house («За адресою … зараз: …»), or that no street matched

    @property
    def more(self) -> int:
        return self.total - len(self.records)


def find(conn: Connection, now: datetime, settings: Settings, q: str = "", state: str = "live",
         limit: int | None = LIMIT) -> Found:
    """Records matching `q` (a street, or a street and a house; empty: every record) in `state`, the newest `limit`
    (None: all of them)."""
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}")
    filters = Filters(query=" ".join(q.split())[:200], streets=settings.streets)
    address = filters.address(conn)
    where: list[ColumnElement[bool]] = []
    if address is not None:
        matched = filters.where(conn, address)
        if matched is not None:
            where.append(matched)
    if state == "live":
        where.append(live(records.c, now))
    total, found = page_records(conn, now, where, limit=limit)
    said = None
    if address is not None:  # as the public page says it above its list (web/public/pages.py: address_answer)
        covering = (list_records(conn, now, active_only=True, where=condition(address, settings.streets))
                    if address.house is not None else [])
        said = answer(address, covering, now, settings.tz)
    return Found(total, found, address, said)
