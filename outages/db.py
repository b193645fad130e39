"""Engine creation and schema migrations (Alembic, run programmatically: `outages init`)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Connection, CursorResult, Engine, Table, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from outages.schema import UTCDateTime
from outages.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaError(Exception):
    """The database is missing or behind the code; the message says what to run."""


def normalise_url(url: str) -> str:
    """postgresql:// means psycopg 3 here (the driver we install), not psycopg2."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def engine_for(settings: Settings | str) -> Engine:
    url = normalise_url(settings if isinstance(settings, str) else settings.database_url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # psycopg 3 pipelines a plain executemany; SQLAlchemy's multi-VALUES rewrite is slower with it.
    # No call may hang for ever: connecting waits at most 10 s, a server that stops answering is noticed by TCP
    # keepalives (30 s idle, then 3 probes 10 s apart), and each statement and lock wait is capped (below).
    engine = create_engine(url, pool_pre_ping=True, use_insertmanyvalues=False, pool_timeout=30, connect_args={
        "connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
        "keepalives_count": 3})
    seconds = 0.0 if isinstance(settings, str) else float(settings.database_timeout)  # a bare URL: no cap
    if seconds:
        event.listen(engine, "connect", _postgres_timeouts(int(seconds * 1000)))
    return engine


def _postgres_timeouts(milliseconds: int) -> Callable[..., None]:
    def set_timeouts(dbapi_connection, _record) -> None:  # noqa: ANN001
        # Session settings, so they hold for every transaction on this connection (a URL's own `options` stay).
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds}")
            # A little shorter, so a wait for someone else's lock is reported as such («lock timeout»).
            cursor.execute(f"SET lock_timeout = {milliseconds * 9 // 10}")
        dbapi_connection.commit()
    return set_timeouts


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    # WAL lets the web app read while the worker writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# SQLite's SQLITE_FULL (the disk, or the file's max_page_count) and PostgreSQL's disk_full (SQLSTATE 53100).
_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"
STORE_FULL = ("на диску бази даних немає місця: нічого не змінено, збережене ціле; звільніть місце й повторіть"
              " / the database's disk is full: nothing was changed, stored data is intact; free space and try again")


def store_full(exc: BaseException) -> bool:
    """Whether a write failed because the database has no room left (SQLAlchemy's wrapper or the driver's own).
    The transaction it was in is rolled back, so nothing half-written stays."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlite_errorcode", None) == _SQLITE_FULL:
        return True
    return getattr(orig, "sqlstate", None) == _PG_DISK_FULL


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; returns (before, after)."""
    before = current_revision(engine)
    command.upgrade(_alembic_config(engine), "head")
    return before, current_revision(engine) or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def missing_file(engine: Engine) -> str | None:
    """The SQLite file the URL names, when it does not exist yet: connecting would create it empty."""
    url = engine.url
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return None if Path(name).exists() else name


def require_schema(engine: Engine) -> None:
    """Stop with a clear message when the database was never initialised or is behind the code.
    Checking never creates anything: a command run in the wrong folder must not leave an empty outages.db."""
    missing = missing_file(engine)
    if missing is not None:
        raise SchemaError(f"База даних не ініціалізована: виконайте `outages init` (файлу {Path(missing).resolve()}"
                          " немає) / run `outages init` first")
    current = current_revision(engine)
    if current is None:
        raise SchemaError("База даних не ініціалізована: виконайте `outages init` / run `outages init` first")
    if current != head_revision():
        raise SchemaError(f"Схема бази застаріла ({current}): виконайте `outages init` / run `outages init`")


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("records")


def insert_or_skip(conn: Connection, table: Table,
                   values: dict[str, Any] | list[dict[str, Any]]) -> CursorResult[Any]:
    """Insert one row (a dict) or many (a list), skipping each that clashes with a unique key already there
    (ON CONFLICT DO NOTHING, which PostgreSQL and SQLite both have): queuing the same thing twice writes it once.
    The result's rowcount tells how many rows were new. An empty list is the caller's to skip."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # SQLAlchemy 2.1 reads an INSERT's rowcount only when asked to (without it psycopg's answer is -1, which is
    # truthy: every caller would take a clash for a new row, and a replayed bot update would be handled twice).
    statement = dialect.insert(table).on_conflict_do_nothing().execution_options(preserve_rowcount=True)
    return conn.execute(statement, values)


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with the same keys, straight through the driver: on PostgreSQL through COPY, on SQLite one
    prepared statement run by executemany. A first sync of a year's sheet writes tens of thousands of rows, and
    SQLAlchemy's per-parameter machinery cost more than the database's work (COPY is several times faster than a
    pipelined executemany; on SQLite the plain executemany halves the time).
    Values must be complete rows (column defaults are not applied) and what the column stores (aware datetimes,
    JSON-able data). On SQLite each value still goes through its column type's own bind processor, so it is stored
    exactly as SQLAlchemy would store it."""
    if not rows:
        return
    columns = list(rows[0])
    if conn.dialect.name != "postgresql":
        _executemany(conn, table, columns, rows)
        return
    from psycopg import sql
    from psycopg.types.json import Json

    as_json = {c.name for c in table.columns if isinstance(c.type, JSON)}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([Json(row[c]) if c in as_json and row[c] is not None else row[c] for c in columns])


def _sqlite_utc_text(value: datetime) -> str:
    """An aware datetime as SQLAlchemy's SQLite DATETIME stores it after UTCDateTime's conversion (naive UTC,
    «YYYY-MM-DD HH:MM:SS.ffffff»), without its per-value format dictionary: a first sync stores 100k of them.
    tests/test_store.py holds it equal to SQLAlchemy's own processing."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; times must be aware")
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def _remembering(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The conversion, done once for a run of the same object (a sync stamps every row with the same `now`)."""
    last: list[Any] = [object(), None]

    def converted(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]
    return converted


def _executemany(conn: Connection, table: Table, columns: list[str], rows: list[dict[str, Any]]) -> None:
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    statement = (f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))})"
                 f" VALUES ({', '.join('?' for _ in columns)})")
    # The column types' processors, as SQLAlchemy's own insert would apply them (UTC datetimes as SQLite text,
    # JSON serialised, booleans as integers).
    processors = [_remembering(_sqlite_utc_text) if isinstance(table.c[c].type, UTCDateTime)
                  else table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    plain = [c for c, p in zip(columns, processors) if p is None]
    if len(plain) == len(columns):
        values = (tuple(map(row.__getitem__, columns)) for row in rows)
    else:
        pairs = list(zip(columns, processors))
        values = (tuple(row[c] if p is None or row[c] is None else p(row[c]) for c, p in pairs) for row in rows)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, values)
    finally:
        cursor.close()
