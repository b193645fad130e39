"""A record's districts one per row (table record_districts), kept beside records.districts (a JSON list), so the
public lists filter by district in SQL, on SQLite and PostgreSQL alike, with an index."""

from __future__ import annotations

from typing import Collection, Iterable, Mapping

from sqlalchemy import Connection, delete

from outages.db import bulk_insert
from outages.schema import record_districts


def index(conn: Connection, districts: Mapping[int, Iterable[str]], new: Collection[int] = ()) -> None:
    """Write the districts of these records (number -> names), replacing what was there. `new`: records created
    in this transaction, which have nothing to replace (a year's first sync: 45k of them, 90 deletes saved)."""
    numbers = sorted(districts)
    stored = [n for n in numbers if n not in new]
    for start in range(0, len(stored), 500):
        conn.execute(delete(record_districts).where(record_districts.c.record_number.in_(stored[start:start + 500])))
    bulk_insert(conn, record_districts, [{"record_number": n, "district": name}
                                         for n in numbers for name in dict.fromkeys(districts[n])])
