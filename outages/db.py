"""Engine creation and schema migrations (Alembic, run programmatically: `outages init`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

from .settings import Settings

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
    return create_engine(url, pool_pre_ping=True, use_insertmanyvalues=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    # WAL lets the web app read while the worker writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


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


def require_schema(engine: Engine) -> None:
    """Stop with a clear message when the database was never initialised or is behind the code."""
    current = current_revision(engine)
    if current is None:
        raise SchemaError("База даних не ініціалізована: виконайте `outages init` / run `outages init` first")
    if current != head_revision():
        raise SchemaError(f"Схема бази застаріла ({current}): виконайте `outages init` / run `outages init`")


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("records")
