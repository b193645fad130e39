"""What a user sees from the CLI on good and unusable inputs; unusable input writes nothing."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import time_machine
from openpyxl import Workbook
from rows import FIELD_HEADERS, emergency, planned, update, write_csv
from sqlalchemy import create_engine, func, select

from outages.demo.build import HEADERS
from outages.schema import records, sync_runs


def counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        result = (conn.execute(select(func.count()).select_from(records)).scalar(),
                  conn.execute(select(func.count()).select_from(sync_runs)).scalar())
    engine.dispose()
    return result


@pytest.mark.clock
def test_missing_columns_are_named_with_the_setting_that_maps_them(run_cli, env, tmp_path):
    run_cli("init")
    bad = tmp_path / "bad.csv"
    bad.write_text("Позначка часу,Виконавець,Тип,Послуга,Район\n"
                   "22.11.2026 10:00,КП «Водоканал»,Аварія,Вода,Центральний\n",
                   encoding="utf-8")
    for command in (("sync", "--source", str(bad)), ("check", str(bad), "--json")):
        result = run_cli(*command)
        assert result.exit_code == 2
        assert "«Коротка інформація» (setting columns.summary)" in result.output
        assert "«Час настання події» (setting columns.event_at)" in result.output
        assert "[columns]" in result.output
    assert counts(env["OUTAGES_DATABASE_URL"]) == (0, 0)


def test_not_utf8_not_a_table_and_unreadable_files_fail_cleanly(run_cli, env, tmp_path):
    run_cli("init")
    latin = tmp_path / "cp1251.csv"
    latin.write_bytes(",".join(HEADERS).encode("cp1251"))
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    broken_xlsx = tmp_path / "export.xlsx"
    broken_xlsx.write_bytes(b"PK\x03\x04 not really a workbook")
    expectations = {
        str(latin): "не в кодуванні UTF-8",
        str(binary): "не CSV і не XLSX",
        str(broken_xlsx): "не XLSX",
        str(tmp_path / "missing.csv"): "Не вдається прочитати",
        str(tmp_path): "це тека",
    }
    for path, message in expectations.items():
        result = run_cli("sync", "--source", path)
        assert result.exit_code == 2, path
        assert message in result.output, (path, result.output)
    assert counts(env["OUTAGES_DATABASE_URL"]) == (0, 0)


@pytest.mark.clock
def test_a_broken_row_is_rejected_and_every_other_row_is_processed(run_cli, tmp_path):
    run_cli("init")
    path = write_csv(tmp_path / "rows.csv", emergency(), emergency(event_at="вчора", summary="Інша"), planned())
    result = run_cli("sync", "--source", path)
    assert result.exit_code == 0
    assert "рядок 3: Відхилено: Час настання події: «вчора» не розпізнано" in result.output
    assert "нових (new) 2" in result.output and "відхилено (rejected) 1" in result.output


@pytest.mark.clock
def test_check_json_has_the_pinned_shape_and_saves_nothing(run_cli, env, tmp_path):
    path = write_csv(tmp_path / "rows.csv", emergency(), planned(recorded_at="21.11.2026 09:00"), update(1),
                     emergency(kind="Пожежа", recorded_at="22.11.2026 14:09"))
    result = run_cli("check", path, "--json")  # before init: an empty store, and no database file is created
    assert result.exit_code == 0
    assert not (tmp_path / "outages.db").exists() or env["OUTAGES_DATABASE_URL"].startswith("postgresql")
    data = json.loads(result.output)
    assert data["summary"] == {"accepted": 3, "rejected": 1, "late": 1}
    assert data["rows"][0] == {"row": 2, "status": "accepted", "kind": "emergency", "action": "new", "record": 1,
                               "deadline": {"met": True, "delay_minutes": 25.55, "lead_hours": None}, "errors": [],
                               "verdict": "Прийнято, №1, вчасно (внесено через 26 хв)"}
    assert data["rows"][1]["deadline"] == {"met": False, "delay_minutes": None, "lead_hours": 48.0}
    assert data["rows"][1]["verdict"] == ("Прийнято, №2: повідомлено за 48 год до початку —"
                                          " на 24 год пізніше норми (72 год)")
    assert data["rows"][2] == {"row": 4, "status": "accepted", "kind": "emergency", "action": "update", "record": 1,
                               "deadline": None, "errors": [], "verdict": "Прийнято: оновлення №1"}
    rejected = data["rows"][3]
    assert rejected["status"] == "rejected" and rejected["record"] is None and rejected["deadline"] is None
    assert rejected["errors"] == ["Невідомий тип «Пожежа»: оберіть «Аварійна ситуація» або «Планові роботи»"]
    assert rejected["verdict"] == "Відхилено: Невідомий тип «Пожежа»: оберіть «Аварійна ситуація» або «Планові роботи»"
    run_cli("init")
    assert counts(env["OUTAGES_DATABASE_URL"]) == (0, 0)


@pytest.mark.clock
def test_xlsx_exports_read_like_csv(run_cli, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    row = emergency()
    values = [row.get(name, "") for name in FIELD_HEADERS]
    values[0] = datetime(2026, 11, 22, 14, 5, 33)  # a real date cell, as Sheets exports it
    values[11] = datetime(2026, 11, 22, 20, 0)
    values[12] = datetime(2026, 11, 22, 13, 40)
    sheet.append(values)
    path = tmp_path / "export.xlsx"
    book.save(path)
    run_cli("init")
    result = run_cli("check", str(path), "--json")
    data = json.loads(result.output)
    assert data["rows"][0]["deadline"] == {"met": True, "delay_minutes": 25.55, "lead_hours": None}


@time_machine.travel(datetime(2026, 11, 22, 21, 0), tick=False)
def test_records_and_the_deadline_report(run_cli, tmp_path):
    from conftest import DEMO_CSV

    run_cli("init")
    run_cli("sync", "--source", str(DEMO_CSV))
    active = json.loads(run_cli("records", "--active", "--format", "json").output)["records"]
    assert all(r["status"] == "active" for r in active) and len(active) == 13
    table = run_cli("records", "--active").output
    assert "ПРОСТРОЧЕНО" in table and "записів (records): 13" in table

    report = json.loads(run_cli("report", "deadlines", "--format", "json").output)
    water = next(u for u in report["utilities"] if u["executor"] == "КП «Водоканал»" and u["kind"] == "emergency")
    assert (water["records"], water["on_time"], water["late"], water["unit"]) == (3, 2, 1, "minutes")
    assert water["worst"] == 113.6
    assert [b["record"] for b in report["breaches"]] == [5, 7, 9, 11, 14, 16]
    only_21st = json.loads(run_cli("report", "deadlines", "--since", "21.11.2026", "--until", "2026-11-21",
                                   "--format", "json").output)
    assert [b["record"] for b in only_21st["breaches"]] == [5, 7]
    csv_out = run_cli("report", "deadlines", "--format", "csv").output.splitlines()
    assert csv_out[0] == "executor,kind,records,on_time,late,on_time_share,median,worst,unit"
    assert "КП «Водоканал»,emergency,3,2,1,0.6667,25.55,113.6,minutes" in csv_out
    text = run_cli("report", "deadlines").output
    assert "Порушення строків / breaches: 6" in text
    water_line = next(line for line in text.splitlines() if line.startswith("КП «Водоканал»") and "аварія" in line)
    assert water_line.split()[3:7] == ["3", "2", "1", "66,7"]  # records, on time, late, on-time %
    bad = run_cli("report", "deadlines", "--since", "2026-13-01")
    assert bad.exit_code == 2 and "--since 2026-13-01: такої дати немає" in bad.output


def test_commands_before_init_say_what_to_run(run_cli, tmp_path):
    result = run_cli("records")
    assert result.exit_code == 2 and "outages init" in result.output


def _export(rows: list[dict[str, str]], delimiter: str = ",", newline: str = "\r\n", bom: bool = False) -> bytes:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADERS)
    for fields in rows:
        writer.writerow([fields.get(name, "") for name in FIELD_HEADERS])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


# How exports reach the hub: Google's CSV (CRLF), Excel's «CSV UTF-8» (BOM, semicolons), a cell with line breaks
# and the odd separators Unicode has (which only CSV's own line ends may split).
EXPORTS = [
    ("google", {}, {}),
    ("excel", {"delimiter": ";", "bom": True}, {}),
    ("tabs, LF", {"delimiter": "\t", "newline": "\n"}, {}),
    ("a cell on three lines", {}, {"impact": "Немає води.\r\nПідвіз: вул. Садова, 3.\r\nТелефон 15-80"}),
    ("Unicode line and file separators", {}, {"impact": "Немає\u2028води\x1cдо вечора\u0085"}),
]


@pytest.mark.clock
@pytest.mark.parametrize(("name", "form", "cells"), EXPORTS, ids=[e[0] for e in EXPORTS])
def test_exports_as_programs_write_them_read_into_the_same_records(run_cli, tmp_path, name, form, cells):
    run_cli("init")
    path = tmp_path / "export.csv"
    path.write_bytes(_export([emergency(**cells), planned(), update(1)], **form))
    data = json.loads(run_cli("check", str(path), "--json").output)
    assert data["summary"] == {"accepted": 3, "rejected": 0, "late": 0}, data
    assert [r["row"] for r in data["rows"]] == [2, 3, 4]
    result = run_cli("sync", "--source", str(path))
    assert "нових (new) 2" in result.output and "оновлено (updated) 1" in result.output, result.output
    shown = {r["number"]: r for r in json.loads(run_cli("records", "--state", "all", "--format", "json").output)
             ["records"]}
    expected = {"a cell on three lines": "Немає води.\nПідвіз: вул. Садова, 3.\nТелефон 15-80",
                "Unicode line and file separators": "Немає води до вечора"}
    assert shown[1]["impact"] == expected.get(name, "Немає води")
    assert shown[2]["summary"] == "Заміна трансформатора"
