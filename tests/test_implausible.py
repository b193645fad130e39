"""Implausible input is refused row by row, with a reason naming the value and the limit; every other row is
processed. Through `outages check --json` and a real `outages sync`, on both stores."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rows import emergency, planned, write_csv
from sqlalchemy import create_engine, select

from outages.demo.build import HEADERS
from outages.schema import records

KYIV = ZoneInfo("Europe/Kyiv")
CLOCK = datetime(2026, 11, 22, 21, 0, tzinfo=KYIV)
NBSP = "\u00a0"

# (the row, what its reason says): rows 3… of the file, between two good rows.
REJECTED = [
    (emergency(recorded_at="01.01.2043 10:00:00", event_at="01.01.2043 09:50", expected_end="01.01.2043 15:00",
               summary="Штамп із 2043"),
     "Позначка часу «01.01.2043 10:00» пізніша за поточний час «22.11.2026 21:00»"
     " (допустима розбіжність годинників — 5 хв): такого внесення ще не було"),
    (emergency(recorded_at="22.11.2026 21:20:00", event_at="22.11.2026 21:10", summary="Штамп на 20 хв уперед"),
     "Позначка часу «22.11.2026 21:20» пізніша за поточний час «22.11.2026 21:00»"),
    (emergency(recorded_at="01.01.1900 10:00:00", event_at="01.01.1900 09:50", expected_end="01.01.1900 15:00",
               summary="Штамп із 1900"),
     "Позначка часу «01.01.1900 10:00» раніше за найранішу допустиму дату «01.01.2020 00:00»: перевірте рік"),
    (emergency(event_at="10.10.2026 13:40", summary="Подія за 43 дні до внесення"),
     "Час настання події «10.10.2026 13:40» раніше за час внесення «22.11.2026 14:05» на 43 дн. — більше за"
     " допустимі 31 дн.: перевірте дату"),
    (emergency(summary="Т" * 60_000),
     f"Поле «коротка інформація» (I) має 60{NBSP}000 символів — більше за межу Google Таблиць у 50{NBSP}000:"
     " рядок не прийнято"),
    # Past the csv module's own 128 KiB field limit, which used to refuse the whole file.
    (emergency(impact="Ж" * 1_000_000, summary="Мегабайт наслідків"),
     f"Поле «наслідки для мешканців» (K) має 1{NBSP}000{NBSP}000 символів"),
]


def stored_summaries(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = list(conn.execute(select(records.c.summary).order_by(records.c.number)).scalars())
    engine.dispose()
    return found


@time_machine.travel(CLOCK, tick=False)
def test_each_implausible_row_is_refused_with_its_reason_and_the_others_are_accepted(run_cli, env, tmp_path):
    run_cli("init")
    sheet = tmp_path / "responses.csv"
    write_csv(sheet, emergency(), *[row for row, _ in REJECTED], planned())
    last = len(REJECTED) + 3

    checked = run_cli("check", str(sheet), "--json")
    assert checked.exit_code == 0, checked.output
    verdicts = {row["row"]: row for row in json.loads(checked.output)["rows"]}
    assert verdicts[2]["status"] == verdicts[last]["status"] == "accepted"
    for number, (_, reason) in enumerate(REJECTED, start=3):
        assert verdicts[number]["status"] == "rejected"
        assert any(reason in error for error in verdicts[number]["errors"]), (number, verdicts[number]["errors"])

    synced = run_cli("sync", "--source", str(sheet))
    assert synced.exit_code == 0, synced.output
    for number, (_, reason) in enumerate(REJECTED, start=3):
        assert f"рядок {number}: Відхилено: " in synced.output and reason in synced.output
    # Only the two plausible rows became records; nothing of the refused ones reached the store.
    assert stored_summaries(env["OUTAGES_DATABASE_URL"]) == ["Порив водогону", "Заміна трансформатора"]


@time_machine.travel(CLOCK, tick=False)
@pytest.mark.parametrize(("rules", "row", "status"), [
    ("max_event_age_days = 60", emergency(event_at="10.10.2026 13:40"), "accepted"),
    ("max_event_age_days = 7", emergency(event_at="10.11.2026 13:40"), "rejected"),
    ('earliest_date = "01.01.2027"', emergency(), "rejected"),
    ("earliest_date = 2010-01-01", emergency(recorded_at="01.06.2019 10:00:00", event_at="01.06.2019 09:50",
                                             expected_end="01.06.2019 15:00"), "accepted"),
])
def test_the_limits_are_the_citys_to_set(run_cli, env, tmp_path, monkeypatch, rules, row, status):
    config = tmp_path / "outages.toml"
    config.write_text(f"[rules]\n{rules}\n", encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    sheet = tmp_path / "responses.csv"
    write_csv(sheet, row)
    checked = json.loads(run_cli("check", str(sheet), "--json").output)
    assert checked["rows"][0]["status"] == status, checked["rows"][0]["errors"]


@pytest.mark.clock
def test_two_columns_mapped_to_one_setting_refuse_the_table_naming_both_and_the_setting(run_cli, env, tmp_path):
    run_cli("init")
    sheet = tmp_path / "responses.csv"
    doubled = [*HEADERS, "Район"]
    import csv

    with sheet.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(doubled)
        writer.writerow([emergency()[k] for k in emergency()] + ["Заводський"])
    for command in (("check", str(sheet), "--json"), ("sync", "--source", str(sheet))):
        result = run_cli(*command)
        assert result.exit_code == 2
        assert ("стовпці G і Q мають однаковий заголовок «Район», який відповідає налаштуванню columns.districts"
                in result.output)
    assert stored_summaries(env["OUTAGES_DATABASE_URL"]) == []
