"""The pinned CLI, driven as a user would: init, sync, check --json, records, report."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import time_machine
from conftest import DEMO_CSV


@pytest.mark.clock
def test_demo_export_syncs_and_resyncs_without_changes(run_cli):
    assert run_cli("init").exit_code == 0
    first = run_cli("sync", "--source", str(DEMO_CSV))
    assert first.exit_code == 0, first.output
    assert "нових (new) 17" in first.output
    assert "ліквідовано (resolved) 4" in first.output
    assert "відхилено (rejected) 9" in first.output
    again = run_cli("sync", "--source", str(DEMO_CSV))
    assert "нових (new) 0 · оновлено (updated) 0 · ліквідовано (resolved) 0 · відхилено (rejected) 0" in again.output
    assert "без змін (unchanged) 34" in again.output
    listed = json.loads(run_cli("records", "--state", "all", "--format", "json").output)["records"]
    assert sorted(r["number"] for r in listed) == list(range(1, 18))
    everything = json.dumps(listed, ensure_ascii=False)
    for personal in ("Олена Ковальчук", "0512 47-11-02", "o.kovalchuk@example.org", "Ігор Бондар"):
        assert personal not in everything


# A clock after the moved rows: a stamp later than the clock would be refused as implausible.
@time_machine.travel(datetime(2028, 1, 31, tzinfo=timezone.utc), tick=False)
def test_the_demo_moved_to_another_day_keeps_every_verdict(run_cli, tmp_path):
    from outages.demo.build import ROWS, shifted, write

    moved = tmp_path / "moved.csv"
    write(moved, shifted(ROWS, 400))  # across a year and both clock changes
    original = json.loads(run_cli("check", str(DEMO_CSV), "--json").output)
    later = json.loads(run_cli("check", str(moved), "--json").output)
    assert later["summary"] == original["summary"] == {"accepted": 25, "rejected": 9, "late": 6}
    for before, after in zip(original["rows"], later["rows"]):
        assert (after["status"], after["record"], after["deadline"]) == (before["status"], before["record"],
                                                                          before["deadline"])
    assert "29.12.2027" in moved.read_text(encoding="utf-8")


@pytest.mark.clock
def test_check_on_a_file_from_another_sheet_says_it_is_compared_with_this_stores_records(run_cli, tmp_path):
    from rows import emergency, write_csv

    assert run_cli("init").exit_code == 0
    assert run_cli("sync", "--source", str(DEMO_CSV)).exit_code == 0
    other = write_csv(tmp_path / "other.csv", emergency(summary="Зовсім інша таблиця", addresses="вул. Садова, 3"))
    result = run_cli("check", other)
    assert result.exit_code == 0
    assert "Схоже, це файл іншої таблиці" in result.output and "1 змінили б її записи" in result.output
    same = run_cli("check", str(DEMO_CSV))  # the store's own sheet: no warning
    assert "іншої таблиці" not in same.output


@pytest.mark.clock
def test_rejected_lists_the_rows_awaiting_a_fix_with_the_dispatchers_contact(run_cli):
    assert run_cli("init").exit_code == 0
    assert run_cli("sync", "--source", str(DEMO_CSV)).exit_code == 0  # the demo has 9 rejected rows
    listed = json.loads(run_cli("rejected", "--format", "json").output)
    assert listed["total"] == 9 and len(listed["rows"]) == 9
    assert all(r["verdict"].startswith("Відхилено: ") for r in listed["rows"])
    assert any(r["contact"]["contact_name"] for r in listed["rows"])  # whom to call about the row
    text = run_cli("rejected", "--limit", "2").output
    assert text.count("\n  Відхилено: ") == 2 and "показано (shown) 2 з (of) 9" in text
