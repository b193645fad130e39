"""Live sync through the real gspread client and a fake Sheets API: verdicts written back, one read and at most
one write per sync, rows sorted, deleted, inserted or edited between syncs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fake_sheets import KEY, NOW, WALL, DateCell
from sqlalchemy import func, select

from outages.records import views as queries
from outages.schema import events
from outages.times import fmt

HUB = ["spreadsheets.values.get"]
HUB_WRITE = ["spreadsheets.values.get", "spreadsheets.batchUpdate"]


def records(live):
    with live.engine.connect() as conn:
        return {r.number: r for r in queries.list_records(conn, NOW)}


def event_kinds(live):
    with live.engine.connect() as conn:
        return [row.kind for row in conn.execute(select(events.c.kind).order_by(events.c.id))]


def check_verdicts_belong(live) -> None:
    """Every verdict sits on the row it is about: a «new» row's number is the record with that row's summary,
    a follow-up's number is the one the dispatcher typed, a rejected row has no number."""
    found = records(live)
    sheet = live.fake.sheet(KEY)
    for n in range(2, len(sheet.rows) + 1):
        row = live.fake.row(KEY, n)
        number, status = row.get("Номер", ""), row.get("Статус обробки", "")
        if not row.get("Виконавець") and not row.get("Коротка інформація"):
            assert (number, status) == ("", ""), n
        elif status.startswith("Прийнято,"):
            record = found[number]
            assert (record.executor, fmt(record.event_at, live.settings.tz)) == (
                row["Виконавець"], row["Час настання події"][:16]), (n, row)
            assert status.startswith(f"Прийнято, №{number}")
        elif status.startswith("Прийнято:"):
            assert number == row["Номер повідомлення"], (n, row)
        else:
            assert status.startswith("Відхилено: ") and number == "", (n, row)


def test_first_sync_writes_every_verdict_in_one_request_then_nothing(live):
    result, batch = live.sync()
    assert result.counts["new"] == 17 and result.counts["rejected"] == 9
    # The metadata once per process, one read, one write (which also widens the grid for the hub columns).
    assert live.calls() == ["spreadsheets.get", "spreadsheets.values.get", "spreadsheets.batchUpdate"]
    assert live.fake.header(KEY)[-2:] == ["Номер", "Статус обробки"]
    shown = live.shown()
    assert shown[0] == (1, "Прийнято, №1, вчасно (повідомлено за 121 год до початку)")
    assert shown[3] == (4, "Прийнято, №4, вчасно (внесено через 24 хв)")
    assert shown[4] == (5, "Прийнято, №5: внесено через 110 хв після події — на 80 хв пізніше норми (30 хв)")
    assert shown[5] == (4, "Прийнято: оновлення №4")
    assert shown[7] == (4, "Прийнято: №4 ліквідовано")
    assert shown[11][1] == "Прийнято, №9: повідомлено за 50 год до початку — на 22 год пізніше норми (72 год)"
    assert ("", "Відхилено: Не заповнено: час настання події (ДД.ММ.РРРР ГГ:ХХ)") in shown
    assert ("", "Відхилено: Невідомий район «Південний»: оберіть «Заводський», «Інгульський», «Корабельний»"
                " або «Центральний»") in shown
    check_verdicts_belong(live)

    again, batch = live.sync()
    assert again.counts["unchanged"] == 34 and again.counts["new"] == 0
    assert live.calls() == HUB and batch.stats["cells_written"] == 0


def test_dispatchers_columns_are_never_in_a_write(live):
    before = [list(r[:16]) for r in live.fake.sheet(KEY).rows]
    live.sync()
    (body,) = live.writes()
    hub_cols = {16, 17}
    for request in body["requests"]:
        if "updateCells" in request:
            start = request["updateCells"]["start"]
            width = max(len(r.get("values", [])) for r in request["updateCells"]["rows"])
            assert set(range(start["columnIndex"], start["columnIndex"] + width)) <= hub_cols
    assert [list(r[:16]) for r in live.fake.sheet(KEY).rows] == before


