"""Every verdict the hub can give a form row, with a row that causes it: the text the dispatcher reads in
«Статус обробки», which `outages check` (table and JSON) and the reporter's mail repeat word for word."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, planned, resolve, table, update

from outages.records.parse import read_table
from outages.records.planner import KnownRecord, KnownSubmission, State, plan
from outages.records.sync import check
from outages.settings import load

SETTINGS = load(environ={})
KYIV = ZoneInfo("Europe/Kyiv")

ACCEPTED = [
    ("emergency on time", [emergency()], "Прийнято, №1, вчасно (внесено через 26 хв)"),
    ("emergency late", [emergency(recorded_at="22.11.2026 14:25:00")],
     "Прийнято, №1: внесено через 45 хв після події — на 15 хв пізніше норми (30 хв)"),
    ("emergency late by seconds", [emergency(recorded_at="22.11.2026 14:10:20")],
     "Прийнято, №1: внесено через 31 хв після події — на 1 хв пізніше норми (30 хв)"),
    ("planned on time", [planned()], "Прийнято, №1, вчасно (повідомлено за 72 год до початку)"),
    ("planned late", [planned(recorded_at="21.11.2026 07:00")],
     "Прийнято, №1: повідомлено за 50 год до початку — на 22 год пізніше норми (72 год)"),
    ("planned told after the start", [planned(recorded_at="23.11.2026 12:00", expected_end="23.11.2026 17:00")],
     "Прийнято, №1: повідомлено через 3 год після початку — на 75 год пізніше норми (72 год)"),
    ("update", [emergency(), update(1)], "Прийнято: оновлення №1"),
    ("resolved", [emergency(), resolve(1)], "Прийнято: №1 ліквідовано"),
]

REJECTED = [
    ("unknown kind, the list", [emergency(kind="Пожежа")],
     "Відхилено: Невідомий тип «Пожежа»: оберіть «Аварійна ситуація» або «Планові роботи»"),
    ("mistyped kind", [emergency(kind="Аварийна ситуація")],
     "Відхилено: Невідомий тип «Аварийна ситуація»: можливо, «Аварійна ситуація»?"),
    ("unknown action", [emergency(action="Скасовано")],
     "Відхилено: Невідома дія «Скасовано»: оберіть «Нове повідомлення», «Оновлення» або «Ліквідовано»"),
    ("mistyped action", [emergency(action="Нове повідомленя")],
     "Відхилено: Невідома дія «Нове повідомленя»: можливо, «Нове повідомлення»?"),
    ("record number not a number", [update("сорок")],
     "Відхилено: Номер повідомлення «сорок» має бути цілим числом, наприклад 42"),
    ("unknown utility, nested quotes, the list", [emergency(executor="КП «Зеленбуд»")],
     "Відхилено: Невідомий виконавець «КП „Зеленбуд“» (немає в довіднику міста): оберіть «КП „Водоканал“»,"
     " «КП „Теплоенерго“», «АТ „Обленерго“», «КП „Ліфтсервіс“», «КП „Автодор“» або «АТ „Міськгаз“»"),
    ("mistyped utility", [emergency(executor="КП Водоканл")],
     "Відхилено: Невідомий виконавець «КП Водоканл» (немає в довіднику міста): можливо, «КП „Водоканал“»?"),
    ("mistyped service", [emergency(service="Водопостачаня")],
     "Відхилено: Невідома послуга «Водопостачаня»: можливо, «Водопостачання»?"),
    ("unknown district, the list", [emergency(districts="Південний")],
     "Відхилено: Невідомий район «Південний»: оберіть «Заводський», «Інгульський», «Корабельний» або «Центральний»"),
    ("mistyped district", [emergency(districts="Центральнй")],
     "Відхилено: Невідомий район «Центральнй»: можливо, «Центральний»?"),
    ("time not understood", [emergency(event_at="вчора")],
     "Відхилено: Час настання події: «вчора» не розпізнано як дату й час (очікується ДД.ММ.РРРР ГГ:ХХ)"),
    ("date without a time", [emergency(event_at="22.11.2026")],
     "Відхилено: Час настання події: «22.11.2026» — вказано лише дату, потрібен ще й час: 22.11.2026 ГГ:ХХ"),
    ("a date that does not exist", [emergency(event_at="31.11.2026 13:40")],
     "Відхилено: Час настання події: «31.11.2026 13:40» — такої дати чи часу не існує (формат ДД.ММ.РРРР ГГ:ХХ)"),
    ("no form timestamp", [emergency(recorded_at="")],
     "Відхилено: Немає позначки часу внесення (стовпець Google Forms)"),
    ("a required field left empty", [emergency(event_at="")],
     "Відхилено: Не заповнено: час настання події (ДД.ММ.РРРР ГГ:ХХ)"),
    ("a new report with a number", [emergency(reference="5")],
     "Відхилено: Для нового повідомлення номер не вказують (вказано «5»): його присвоює хаб."
     " Щоб змінити запис, оберіть дію «Оновлення»"),
    ("an emergency in the future", [emergency(event_at="22.11.2026 15:00")],
     "Відхилено: Час настання аварії (22.11.2026 15:00) пізніший за час внесення (22.11.2026 14:05):"
     " аварія не може статися в майбутньому — вкажіть час, коли вона сталася, не пізніше 22.11.2026 14:05"),
    ("fixed before it happened", [emergency(expected_end="22.11.2026 13:00")],
     "Відхилено: Термін ліквідації (22.11.2026 13:00) раніший за час настання події (22.11.2026 13:40):"
     " вкажіть термін, не раніший за 22.11.2026 13:40"),
    ("a follow-up without a number", [update("")],
     "Відхилено: Для дії «Оновлення» вкажіть номер повідомлення, який присвоїв хаб;"
     " відкритих записів у КП «Водоканал» немає (про нову подію надішліть «Нове повідомлення»)"),
    ("a resolution without a number, the utility's open records", [emergency(), resolve("")],
     "Відхилено: Для дії «Ліквідовано» вкажіть номер повідомлення, який присвоїв хаб;"
     " відкриті записи КП «Водоканал»: №1"),
    ("an update that changes nothing", [emergency(), update(1, expected_end="")],
     "Відхилено: Оновлення без змін: вкажіть новий термін ліквідації або нову інформацію"),
    ("unknown number, the utility's open records", [emergency(), emergency(summary="Друга"), update(42)],
     "Відхилено: Повідомлення №42 не знайдено — відкриті записи КП «Водоканал»: №1, №2"),
    ("unknown number, no open records", [update(42)],
     "Відхилено: Повідомлення №42 не знайдено — відкритих записів у КП «Водоканал» немає"
     " (про нову подію надішліть «Нове повідомлення»)"),
    ("another utility's record", [planned(), emergency(), update(1)],
     "Відхилено: Повідомлення №1 подав інший виконавець (АТ «Обленерго»): перевірте номер"
     " — відкриті записи КП «Водоканал»: №2"),
    ("already resolved", [emergency(), resolve(1), update(1)],
     "Відхилено: Повідомлення №1 уже закрито як ліквідоване — про нову подію надішліть нове повідомлення"),
    ("new term before the event", [emergency(), update(1, expected_end="22.11.2026 12:00")],
     "Відхилено: Новий термін ліквідації (22.11.2026 12:00) раніший за час настання події (22.11.2026 13:40):"
     " вкажіть термін, не раніший за 22.11.2026 13:40"),
    ("the same row twice", [emergency(), emergency()],
     "Відхилено: Повторне надсилання: такий самий запис уже є в рядку 2 (№1) — цей рядок не враховано"),
    ("several problems at once", [emergency(districts="Марс", event_at="")],
     "Відхилено: Невідомий район «Марс»: оберіть «Заводський», «Інгульський», «Корабельний» або «Центральний»;"
     " Не заповнено: час настання події (ДД.ММ.РРРР ГГ:ХХ)"),
]


@pytest.mark.parametrize("rows, expected", [c[1:] for c in ACCEPTED + REJECTED],
                         ids=[c[0] for c in ACCEPTED + REJECTED])
def test_every_verdict_with_the_row_that_causes_it(rows: list[dict[str, Any]], expected: str):
    the_plan = check(None, table(*rows), SETTINGS)
    assert the_plan.verdict(the_plan.decisions[-1]) == expected


def _known(action: str, content_hash: str = "what the row said before") -> State:
    """A store that accepted row 2 earlier, as record №1 (or as an update of it)."""
    at = datetime(2026, 11, 22, 14, 5, 33, tzinfo=KYIV)
    state = State(next_number=2)
    state.records[1] = KnownRecord(number=1, executor="КП «Водоканал»", kind="emergency", status="active",
                                   event_at=datetime(2026, 11, 22, 13, 40, tzinfo=KYIV), expected_end=None,
                                   first_recorded_at=at, deadline_met=True)
    state.submissions["row:2"] = KnownSubmission(
        id=1, row_key="row:2", content_hash=content_hash, status="accepted", action=action, record_number=1,
        first_recorded_at=at, verdict={"row": 2, "status": "accepted", "kind": "emergency", "action": action,
                                       "record": 1, "deadline": None, "errors": []})
    return state


@pytest.mark.parametrize("action, row, expected", [
    ("new", emergency(event_at=""),
     "Відхилено: Не заповнено: час настання події (ДД.ММ.РРРР ГГ:ХХ); Запис №1 залишено без змін"),
    ("update", emergency(summary="Новий порив"),
     "Відхилено: Рядок уже прийнято як оновлення: щоб повідомити про нову подію, надішліть нову форму"),
], ids=["a broken edit of an accepted row", "an update row edited into a new report"])
def test_verdicts_that_need_what_the_store_knows(action: str, row: dict[str, Any], expected: str):
    rows = table(row)
    the_plan = plan(rows, read_table(rows, SETTINGS), _known(action), SETTINGS)
    assert the_plan.verdict(the_plan.decisions[0]) == expected


@pytest.mark.clock
def test_the_sheet_shows_what_check_json_says_for_the_demo_and_every_rejection(live, run_cli):
    from fake_sheets import KEY
    from rows import FIELD_HEADERS

    # The demo export, then one row for each rejection above (the demo's records stand in for earlier rows).
    for _name, rows, _expected in REJECTED:
        live.fake.append_form_row(KEY, {FIELD_HEADERS[k]: v for k, v in rows[-1].items()})
    before = run_cli("check", f"gsheet:{KEY}", "--json")
    assert before.exit_code == 0, before.output
    live.sync()
    after = run_cli("check", f"gsheet:{KEY}", "--json")  # now every row is known to the store: unchanged
    sheet = {n: live.fake.row(KEY, n)["Статус обробки"] for n in range(2, len(live.fake.sheet(KEY).rows) + 1)}
    for result in (before, after):
        said = {row["row"]: row["verdict"] for row in json.loads(result.output)["rows"]}
        assert said == {n: text for n, text in sheet.items() if text}
    assert sum(text.startswith("Відхилено: ") for text in sheet.values()) >= len(REJECTED)


def test_an_edited_row_is_judged_against_its_first_entry_in_the_citys_time():
    # The store hands the first entry back in UTC (12:05:33 UTC is 14:05 in Kyiv); the dispatcher edits the row,
    # moving the event after it. The verdict names both times as the sheet shows them, in Kyiv.
    state = _known("new")
    stored = state.submissions["row:2"]
    state.submissions["row:2"] = KnownSubmission(
        id=stored.id, row_key=stored.row_key, content_hash=stored.content_hash, status=stored.status,
        action=stored.action, record_number=1, first_recorded_at=datetime(2026, 11, 22, 12, 5, 33, tzinfo=UTC),
        verdict=stored.verdict)
    rows = table(emergency(event_at="22.11.2026 15:00", recorded_at="22.11.2026 16:00"))
    the_plan = plan(rows, read_table(rows, SETTINGS), state, SETTINGS)
    assert the_plan.verdict(the_plan.decisions[0]) == (
        "Відхилено: Час настання аварії (22.11.2026 15:00) пізніший за час внесення (22.11.2026 14:05):"
        " аварія не може статися в майбутньому — вкажіть час, коли вона сталася, не пізніше 22.11.2026 14:05;"
        " Запис №1 залишено без змін")
