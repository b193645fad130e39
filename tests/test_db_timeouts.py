"""A database that holds a lock or stops answering never stalls the hub for ever (real PostgreSQL).

The case a city meets: someone leaves a psql session open inside a transaction that locked the records table.
`outages sync` gives up after database_timeout with a message saying nothing was stored; once the session ends,
the next sync stores everything.
"""

from __future__ import annotations

import threading

import pytest
from rows import emergency, planned, write_csv
from sqlalchemy import create_engine, func, select, text

from outages import db
from outages.schema import records
from outages.settings import SettingsError, load

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.mark.clock
def test_a_lock_left_open_fails_the_sync_in_time_and_the_next_sync_stores_everything(run_cli, env, tmp_path,
                                                                                      monkeypatch):
    monkeypatch.setenv("OUTAGES_DATABASE_TIMEOUT", "5")
    assert run_cli("init").exit_code == 0
    export = write_csv(tmp_path / "rows.csv", emergency(), planned())
    other = create_engine(env["OUTAGES_DATABASE_URL"])  # the forgotten psql session
    holder = other.connect()
    holder.begin()
    holder.execute(text("LOCK TABLE records IN ACCESS EXCLUSIVE MODE"))
    outcome: dict[str, object] = {}
    sync = threading.Thread(target=lambda: outcome.update(result=run_cli("sync", "--source", export)), daemon=True)
    try:
        sync.start()
        sync.join(120)  # without a lock timeout it waits as long as the session stays open
        assert not sync.is_alive(), "the sync still waits for the lock"
    finally:
        holder.rollback()
        holder.close()
    result = outcome["result"]
    assert result.exit_code == 2
    assert "База даних не відповіла вчасно" in result.output and "нічого не збережено" in result.output
    assert "lock timeout" in result.output
    check = db.engine_for(load())
    with check.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar() == 0
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "5s"
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "4500ms"
    check.dispose()
    other.dispose()
    assert "нових (new) 2" in run_cli("sync", "--source", export).output


@pytest.mark.parametrize(("value", "ok"), [("0", True), ("5", True), ("120", True), ("1", False), ("-3", False),
                                           ("3601", False), ("soon", False)])
def test_the_timeout_is_none_or_minutes_not_a_value_that_would_cut_a_first_sync(env, monkeypatch, value, ok):
    monkeypatch.setenv("OUTAGES_DATABASE_TIMEOUT", value)
    if ok:
        assert load().database_timeout == float(value)
    else:
        with pytest.raises(SettingsError, match="OUTAGES_DATABASE_TIMEOUT"):
            load()
