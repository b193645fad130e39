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


def test_init_twice_is_harmless_and_reports_the_revision(run_cli):
    first = run_cli("init")
    second = run_cli("init")
    assert first.exit_code == second.exit_code == 0
    assert db.head_revision() in first.output
    assert "already current" in second.output
