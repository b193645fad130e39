"""The console's record pages as an operator uses them (Flask's test client over a real store, both stores): a phone
report entered in the form, refused in words with nothing stored, its story, a correction, a cancellation and a
resend, each audited with the signed-in person."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from ops_client import audit_rows, csrf_token, make_app, signed_in, snapshot, text
from rows import emergency, table
from sqlalchemy import update

from outages.records.sync import sync
from outages.schema import outbox

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
OPERATOR = "olha@contact.example.org"
PHONE = {
    "kind": "emergency", "executor": "АТ «Обленерго»", "service": "Електропостачання", "districts": "Центральний",
    "addresses": "вул. Соборна, 10-16", "summary": "Пошкодження кабелю 10 кВ", "cause": "", "impact": "Немає світла",
    "event_at": "2026-11-22T17:30", "expected_end": "2026-11-22T23:00", "reported_at": "2026-11-22T17:40",
    "caller": "Диспетчер Степан Мельник, 067 111 22 33",
}


@pytest.fixture
def settings(mail_settings):
    """The city with its officials' directory (so records queue mail) and the key that signs sessions."""
    return mail_settings


@pytest.fixture
def app(engine, settings):
    return make_app(engine, settings, clock=lambda: NOW)


@pytest.fixture
def operator(app, engine):
    return signed_in(app, engine, OPERATOR, NOW)


def test_a_phone_report_from_the_form_to_the_public_page(app, operator, engine):
    form = operator.get("/ops/records/new")
    assert form.status_code == 200 and 'name="reported_at"' in form.get_data(as_text=True)
    answer = operator.post("/ops/records/new", data=PHONE | {"csrf_token": csrf_token(operator, "/ops/records/new")})
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/ops/records/1?said=")
    story = text(operator.get(answer.headers["Location"]))
    assert "Зроблено: Прийнято, №1, вчасно (внесено через 10 хв)" in story
    assert "за телефонним дзвінком" in story and "Степан Мельник" in story  # the caller: staff only
    public = app.test_client()
    assert public.get("/api/v1/outages/1").get_json()["source"] == "phone"
    assert "Мельник" not in public.get("/outages/1").get_data(as_text=True)
    [entry] = audit_rows(engine, "record_new")
    assert (entry.actor, entry.object) == (OPERATOR, "record:1")


@pytest.mark.parametrize(("change", "said"), [
    ({"districts": "Південний"}, "Невідомий район «Південний»"),
    ({"expected_end": "2026-11-22T12:00"}, "Термін ліквідації (22.11.2026 12:00) раніший"),
    ({"caller": ""}, "хто телефонував"),
])
def test_a_refused_phone_report_is_shown_beside_the_form_and_nothing_is_stored(operator, engine, change, said):
    before = snapshot(engine)
    answer = operator.post("/ops/records/new",
                           data=PHONE | change | {"csrf_token": csrf_token(operator, "/ops/records/new")})
    assert answer.status_code == 422
    page = text(answer)
    assert "Не прийнято, нічого не змінено" in page and said in page
    assert "Пошкодження кабелю 10 кВ" in page  # what was typed is kept for the fix
    assert snapshot(engine) == before


def test_correct_cancel_and_resend_from_the_record_page(app, operator, engine, settings):
    sync(engine, table(emergency()), settings, NOW)
    page = operator.get("/ops/records/1")
    assert page.status_code == 200
    token = csrf_token(operator, "/ops/records/1")
    refused = operator.post("/ops/records/1/correct", data={"csrf_token": token, "districts": "Південний",
                                                            "reason": "уточнення"})
    assert refused.status_code == 422 and "Невідомий район «Південний»" in text(refused)
    fixed = operator.post("/ops/records/1/correct", data={"csrf_token": token, "expected_end": "2026-11-23T02:00",
                                                          "reason": "Виконавець уточнив термін"})
    assert fixed.status_code == 303
    assert app.test_client().get("/api/v1/outages/1").get_json()["expected_end"] == "2026-11-23T02:00:00+02:00"
    story = text(operator.get("/ops/records/1"))
    assert "виправлено в консолі: Виконавець уточнив термін" in story
    assert "виправлення запису · olha@contact.example.org: Виконавець уточнив термін" in story

    gone = operator.post("/ops/records/1/cancel", data={"csrf_token": token, "reason": "Хибний виклик"})
    assert gone.status_code == 303
    assert "Скасовано 22.11 о 18:00: Хибний виклик" in text(app.test_client().get("/outages/1"))
    again = operator.post("/ops/records/1/cancel", data={"csrf_token": token, "reason": "ще раз"})
    assert again.status_code == 422 and "уже скасовано" in text(again)
    assert [r.action for r in audit_rows(engine) if r.action.startswith("record_")] == ["record_correct",
                                                                                        "record_cancel"]

    with engine.begin() as conn:  # a message that could not be delivered
        conn.execute(update(outbox).where(outbox.c.record_number == 1).values(status="failed"))
        failed = conn.execute(outbox.select().where(outbox.c.record_number == 1)).first()
    assert failed is not None
    assert "Надіслати повторно" in operator.get("/ops").get_data(as_text=True)
    sent = operator.post(f"/ops/outbox/{failed.id}/resend", data={"csrf_token": token})
    assert sent.status_code == 303
    assert [r.object for r in audit_rows(engine, "message_resend")] == ["record:1"]


def test_an_unknown_record_is_404(operator):
    assert operator.get("/ops/records/999").status_code == 404


def test_a_record_whose_row_was_deleted_from_the_sheet_is_listed_until_cancelled(operator, engine, settings):
    false_alarm = emergency(addresses="вул. Херсонська, 5", summary="Немає води (помилково)")
    real = emergency(addresses="вул. Соборна, 12", summary="Порив водогону")
    sync(engine, table(false_alarm, real), settings, NOW)
    assert "Таких записів немає" in text(operator.get("/ops"))
    sync(engine, table(real), settings, NOW)  # the dispatcher deleted the row: №1 is still public
    today = text(operator.get("/ops"))
    assert "Записи, рядки яких зникли з таблиці (1)" in today
    assert "№1 · КП «Водоканал» · Водопостачання Немає води (помилково) Рядок 2 зник із таблиці" in today
    token = csrf_token(operator, "/ops/records/1")
    assert operator.post("/ops/records/1/cancel", data={"csrf_token": token, "reason": "Хибний виклик"}) \
        .status_code == 303
    assert "Записи, рядки яких зникли з таблиці (0)" in text(operator.get("/ops"))


def test_the_story_shows_that_the_dispatchers_later_edit_won_over_a_correction(operator, engine, settings):
    sync(engine, table(emergency()), settings, NOW)
    token = csrf_token(operator, "/ops/records/1")
    operator.post("/ops/records/1/correct", data={"csrf_token": token, "expected_end": "2026-11-23T02:00",
                                                  "reason": "Уточнено телефоном"})
    sync(engine, table(emergency()), settings, NOW)  # unchanged: the correction stands
    assert "Термін 23.11.2026 02:00" in text(operator.get("/ops/records/1"))
    sync(engine, table(emergency(expected_end="23.11.2026 04:00")), settings, NOW)  # the row edited later
    story = text(operator.get("/ops/records/1"))
    assert "Термін 23.11.2026 04:00" in story
    assert story.index("виправлено в консолі: Уточнено телефоном") < story.index("рядок змінено диспетчером")