def test_a_new_form_row_costs_one_read_and_one_small_write(live):
    live.sync()
    row = live.fake.append_form_row(KEY, {
        "Позначка часу": DateCell.of(WALL - timedelta(minutes=20)),
        "Виконавець": "КП «Водоканал»", "Тип": "Аварійна ситуація", "Послуга": "Водопостачання",
        "Район": "Центральний", "Адреси": "вул. Соборна, 3", "Коротка інформація": "Порив на вводі",
        "Термін ліквідації": DateCell.of(WALL + timedelta(hours=6)),
        "Час настання події": DateCell.of(WALL - timedelta(minutes=35)),
    })
    result, batch = live.sync()
    assert result.counts["new"] == 1 and live.calls() == HUB_WRITE
    assert live.fake.row(KEY, row)["Номер"] == 18
    assert live.fake.row(KEY, row)["Статус обробки"] == "Прийнято, №18, вчасно (внесено через 15 хв)"
    (body,) = live.writes()
    assert len(body["requests"]) == 1 and batch.stats["cells_written"] == 2


def test_rows_sorted_between_syncs_keep_their_verdicts_and_make_no_duplicates(live):
    live.sync()
    live.fake.sort_rows(KEY, "Виконавець", reverse=True)
    result, batch = live.sync()
    assert result.counts["unchanged"] == 34 and result.counts["new"] == 0
    assert live.calls() == HUB  # the hub cells moved with their rows: nothing to write
    assert sorted(records(live)) == list(range(1, 18))
    check_verdicts_belong(live)


def test_a_row_sorted_and_edited_between_syncs_is_an_edit_of_its_own_record(live):
    live.sync()
    live.fake.sort_rows(KEY, "Коротка інформація")
    moved = next(n for n in range(2, 40) if live.fake.row(KEY, n)["Номер"] == 3
                 and live.fake.row(KEY, n)["Статус обробки"].startswith("Прийнято, №3"))
    live.fake.set_cell(KEY, moved, "Коротка інформація", "Уточнено: заміна засувки і ділянки труби")
    kinds_before = len(event_kinds(live))
    result, _ = live.sync()
    assert result.counts["new"] == 0 and result.counts["updated"] == 1
    assert records(live)[3].summary == "Уточнено: заміна засувки і ділянки труби"
    assert len(records(live)) == 17
    assert event_kinds(live)[kinds_before:] == ["edited"]
    check_verdicts_belong(live)


def test_rows_deleted_and_inserted_between_syncs(live):
    live.sync()
    live.fake.delete_row(KEY, 3)  # record №2's row is gone
    live.fake.insert_row(KEY, 2, [])  # an empty row pushed everything down
    result, _ = live.sync()
    assert result.counts["new"] == 0 and result.counts["updated"] == 0
    assert len(records(live)) == 17
    assert live.calls() == HUB
    check_verdicts_belong(live)


def test_rows_sorted_between_read_and_write_are_put_right_by_the_next_sync(live):
    # The worst case: a dispatcher sorts while the hub is between its read and its write. One write per sync
    # cannot be conditional, so verdicts may land on moved rows; the next read sees it and rewrites them, and
    # identity by content means the store is never wrong (no duplicate, no edit of the wrong record).
    live.fake.after("spreadsheets.values.get", lambda: live.fake.sort_rows(KEY, "Коротка інформація"))
    live.sync()
    assert len(records(live)) == 17
    result, _ = live.sync()
    assert result.counts["new"] == 0 and result.counts["updated"] == 0 and len(records(live)) == 17
    assert live.calls() == HUB_WRITE
    check_verdicts_belong(live)
    live.sync()
    assert live.calls() == HUB


def test_a_row_edited_after_its_verdict_gets_a_new_verdict(live):
    live.sync()
    assert live.fake.row(KEY, 5)["Статус обробки"] == "Прийнято, №4, вчасно (внесено через 24 хв)"
    live.fake.set_cell(KEY, 5, "Час настання події", "")  # the dispatcher cleared the event time
    live.fake.set_cell(KEY, 5, "Позначка часу", DateCell.of(WALL))  # Google re-stamps
    result, _ = live.sync()
    assert live.calls() == HUB_WRITE and result.counts["rejected"] == 1
    assert live.fake.row(KEY, 5)["Номер"] == 4
    assert live.fake.row(KEY, 5)["Статус обробки"] == ("Відхилено: Не заповнено: час настання події"
                                                         " (ДД.ММ.РРРР ГГ:ХХ); Запис №4 залишено без змін")
    assert records(live)[4].status == "resolved"  # the record is as it was

    live.fake.set_cell(KEY, 5, "Час настання події", DateCell.of(
        (records(live)[4].event_at.astimezone(live.settings.tz) + timedelta(minutes=5)).replace(tzinfo=None)))
    result, _ = live.sync()
    assert result.counts["updated"] == 1
    assert live.fake.row(KEY, 5)["Статус обробки"] == "Прийнято, №4, вчасно (внесено через 19 хв)"
    assert event_kinds(live)[-1] == "edited"


