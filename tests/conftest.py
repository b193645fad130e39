"""Shared fixtures: a fresh store on SQLite and on real PostgreSQL, settings pointing at it, a CLI runner.

PostgreSQL: OUTAGES_TEST_POSTGRES_URL (default postgres@127.0.0.1:5432/test). Each test gets its own schema.
Where the server is unreachable the PostgreSQL variants are skipped, except under CI=true, where they fail:
CI must never skip them silently.

The clock: OUTAGES_TEST_NOW (or --moved-clock), an ISO instant with its offset, moves the real clock of the whole
run there (time_machine, ticking) and of the hub's subprocesses (tests/clocks.py: child_env).
`make test-moved-clock` runs the tests marked `clock` (those that read the real clock) so, at the dates in the
Makefile. --clock-readers lists the tests whose code reads the real clock, marked or not.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import clocks
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from outages import db
from outages.settings import Settings, load

# The SMTP peer's fixtures (smtp_peer, mail_settings, directory, notify_toml) for every test module.
pytest_plugins = ["smtp_peer"]



def pytest_addoption(parser) -> None:
    group = parser.getgroup("clock", "time is an input")
    group.addoption("--moved-clock", metavar="ISO", default=os.environ.get("OUTAGES_TEST_NOW") or None,
                    help="move the real clock of the run (and of the hub's subprocesses) to this instant, e.g. "
                         "2027-07-04T11:00:00+03:00; it ticks on. Default: $OUTAGES_TEST_NOW")
    group.addoption("--clock-readers", action="store_true",
                    help="list the tests whose own or product code reads the real clock, and whether they are "
                         "marked `clock`")


def pytest_configure(config) -> None:
    moved, watch = config.getoption("moved_clock"), config.getoption("clock_readers")
    if moved or watch:
        clocks.move_session_clock(clocks.parse_moment(moved) if moved else None, watch=watch)
        config.add_cleanup(clocks.stop_session_clock)


def pytest_report_header(config) -> str | None:
    if clocks.MOVED is None:
        return None
    return (f"clock moved to {clocks.MOVED.isoformat()} ({clocks.MOVED.strftime('%A')}), ticking; "
            "the hub's subprocesses too (clocks.child_env)")


def pytest_collection_modifyitems(items) -> None:
    clocks.MARKED.update(item.nodeid for item in items if item.get_closest_marker("clock"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    clocks._reading.append(item.nodeid)
    try:
        return (yield)
    finally:
        clocks._reading.pop()


def _unmarked_readers() -> list[str]:
    return sorted(nodeid for nodeid in clocks.READERS if nodeid not in clocks.MARKED)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session) -> None:
    if session.config.getoption("clock_readers") and _unmarked_readers() and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config) -> None:
    if not config.getoption("clock_readers"):
        return
    terminalreporter.section("tests that read the real clock")
    for nodeid, where in sorted(clocks.READERS.items()):
        terminalreporter.write_line(f"{nodeid}  {'marked' if nodeid in clocks.MARKED else 'NOT MARKED'}  "
                                    f"{', '.join(sorted(where))}")
    if unmarked := _unmarked_readers():
        terminalreporter.write_line(f"{len(unmarked)} test(s) read the real clock unmarked: pin their clock "
                                    "(time_machine.travel, a clock= argument) or mark them @pytest.mark.clock",
                                    red=True)


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
