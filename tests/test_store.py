"""The store: migrations create exactly the tables the code declares, on SQLite and PostgreSQL; init is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from outages import db
from outages.schema import metadata


def test_migrations_match_the_declared_schema(engine):
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    # Index and type spelling differences between dialects are not schema drift; tables and columns are.
    drift = [d for d in diffs if d[0] in ("add_table", "remove_table", "add_column", "remove_column")]
    assert drift == []


def test_times_read_back_from_sqlite_alike_whatever_form_they_were_stored_in():
    """UTCDateTime reads SQLite's own form in one step; every other form a SQLite file may hold (written by hand,
    by an older hub) still reads as SQLAlchemy reads it: an aware UTC datetime."""
    from datetime import datetime, timezone

    from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

    from outages.schema import UTCDateTime

    utc = timezone.utc
    stored = {
        "2026-11-30 08:48:28.665106": datetime(2026, 11, 30, 8, 48, 28, 665106, tzinfo=utc),  # what the hub writes
        "0999-01-01 00:00:00.000000": datetime(999, 1, 1, tzinfo=utc),
        "2026-11-30 08:48:28": datetime(2026, 11, 30, 8, 48, 28, tzinfo=utc),
        "2026-11-30 08:48:28.5": datetime(2026, 11, 30, 8, 48, 28, 500000, tzinfo=utc),
        "2026-11-30T08:48:28.665106": datetime(2026, 11, 30, 8, 48, 28, 665106, tzinfo=utc),
        "2026-11-30 08:48:28.665106+02:00": datetime(2026, 11, 30, 6, 48, 28, 665106, tzinfo=utc),
        "2026-11-30 08:48:28.66510Z": datetime(2026, 11, 30, 8, 48, 28, 665100, tzinfo=utc),
        "2026-11-30": datetime(2026, 11, 30, tzinfo=utc),
    }
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        for n, value in enumerate(stored):
            conn.execute(text("INSERT INTO t VALUES (:n, :value)"), {"n": n, "value": value})
        conn.execute(insert(table), {"id": 100, "at": datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=utc)})
        conn.execute(insert(table), {"id": 101, "at": None})
        read = dict(conn.execute(select(table.c.id, table.c.at)).all())
    for n, (value, expected) in enumerate(stored.items()):
        assert read[n] == expected and read[n].utcoffset() is not None, value
    assert read[100] == datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=utc) and read[101] is None


def test_init_twice_is_harmless_and_reports_the_revision(run_cli):
    first = run_cli("init")
    second = run_cli("init")
    assert first.exit_code == second.exit_code == 0
    assert db.head_revision() in first.output
    assert "already current" in second.output


def test_a_bulk_insert_stores_exactly_what_sqlalchemys_insert_stores(engine):
    """The sync's bulk path skips SQLAlchemy's per-row processing; the stored values must not differ by a byte."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import insert, select, text

    from outages.schema import records

    kyiv = ZoneInfo("Europe/Kyiv")
    moments = [datetime(2026, 3, 29, 2, 59, 59, tzinfo=kyiv), datetime(2026, 10, 25, 3, 30, tzinfo=kyiv, fold=1),
               datetime(2026, 11, 30, 9, 0, 0, 123456, tzinfo=kyiv), datetime(999, 1, 1, tzinfo=kyiv)]

    def row(number: int, at: datetime) -> dict:
        return {"number": number, "executor": "КП «Водоканал»", "kind": "emergency", "service": "Водопостачання",
                "districts": ["Центральний", "Заводський"], "addresses": "вул. Соборна, 12", "summary": "Порив",
                "cause": "", "impact": "", "event_at": at,
                "expected_end": None if number % 2 else at + timedelta(hours=3),
                "first_recorded_at": at, "last_changed_at": at, "status": "active", "resolved_at": None,
                "deadline_met": bool(number % 2), "delay_minutes": None if number % 2 else 12.5, "lead_hours": None,
                "contact_name": "", "contact_phone": "", "reporter_email": "", "revision": 1, "overdue_for": None}

    with engine.begin() as conn:
        conn.execute(insert(records), [row(n, at) for n, at in enumerate(moments, start=1)])
        db.bulk_insert(conn, records, [row(n + 100, at) for n, at in enumerate(moments, start=1)])
        columns = [c.name for c in records.columns if c.name != "number"]
        raw = conn.execute(text(f"SELECT number, {', '.join(columns)} FROM records ORDER BY number")).all()
        typed = conn.execute(select(records).order_by(records.c.number)).all()
    by_number = {r[0]: r[1:] for r in raw}
    assert len(by_number) == 2 * len(moments)
    for n in range(1, len(moments) + 1):
        assert by_number[n + 100] == by_number[n], f"row {n}: the bulk path stored something else"
    typed_by = {r.number: r._asdict() for r in typed}
    assert typed_by[103]["event_at"] == moments[2] and typed_by[101]["districts"] == ["Центральний", "Заводський"]
