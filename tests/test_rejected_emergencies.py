"""Rejected emergencies are chased (issue 19): a rejected «Аварійна ситуація» row reaches control in the next send,
once per row content, with the verdict the sheet shows, what the row said and the dispatcher's contact; and it
stays on /ops until the row is put right or a later row files that emergency again. Through the real sync, a real
SMTP server and both stores; the clock is passed in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ops_client import add_person, make_app, sign_in
from rows import emergency, planned, table, update
from smtp_peer import rows_of
from sqlalchemy import select

from outages.console import worklist
from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.schema import submissions

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
CONTROL = "control@example.org"
HEADERS = {"Content-Type", "MIME-Version", "Date", "Subject", "From", "To", "Message-ID"}
CHASE = re.compile(r"^\[ВІДХИЛЕНО\] Аварійна ситуація: рядок (\d+)")

# No water at Херсонська 5, in a district the city does not have.
REJECTED = emergency(districts="Південний", addresses="вул. Херсонська, 5", summary="Немає води",
                     contact_name="Олена Коваль", contact_phone="067 123 45 67", reporter_email="olena@example.org",
                     recorded_at="22.11.2026 15:10:00", event_at="22.11.2026 15:00")
SOUTH = ("Відхилено: Невідомий район «Південний»: оберіть «Заводський», «Інгульський», «Корабельний» або"
         " «Центральний»")


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def html(message) -> str:
    return message.get_body(("html",)).get_content()


def chased(peer, address: str = CONTROL) -> list:
    return [m for m in peer.to(address) if CHASE.match(m["Subject"])]


def send(engine, settings, table_, now=NOW):
    result = sync(engine, table_, settings, now)
    deliver_pending(engine, settings, now)
    return result


def test_control_reads_the_verdict_the_row_and_whom_to_ring_once_across_two_syncs_and_two_sends(
        engine, mail_settings, smtp_peer):
    sheet = table(emergency(), REJECTED)
    result = send(engine, mail_settings, sheet)
    send(engine, mail_settings, sheet, NOW + timedelta(minutes=5))  # the next round: same sheet, same outbox

    [message] = chased(smtp_peer)
    assert message["Subject"] == ("[ВІДХИЛЕНО] Аварійна ситуація: рядок 3 — КП «Водоканал» · Водопостачання"
                                  " · вул. Херсонська, 5")
    assert set(message.keys()) == HEADERS
    text = plain(message)
    # Word for word what the dispatcher's «Статус обробки» shows.
    row = next(d for d in result.plan.decisions if d.row == 3)
    assert result.plan.verdict(row) == SOUTH
    assert f"Статус обробки: {SOUTH}\n" in text
    for line in ("Рядок 3 форми відхилено", "Виконавець: КП «Водоканал»", "Послуга: Водопостачання",
                 "Райони: не прийнято, див. статус", "Адреси: вул. Херсонська, 5", "Коротко: Немає води",
                 "Час події: сьогодні о 15:00", "Термін ліквідації: сьогодні о 20:00", "Внесено: сьогодні о 15:10",
                 "Диспетчер: Олена Коваль, тел. 067 123 45 67, olena@example.org",
                 "Відхилені рядки, що чекають виправлення: https://hub.example.org/ops#rejected"):
        assert line in text, line
    page = html(message)
    assert 'href="tel:0671234567"' in page and "Олена Коваль" in page and SOUTH in page
    # Control only (the default routing): not the utility, not the officials who hear of records.
    assert [r.recipient for r in rows_of(engine) if r.kind == "rejected_emergency"] == [CONTROL]
    assert all(not CHASE.match(m["Subject"]) for m in smtp_peer.messages() if m["To"] != CONTROL)


@pytest.mark.parametrize(("row", "subject", "lines"), [
    pytest.param(
        emergency(event_at="22.11.2026", addresses="вул. Соборна, 12; вул. Адміральська, 3"),
        "[ВІДХИЛЕНО] Аварійна ситуація: рядок 2 — КП «Водоканал» · Водопостачання · вул. Соборна, 12…",
        ["хаб не прийняв повідомлення про аварійну ситуацію",
         "Статус обробки: Відхилено: Час настання події: «22.11.2026» — вказано лише дату",
         "Час події: не прийнято, див. статус", "Райони: Центральний",
         "Адреси: вул. Соборна, 12; вул. Адміральська, 3"],
        id="a time that cannot be read"),
    pytest.param(
        update(42, kind="Аварійна ситуація", contact_name="", contact_phone="", reporter_email=""),
        "[ВІДХИЛЕНО] Аварійна ситуація: рядок 2 — КП «Водоканал» · Оновлення №42",
        ["хаб не прийняв оновлення аварійної ситуації", "Дія: Оновлення, №42",
         "Статус обробки: Відхилено: Повідомлення №42 не знайдено", "Термін ліквідації: сьогодні о 23:00",
         "Послуга: не вказано", "Диспетчер: контакт не вказано"],
        id="an update naming a number the hub never gave"),
    pytest.param(
        emergency(executor="КП «Зеленбуд»", service="Інше", summary="Повалене дерево"),
        "[ВІДХИЛЕНО] Аварійна ситуація: рядок 2 — КП «Зеленбуд» · Інше · вул. Соборна, 12",
        ["Статус обробки: Відхилено: Невідомий виконавець «КП „Зеленбуд“»", "Виконавець: КП «Зеленбуд»",
         "Коротко: Повалене дерево", "Диспетчер: Іван Петренко, тел. 0501234567, ivan@example.org"],
        id="a utility the city does not know"),
])
def test_what_control_reads_for_each_kind_of_rejection(engine, mail_settings, smtp_peer, row, subject, lines):
    send(engine, mail_settings, table(row))
    [message] = chased(smtp_peer)
    assert message["Subject"] == subject
    text = plain(message)
    for line in lines:
        assert line in text, (line, text)


REJECTED_PLANNED = planned(districts="Південний")
OLD = emergency(districts="Південний", recorded_at="18.11.2026 10:00", event_at="18.11.2026 09:50",
                expected_end="18.11.2026 20:00")


@pytest.mark.parametrize(("rows", "mailed"), [
    pytest.param([REJECTED], {2}, id="a rejected emergency"),
    pytest.param([REJECTED_PLANNED], set(), id="rejected planned works: not chased"),
    pytest.param([emergency()], set(), id="an accepted emergency: its news, no chase"),
    pytest.param([emergency(), emergency()], set(), id="a repeat of an accepted row: nothing of its own"),
    pytest.param([emergency(), update(42, kind="Аварійна ситуація")], {3}, id="a rejected update of an emergency"),
    pytest.param([OLD], set(), id="older than news_max_hours when first seen: old news, /ops lists it"),
    pytest.param([REJECTED, REJECTED_PLANNED, emergency(recorded_at="22.11.2026 16:00", event_at="22.11.2026 15:55")],
                 {2}, id="only the rejected emergency of three rows"),
])
def test_which_rows_control_is_asked_to_chase(engine, mail_settings, smtp_peer, rows, mailed):
    send(engine, mail_settings, table(*rows))
    assert {int(CHASE.match(m["Subject"]).group(1)) for m in chased(smtp_peer)} == mailed
    assert len(chased(smtp_peer)) == len(mailed)


def test_a_row_once_accepted_then_broken_is_not_chased_its_record_was_told(engine, mail_settings, smtp_peer):
    send(engine, mail_settings, table(emergency()))
    send(engine, mail_settings, table(emergency(districts="Південний")), NOW + timedelta(minutes=5))
    with engine.connect() as conn:
        assert conn.execute(select(submissions.c.status)).scalars().all() == ["rejected"]
    assert chased(smtp_peer) == []


def test_an_edit_still_rejected_is_new_content_and_mailed_again_a_fix_is_not(engine, mail_settings, smtp_peer):
    send(engine, mail_settings, table(REJECTED))
    north = dict(REJECTED, districts="Північний")
    send(engine, mail_settings, table(north), NOW + timedelta(minutes=5))
    send(engine, mail_settings, table(north), NOW + timedelta(minutes=10))
    send(engine, mail_settings, table(dict(REJECTED, districts="Інгульський")), NOW + timedelta(minutes=15))
    first, second = chased(smtp_peer)
    assert "Невідомий район «Південний»" in plain(first)
    assert "Невідомий район «Північний»" in plain(second) and "Південний" not in plain(second)
    assert first["Message-ID"] != second["Message-ID"]


HOSTILE = '<script>alert("x")</script> & Ко'


def test_dispatcher_text_is_escaped_in_html_and_never_a_header(engine, mail_settings, smtp_peer):
    row = dict(REJECTED, summary=HOSTILE, addresses="вул. Херсонська, 5\r\nBcc: evil@example.org",
               contact_name='<img src=x onerror=alert(1)>')
    send(engine, mail_settings, table(row))
    [message] = chased(smtp_peer)
    assert set(message.keys()) == HEADERS and "Bcc" not in message
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    page = html(message)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Ко" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert f"Коротко: {HOSTILE}" in plain(message)  # the text part says what the dispatcher typed


@pytest.mark.parametrize("notify_toml", ['[routing]\nrejected_emergency = ["control", "executor"]'])
def test_a_city_can_route_the_chase_to_the_utility_too(engine, mail_settings, smtp_peer):
    send(engine, mail_settings, table(REJECTED))
    assert len(chased(smtp_peer, CONTROL)) == 1
    [utility] = chased(smtp_peer, "vodokanal@example.org")
    assert "Диспетчер: Олена Коваль" in plain(utility)
    assert chased(smtp_peer, "oblenergo@example.org") == []


# ---- the console's worklist ----

def listed(engine, settings) -> list[int]:
    with engine.connect() as conn:
        found = worklist.rejected(conn, settings.rules)
    assert found.total == len(found.items)
    return [item.row for item in found.items]


def test_a_rejected_emergency_stays_listed_first_until_a_later_row_files_it_again(engine, mail_settings, smtp_peer):
    rows = [emergency(), REJECTED, REJECTED_PLANNED]
    send(engine, mail_settings, table(*rows))
    assert listed(engine, mail_settings) == [3, 4]  # the emergency first, though the planned row is newer

    # The same utility's next water emergency, elsewhere (вул. Соборна, 40): not this one.
    elsewhere = emergency(addresses="вул. Соборна, 40", summary="Інший порив", recorded_at="22.11.2026 16:00",
                          event_at="22.11.2026 15:50")
    rows.append(elsewhere)
    send(engine, mail_settings, table(*rows), NOW + timedelta(minutes=5))
    assert listed(engine, mail_settings) == [3, 4]

    # The dispatcher, rung, sends the form again: Херсонська 5 in a real district. Row 3 waits no more.
    again = dict(REJECTED, districts="Інгульський", recorded_at="22.11.2026 16:30:00")
    rows.append(again)
    send(engine, mail_settings, table(*rows), NOW + timedelta(minutes=10))
    assert listed(engine, mail_settings) == [4]
    with engine.connect() as conn:
        status, detail = conn.execute(select(submissions.c.status, submissions.c.detail)
                                      .where(submissions.c.row_number == 3)).one()
    assert status == "rejected"  # the sheet's verdict of row 3 stays true
    assert detail["fixed_by"] == {"record": 3, "row": 6}
    assert len(chased(smtp_peer)) == 1  # and control was asked once


def test_the_same_row_edited_into_an_accepted_one_leaves_the_list(engine, mail_settings, smtp_peer):
    send(engine, mail_settings, table(emergency(), REJECTED))
    assert listed(engine, mail_settings) == [3]
    send(engine, mail_settings, table(emergency(), dict(REJECTED, districts="Інгульський")), NOW + timedelta(minutes=5))
    assert listed(engine, mail_settings) == []
    with engine.connect() as conn:
        assert conn.execute(select(submissions.c.status, submissions.c.record_number)
                            .where(submissions.c.row_number == 3)).one() == ("accepted", 2)
    assert len(chased(smtp_peer)) == 1  # the fix is news for officials, not a chase


def test_ops_shows_the_rejected_emergency_first_with_its_contact(engine, mail_settings, smtp_peer):
    send(engine, mail_settings, table(emergency(), REJECTED, REJECTED_PLANNED))
    app = make_app(engine, mail_settings, clock=lambda: NOW)
    add_person(engine, "operator@example.org", now=NOW)
    client = app.test_client()
    assert sign_in(client, "operator@example.org").status_code == 303
    page = client.get("/ops").get_data(as_text=True)
    assert "Відхилені рядки, що чекають виправлення <span class=\"count\">(2)</span>" in page
    assert page.index("Рядок 3 <span class=\"tag\">аварія</span>") < page.index("Рядок 4")
    assert "Олена Коваль" in page and SOUTH in page
