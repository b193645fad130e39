"""Faults between the hub and Google: bounded retries with backoff, clear permanent errors, nothing half-done."""

from __future__ import annotations

import pytest
from fake_sheets import KEY, NOW
from sqlalchemy import func, select

from outages.records.sync import record_failure
from outages.schema import records, sync_runs
from sheets.client import SheetsError

READ, WRITE, META, TOKEN = ("spreadsheets.values.get", "spreadsheets.batchUpdate", "spreadsheets.get", "token")


def count(live, table) -> int:
    with live.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_a_burst_of_429_is_waited_out(live):
    live.fake.fail(READ, 429, times=3)
    result, _ = live.sync()
    assert result.counts["new"] == 17
    assert live.calls() == [META, READ, READ, READ, READ, WRITE]
    assert live.fake.row(KEY, 2)["Статус обробки"] == "Прийнято, №1, вчасно (повідомлено за 121 год до початку)"


def test_500s_on_the_write_are_retried_and_written_once(live):
    live.fake.fail(WRITE, 500, times=2)
    result, _ = live.sync()
    assert result.counts["new"] == 17
    assert live.calls() == [META, READ, WRITE, WRITE, WRITE]
    assert live.fake.column(KEY, "Номер")[:3] == [1, 2, 3]


def test_a_response_slower_than_the_timeout_is_retried(live):
    live.fake.fail(READ, None, times=1, delay=3.0)  # the read timeout is 2 s in these tests
    result, _ = live.sync()
    assert result.counts["new"] == 17
    assert live.calls() == [META, READ, READ, WRITE]


def test_a_401_on_token_refresh_is_retried_through_the_real_token_path(live):
    live.fake.fail(TOKEN, 401, times=1)
    result, _ = live.sync()
    assert result.counts["new"] == 17
    assert live.fake.calls(None).count(TOKEN) == 2
    assert live.calls() == [META, READ, WRITE]


@pytest.mark.clock
def test_after_the_retries_the_sync_fails_cleanly_and_the_next_cycle_recovers(live, run_cli):
    live.fake.fail(WRITE, 503, times=6)  # more than 1 + OUTAGES_SHEETS_RETRIES (5)
    with pytest.raises(SheetsError) as caught:
        live.sync()
    record_failure(live.engine, live.source.label, NOW, str(caught.value))
    assert live.calls() == [META, READ] + [WRITE] * 6
    # The store rolled back with the failed write: no record, and the sheet shows nothing half-done.
    assert count(live, records) == 0
    assert live.fake.header(KEY)[-1] == "Адреса електронної пошти"
    shown = run_cli("status")
    assert "ПОМИЛКА / FAILED" in shown.output and "HTTP 503" in shown.output and "Спроб: 6" in shown.output

    result, _ = live.sync()
    assert result.counts["new"] == 17 and live.calls() == [READ, WRITE]
    assert "успішно / ok" in run_cli("status").output
    with live.engine.connect() as conn:
        assert [r.ok for r in conn.execute(select(sync_runs.c.ok).order_by(sync_runs.c.id))] == [False, True]


def test_not_shared_is_a_clear_error_without_retries(live):
    live.fake.books[KEY].shared_with.clear()
    with pytest.raises(SheetsError) as caught:
        live.sync()
    assert caught.value.permanent
    assert live.calls() == [META]
    assert live.email in str(caught.value) and "Поділитися → Редактор" in str(caught.value)


def test_a_wrong_key_is_a_clear_error_without_retries(live, monkeypatch, run_cli):
    monkeypatch.setenv("OUTAGES_SHEETS_KEY", "no-such-key")
    assert run_cli("init").exit_code == 0
    out = run_cli("sync")
    assert out.exit_code != 0
    assert "Таблицю no-such-key не знайдено: перевірте OUTAGES_SHEETS_KEY" in out.output
    assert live.fake.calls(live.email) == [META]


def test_a_broken_key_file_says_what_to_do(live, monkeypatch, run_cli):
    monkeypatch.setenv("OUTAGES_GOOGLE_CREDENTIALS", '{"type": "authorized_user"}')
    assert run_cli("init").exit_code == 0
    out = run_cli("sync")
    assert out.exit_code != 0 and "Це не ключ сервісного акаунта" in out.output
    assert live.fake.calls() == []