def test_verdict_text_is_written_as_text_never_as_a_formula(live):
    live.sync()
    row = live.fake.append_form_row(KEY, {"Позначка часу": DateCell.of(WALL),
                                          "Виконавець": '=IMPORTXML("http://x.test","//a")',
                                          "Тип": "Аварійна ситуація"})
    live.sync()
    (body,) = live.writes()
    cells = [c for r in body["requests"] for row_ in r["updateCells"]["rows"] for c in row_["values"]]
    assert all("formulaValue" not in c.get("userEnteredValue", {}) for c in cells)
    assert live.fake.row(KEY, row)["Статус обробки"].startswith('Відхилено: Невідомий виконавець «=IMPORTXML(')


@pytest.mark.clock
def test_credentials_from_a_file_and_a_named_worksheet(fake, env, monkeypatch, tmp_path, run_cli):
    from fake_sheets import live_env

    values = live_env(fake, monkeypatch)
    key_file = tmp_path / "key.json"
    key_file.write_text(values["_info"], encoding="utf-8")
    monkeypatch.delenv("OUTAGES_GOOGLE_CREDENTIALS")
    monkeypatch.setenv("OUTAGES_GOOGLE_CREDENTIALS_FILE", str(key_file))
    assert run_cli("init").exit_code == 0
    out = run_cli("sync", "--source", f"gsheet:{KEY}#Відповіді форми (1)")
    assert out.exit_code == 0, out.output
    assert "нових (new) 17" in out.output
    assert fake.row(KEY, 2)["Статус обробки"] == "Прийнято, №1, вчасно (повідомлено за 121 год до початку)"
    # Without --source the configured sheet is used.
    again = run_cli("sync")
    assert "без змін (unchanged) 34" in again.output
    wrong = run_cli("sync", "--source", f"gsheet:{KEY}#Аркуш2")
    assert wrong.exit_code != 0 and "Аркуш «Аркуш2» не знайдено" in wrong.output
    config = run_cli("config")
    assert values["_info"][:40] not in config.output and "OUTAGES_GOOGLE_CREDENTIALS = ***" in config.output


def test_store_keeps_one_submission_per_row(live):
    live.sync()
    live.fake.sort_rows(KEY, "Виконавець")
    live.sync()
    from outages.schema import submissions

    with live.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(submissions)).scalar() == 34


def test_dates_are_read_in_the_spreadsheets_own_time_zone(live):
    live.fake.books[KEY].time_zone = "Europe/London"  # the sheet's owner left it on London time
    live.sync()
    first = records(live)[1]
    # «18.11.2026 08:12:40» London is 10:12:40 in Kyiv.
    assert fmt(first.first_recorded_at, live.settings.tz) == "18.11.2026 10:12"


def test_hub_columns_are_found_by_header_wherever_they_are(live, monkeypatch):
    from outages.settings import load
    from sheets.sources import open_source

    monkeypatch.setenv("OUTAGES_SHEETS_STATUS_HEADER", "Результат")
    sheet = live.fake.sheet(KEY)
    sheet.rows[0][16:] = ["Результат", "Примітка диспетчера", "Номер"]  # someone moved them apart
    sheet.column_count = 19
    sheet.rows[1][16:] = ["", "перевірити", ""]
    live.settings = load()
    live._source = open_source(None, live.settings)
    live.sync()
    assert live.fake.row(KEY, 2)["Результат"] == "Прийнято, №1, вчасно (повідомлено за 121 год до початку)"
    assert live.fake.row(KEY, 2)["Номер"] == 1
    assert live.fake.row(KEY, 2)["Примітка диспетчера"] == "перевірити"
    assert live.fake.header(KEY)[16:] == ["Результат", "Примітка диспетчера", "Номер"]
