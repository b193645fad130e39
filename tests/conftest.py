"""Shared fixtures: a fresh store on SQLite and on real PostgreSQL, settings pointing at it, a CLI runner.

PostgreSQL: OUTAGES_TEST_POSTGRES_URL (default postgres@127.0.0.1:5432/test). Each test gets its own schema.
Where the server is unreachable the PostgreSQL variants are skipped, except under CI=true, where they fail:
CI must never skip them silently.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from outages import db
from outages.settings import Settings, load

# The SMTP peer's fixtures (smtp_peer, mail_settings, directory, notify_toml) for every test module.
pytest_plugins = ["smtp_peer"]

PG_URL = os.environ.get("OUTAGES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEMO_CSV = Path(__file__).resolve().parent.parent / "outages" / "demo" / "responses.csv"


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001  (any failure to connect means "not here")
        return str(exc).splitlines()[0]


_PG_PROBLEM = _pg_available()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh schema in PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outages.db'}"
        return
    if _PG_PROBLEM:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable under CI: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL unreachable: {_PG_PROBLEM}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def env(database_url, tmp_path, monkeypatch) -> dict[str, str]:
    """A clean environment for the hub: only the database set, run from an empty folder."""
    for key in list(os.environ):
        if key.startswith("OUTAGES_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OUTAGES_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    return {"OUTAGES_DATABASE_URL": database_url}


@pytest.fixture
def settings(env) -> Settings:
    return load()


@pytest.fixture
def engine(settings):
    engine = db.engine_for(settings)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def run_cli(env):
    """Run `outages …` in-process through click; returns the Result (output, exit_code)."""
    from outages.cli import cli

    runner = CliRunner()

    def run(*args: str, **kwargs):
        return runner.invoke(cli, list(args), catch_exceptions=False, **kwargs)

    return run


@pytest.fixture
def fake():
    """A fake Sheets API v4 on 127.0.0.1 (tests/fake_sheets) that the real gspread client talks to."""
    from fake_sheets import fake_server

    yield from fake_server()


@pytest.fixture
def live(fake, env, monkeypatch):
    """The hub's settings pointed at the fake Sheets API, with a service account whose token comes from it."""
    from fake_sheets import live_hub

    yield from live_hub(fake, monkeypatch)


# The evening after the demo export's last row: what the feed, API and CAP tests look at.
DEMO_NOW = datetime(2026, 11, 22, 23, 0, tzinfo=ZoneInfo("Europe/Kyiv"))


@pytest.fixture
def demo_client(settings, engine):
    """A test client of the app over the synced demo export, its clock pinned at DEMO_NOW."""
    from outages.records.sync import sync
    from sheets.files import read_file
    from web import create_app

    sync(engine, read_file(DEMO_CSV), settings, DEMO_NOW)
    app = create_app(settings, engine=engine)
    app.extensions["outages"].clock = lambda: DEMO_NOW
    return app.test_client()
