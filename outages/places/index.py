"""Parsed addresses in the store (table record_addresses) and the search over them in SQL.

The sync writes a record's rows in its own transaction whenever the record's «Адреси» change; `outages init`
rewrites all of them (for a store from before this table, or after the city changed its street catalogue).
Pages, feeds and the API select records with `matching(query)`: the house test runs in the database, so a
search never loads every record.
"""

from __future__ import annotations

import json
from typing import Any, Collection, Iterable, Mapping

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    column,
    delete,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from outages.db import bulk_insert
from outages.places.addresses import AddressItem, AddressQuery, ParsedAddresses, Span, parse_addresses
from outages.places.streets import Streets
from outages.schema import record_addresses, record_districts, records

_CHUNK = 500


def rows_for(number: int, parsed: ParsedAddresses) -> list[dict[str, Any]]:
    rows = []
    for position, item in enumerate(parsed.items):
        base = {"record_number": number, "position": position, "street_key": item.street_key[:200],
                "street": item.street[:200], "known": item.known, "whole": item.whole}
        if item.whole or not item.spans:
            rows.append(base | {"lo": None, "hi": None, "parity": None, "suffix": ""})
        for span in item.spans:
            rows.append(base | {"lo": span.lo, "hi": span.hi, "parity": span.parity, "suffix": span.suffix[:20]})
    return rows


def write(conn: Connection, parsed: Mapping[int, ParsedAddresses], new: Collection[int] = ()) -> None:
    """Replace the stored rows of these records. `new`: records created in this transaction (nothing to delete)."""
    numbers = sorted(parsed)
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start:start + _CHUNK]
        stored = [n for n in chunk if n not in new]
        if stored:
            conn.execute(delete(record_addresses).where(record_addresses.c.record_number.in_(stored)))
        # Built a chunk at a time: a first sync of a year's sheet indexes 45k records.
        bulk_insert(conn, record_addresses, [row for n in chunk for row in rows_for(n, parsed[n])])


def reindex(conn: Connection, streets: Streets) -> int:
    """Parse every record's addresses again with the current catalogue; the number of records parsed."""
    texts = dict(conn.execute(select(records.c.number, records.c.addresses)).all())
    conn.execute(delete(record_addresses))
    cache: dict[str, ParsedAddresses] = {}  # many records repeat a cell («вул. Соборна, 12, 14»)
    parsed = {}
    for number, text in texts.items():
        if text not in cache:
            cache[text] = parse_addresses(text, streets)
        parsed[number] = cache[text]
    bulk_insert(conn, record_addresses, [row for n in sorted(parsed) for row in rows_for(n, parsed[n])])
    return len(parsed)


def stored(conn: Connection, numbers: Iterable[int]) -> dict[int, list[AddressItem]]:
    """The parsed addresses of these records as stored, in the cell's order."""
    wanted = sorted(set(numbers))
    out: dict[int, list[AddressItem]] = {n: [] for n in wanted}
    for start in range(0, len(wanted), _CHUNK):
        query = (select(record_addresses)
                 .where(record_addresses.c.record_number.in_(wanted[start:start + _CHUNK]))
                 .order_by(record_addresses.c.record_number, record_addresses.c.position, record_addresses.c.id))
        current: dict[tuple[int, int], tuple[Any, list[Span]]] = {}
        for row in conn.execute(query):
            _, spans = current.setdefault((row.record_number, row.position), (row, []))
            if row.lo is not None:
                spans.append(Span(row.lo, row.hi, row.parity, row.suffix))
        for (number, _), (row, spans) in current.items():
            out[number].append(AddressItem(row.street_key, row.street, row.known, row.whole, tuple(spans)))
    return out


def unknown_streets(conn: Connection) -> dict[str, str]:
    """Streets records name that the catalogue does not know (key -> name as typed), so search finds them too."""
    query = (select(record_addresses.c.street_key, record_addresses.c.street)
             .where(record_addresses.c.known == false()).distinct())
    return {key: name for key, name in conn.execute(query)}


def matching(query: AddressQuery) -> Select:
    """Numbers of the records whose addresses cover the query: on its street, and with a house, a span that
    covers the house (the same side; a single house with the same suffix) or the whole street."""
    a = record_addresses.c
    if not query.street_keys:
        return select(a.record_number).where(false())
    condition: ColumnElement[bool] = a.street_key.in_(query.street_keys)
    if query.house is not None:
        house = query.house
        condition = and_(condition, or_(
            a.whole.is_(True),
            and_(
                a.lo <= house,
                or_(a.hi.is_(None), a.hi >= house),
                or_(a.parity.is_(None), a.parity == ("odd" if house % 2 else "even")),
                or_(a.hi.is_(None), a.lo < a.hi, a.suffix == query.suffix),
            ),
        ))
    return select(a.record_number).where(condition).distinct()


def condition(query: AddressQuery, streets: Streets | None = None) -> ColumnElement[bool]:
    """A WHERE clause on `records` for the query (pages, feeds and API lists add it to theirs). With the
    catalogue (`streets`), a query with a house also finds whole-district records: an empty «Адреси» means every
    house of the districts named, and the catalogue says which districts the queried street runs through."""
    found = records.c.number.in_(matching(query))
    districts = districts_of(streets, query.street_keys) if streets is not None and query.house is not None else ()
    if not districts:
        return found
    whole = and_(records.c.addresses == "", records.c.number.in_(
        select(record_districts.c.record_number).where(record_districts.c.district.in_(districts))))
    return or_(found, whole)


def districts_of(streets: Streets, keys: Collection[str]) -> tuple[str, ...]:
    """The districts the catalogue places these streets in (streets it does not know have none)."""
    wanted = set(keys)
    return tuple(sorted({d for street in streets.entries if street.key in wanted for d in street.districts}))


def one_of(conn: Connection, column_: ColumnElement, numbers: list[int]) -> ColumnElement[bool]:
    """`column_` is one of `numbers`, as ONE bound value however many there are: an array in PostgreSQL, a JSON
    list read by json_each in SQLite. (`IN (…)` with a parameter per number breaks SQLite's limit of variables
    and makes every statement a new one for PostgreSQL's planner.)"""
    if conn.dialect.name == "postgresql":
        return column_ == any_(bindparam("numbers", list(numbers), type_=ARRAY(Integer), unique=True))
    listed = select(column("value")).select_from(
        func.json_each(bindparam("numbers", json.dumps(list(numbers)), unique=True)))
    return column_.in_(listed.scalar_subquery())
