"""`outages records --q` and `outages record N` (issue 19, CLI parity for 3 a.m. over SSH), on SQLite and PostgreSQL:
records found as residents name the house (Latin letters, typos) through the real sync of a sheet export; a
record's whole story — its form rows with their verdicts, events of any kind, people's actions, every message and
its delivery after `outages send` to a real SMTP peer, residents' messages counted — and, at a year's scale, a story
read in a bounded number of statements, each a range of an index, never a scan."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rows import emergency, planned, resolve, update, write_csv
from sqlalchemy import event, insert, select, text

from outages.console import audit as trail
from outages.console.story import MESSAGES, story
from outages.db import bulk_insert
from outages.officials import relay
from outages.schema import (
    audit,
    delivery_attempts,
    events,
    outbox,
    records,
    relay_confirmations,
    submissions,
)

KYIV = ZoneInfo("Europe/Kyiv")
SYNCED = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)  # the clock of the sync and of every command here

# Record numbers follow the accepted new rows: №1 … №6. Sheet rows from 2.
ROWS = (
    emergency(addresses="вул. Потьомкінська, 120-160", recorded_at="22.11.2026 14:01"),  # №1, row 2
    emergency(addresses="вул. Соборна, 12, 14", recorded_at="22.11.2026 14:02"),  # №2, row 3
    emergency(addresses="вул. Соборна, непарні 1-25", recorded_at="22.11.2026 14:03",  # №3, row 4: overdue at 18:00
              expected_end="22.11.2026 16:00"),
    planned(addresses="вул. Потьомкінська, 130"),  # №4, row 5: tomorrow 09:00–17:00
    planned(addresses="вул. Соборна, 14", recorded_at="15.11.2026 09:00", event_at="20.11.2026 09:00",  # №5, row 6:
            expected_end="20.11.2026 17:00"),  # ended as planned
    emergency(addresses="вул. Адміральська, 12а", recorded_at="22.11.2026 14:04"),  # №6, row 7
    resolve(6),  # row 8: №6 resolved
    update(2, summary="Бригада на місці", recorded_at="22.11.2026 16:00", expected_end="22.11.2026 23:00"),  # row 9
    emergency(districts="Нікуди", addresses="вул. Соборна, 14", recorded_at="22.11.2026 15:00"),  # row 10: rejected
)

LIVE, ALL = "live", "all"
SEARCHES = [
    # typed, state, the records listed (newest first)
    ("Потьомкінська 130", LIVE, [4, 1]),  # a house inside an emergency's range and planned works at it
    ("Potiomkinska 130", LIVE, [4, 1]),  # Latin letters
    ("потьомкинська 130", LIVE, [4, 1]),  # misspelt
    ("Потьомкінська 170", LIVE, []),  # outside the range
    ("Соборна 14", LIVE, [2]),
    ("Соборна 14", ALL, [5, 2]),  # and the planned works that ended on the 20th
    ("Соборна 7", LIVE, [3]),  # the odd side, overdue
    ("Soborna", LIVE, [3, 2]),  # a street alone
    ("Адміральська 12а", LIVE, []),  # resolved
    ("Адміральська 12а", ALL, [6]),
    ("Неіснуюча 5", ALL, []),
    ("", LIVE, [4, 3, 2, 1]),  # no query: the live records
    ("", ALL, [6, 5, 4, 3, 2, 1]),
]


def sync_export(run_cli, tmp_path) -> str:
    """The rows above synced at SYNCED through `outages sync --source export.csv`."""
    export = write_csv(tmp_path / "export.csv", *ROWS)
    with time_machine.travel(SYNCED, tick=False):
        assert run_cli("init").exit_code == 0
        result = run_cli("sync", "--source", export)
    assert result.exit_code == 0, result.output
    assert "нових (new) 6" in result.output and "відхилено (rejected) 1" in result.output, result.output
    return export


@pytest.fixture
def synced(run_cli, tmp_path) -> str:
    return sync_export(run_cli, tmp_path)


@pytest.mark.parametrize("typed, state, expected", SEARCHES)
def test_records_are_found_as_a_resident_names_the_house(synced, run_cli, typed, state, expected):
    with time_machine.travel(SYNCED, tick=False):
        found = json.loads(run_cli("records", "--q", typed, "--state", state, "--format", "json").output)
        shown = run_cli("records", "--q", typed, "--state", state)
    assert [r["number"] for r in found["records"]] == expected
    assert found["total"] == len(expected) and found["more"] == 0 and found["state"] == state
    assert shown.exit_code == 0
    table = [line.split()[0] for line in shown.output.splitlines() if re.match(r"\d+ ", line)]
    assert table == [str(n) for n in expected]
    if expected:
        assert f"записів (records): {len(expected)}" in shown.output
    else:
        assert "записів не знайдено (no records)" in shown.output


def test_the_list_says_each_records_state_and_the_house_answer_in_ukrainian(synced, run_cli):
    with time_machine.travel(SYNCED, tick=False):
        house = run_cli("records", "--q", "Соборна 7").output
        everything = run_cli("records", "--state", "all").output
        unknown = run_cli("records", "--q", "Неіснуюча 5").output
    assert house.startswith("За адресою вул. Соборна, 7 зараз: Водопостачання (аварія, №3) — термін минув")
    row = next(line for line in house.splitlines() if line.startswith("3 "))
    assert "ПРОСТРОЧЕНО" in row and "аварія" in row and "Центральний" in row and "22.11.2026 16:00" in row
    states = {line.split()[0]: line for line in everything.splitlines() if re.match(r"\d+ ", line)}
    assert "завершено за планом" in states["5"] and "планові роботи" in states["5"]
    assert "ліквідовано" in states["6"] and "активний" in states["4"] and "23.11.2026 17:00" in states["4"]
    assert "записів (records): 6" in everything and "лише діючі" not in everything
    assert unknown.startswith("Вулицю «Неіснуюча 5» не знайдено в довіднику міста")


def test_the_list_is_bounded_and_says_how_many_more(synced, run_cli):
    with time_machine.travel(SYNCED, tick=False):
        two = run_cli("records", "--state", "all", "--limit", "2")
        data = json.loads(run_cli("records", "--state", "all", "--limit", "2", "--format", "json").output)
        everything = json.loads(run_cli("records", "--state", "all", "--limit", "0", "--format", "json").output)
    assert [r["number"] for r in data["records"]] == [6, 5] and (data["total"], data["more"]) == (6, 4)
    assert "показано (shown) 2 найновіших, ще (more) 4" in two.output
    assert len(everything["records"]) == 6 and everything["more"] == 0
    for private in ("Іван Петренко", "0501234567", "ivan@example.org"):  # a list names no dispatcher
        assert private not in json.dumps(everything, ensure_ascii=False)


# ---- a record's story ----

def test_a_records_story_from_the_sheet_to_the_mail_server(mail_settings, smtp_peer, engine, run_cli, tmp_path):
    synced = sync_export(run_cli, tmp_path)  # with the officials' directory of mail_settings
    smtp_peer.refuse = {"press@example.org"}  # one mailbox gone: the story must say why that mail did not go
    with time_machine.travel(SYNCED, tick=True):  # the SMTP conversation's timeouts need a clock that moves
        sent = run_cli("send")
    assert sent.exit_code == 1 and "ПОМИЛКА доставки / delivery FAILED" in sent.output, sent.output
    with engine.begin() as conn:
        asked = conn.execute(select(outbox.c.recipient).where(outbox.c.record_number == 2, outbox.c.relay.is_(True))
                             .order_by(outbox.c.id)).scalars().first()
        relay.confirm(conn, 2, relay.recipient_key(asked), SYNCED + timedelta(minutes=20))
        trail.write(conn, at=SYNCED + timedelta(minutes=30), actor="chief@city.example", action="record_correct",
                    object=trail.record_object(2), reason="адресу уточнено телефоном")
        # Kinds another part of the console writes, and one nobody knows yet: read as they come.
        conn.execute(insert(events), [
            {"record_number": 2, "kind": "cancelled", "at": SYNCED + timedelta(minutes=40),
             "created_at": SYNCED + timedelta(minutes=40), "revision": 3, "data": {"reason": "хибний виклик"}},
            {"record_number": 2, "kind": "mystery", "at": SYNCED + timedelta(minutes=41),
             "created_at": SYNCED + timedelta(minutes=41), "revision": 3, "data": {"answer": 42}}])
        bulk_insert(conn, outbox, _residents_mail(2, SYNCED, [("email", "sent", 1240), ("email", "failed", 3),
                                                              ("telegram", "sent", 15)]))

    with time_machine.travel(SYNCED + timedelta(hours=1), tick=False):
        shown = run_cli("record", "2")
        data = json.loads(run_cli("record", "2", "--format", "json").output)
        verdicts = {r["row"]: r["verdict"] for r in json.loads(run_cli("check", synced, "--json").output)["rows"]}
    assert shown.exit_code == 0, shown.output
    out = shown.output
    lines = out.splitlines()
    assert lines[0] == "Запис №2 · аварія · активний (active)"
    assert "Контакт диспетчера (лише для персоналу / staff only): Іван Петренко · 0501234567 · ivan@example.org" in out
    assert "Подія: 22.11.2026 13:40 · термін: 22.11.2026 23:00 · внесено: 22.11.2026 14:02" in out

    timeline = lines[lines.index("Хронологія / timeline") + 1:]
    said = [line[20:] for line in timeline if line.startswith("  2")]  # after «  22.11.2026 18:00  »
    # The form rows with the verdicts the sheet was given (the same text `outages check` shows).
    assert f"рядок форми 3: {verdicts[3]}" in said and verdicts[3].startswith("Прийнято, №2, вчасно")
    assert f"рядок форми 9: {verdicts[9]}" in said and verdicts[9] == "Прийнято: оновлення №2"
    assert "  22.11.2026 14:02  подія: створено (created) · рядок 3" in timeline
    assert ("  22.11.2026 16:00  подія: оновлення (updated) · рядок 9 · «Бригада на місці» · новий термін 22.11.2026"
            " 23:00 · змінено: термін") in timeline
    assert "  22.11.2026 18:40  подія: скасовано (cancelled) · reason: хибний виклик" in timeline
    assert "  22.11.2026 18:41  подія: mystery · {\"answer\": 42}" in timeline
    assert ("  22.11.2026 18:30  дія: виправлення запису (record_correct) · chief@city.example · «адресу уточнено"
            " телефоном»") in timeline
    assert f"  22.11.2026 18:20  передачу підтвердив(ла) {asked} · нове повідомлення (created)" in timeline
    mails = [line for line in timeline if "e-mail: нове повідомлення (created) → " in line]
    assert len(mails) == 5 and all(line.startswith("  22.11.2026 18:00  ") for line in mails)
    assert [line.rsplit(" · ", 1)[1] for line in mails if "<press@example.org>" not in line] == ["надіслано (sent)"] * 4
    assert ("  22.11.2026 18:00  e-mail: нове повідомлення (created) → Заступник <deputy@example.org>"
            " · надіслано (sent)") in mails
    section = lines[lines.index(next(line for line in lines if line.startswith("Повідомлення посадовцям"))):]
    deputy = section.index(next(line for line in section if "<deputy@example.org>" in line))
    assert section[deputy].endswith(" · нове повідомлення (created) · Заступник <deputy@example.org>"
                                    " (заступник міського голови)")
    assert re.match(r"      надіслано \(sent\) 22\.11\.2026 18:0\d · спроб 1 · 250 2\.0\.0 Ok: queued as TEST\d+$",
                    section[deputy + 1]), section[deputy + 1]
    press = section.index(next(line for line in section if "<press@example.org>" in line))
    assert section[press + 1].startswith("      не доставлено (failed) 22.11.2026 18:0")
    assert re.match(r"      спроба 22\.11\.2026 18:0\d · failed · .+ · RCPT TO refused: 550 5\.1\.1 <press@",
                    section[press + 2]), section[press + 2]
    assert "мешканцям (e-mail): 1 240 надіслано (sent)" in out
    assert out.rstrip().endswith("Мешканцям / residents: e-mail: 1 240 надіслано, 3 не доставлено"
                                 " · Telegram: 15 надіслано")
    times = [datetime.strptime(line[2:18], "%d.%m.%Y %H:%M") for line in timeline if line.startswith("  ")
             and re.match(r"  \d\d\.\d\d\.\d{4} ", line)]
    assert times == sorted(times) and len(times) >= 10

    # JSON: the same story as data, each message with its delivery attempts as the peer answered them.
    assert data["record"]["contact"] == {"name": "Іван Петренко", "phone": "0501234567", "email": "ivan@example.org",
                                         "caller": ""}
    assert [r["row"] for r in data["rows"]["items"]] == [3, 9]
    assert [e["kind"] for e in data["events"]["items"]] == ["created", "updated", "cancelled", "mystery"]
    listed = data["messages"]["items"]
    received = {r for m in smtp_peer.received for r in m.rcpt_tos}
    assert {m["recipient"] for m in listed if m["channel"] == "email"} - received == {"press@example.org"}
    delivered = [m for m in listed if m["recipient"] != "press@example.org"]
    assert len(delivered) == 4 and all(
        m["status"] == "sent" and m["delivery_attempts"][-1]["result"] == "sent"
        and m["delivery_attempts"][-1]["answer"].startswith("250 2.0.0 Ok: queued as TEST") for m in delivered)
    refused = next(m for m in listed if m["recipient"] == "press@example.org")
    assert refused["status"] == "failed" and [a["result"] for a in refused["delivery_attempts"]] == ["failed"]
    assert "550 5.1.1" in refused["error"] and "550 5.1.1" in refused["delivery_attempts"][0]["error"]
    assert [m["relay_confirmed"]["by"] for m in listed if m["relay_confirmed"]] == [asked]
    assert {(t["channel"], t["status"]): t["count"] for t in data["residents"]} == {
        ("email", "sent"): 1240, ("email", "failed"): 3, ("telegram", "sent"): 15}
    assert data["actions"]["items"][0]["reason"] == "адресу уточнено телефоном"


@pytest.mark.parametrize("number", ["99", "0", "-1", "9999999999"])
def test_an_unknown_record_exits_1_saying_so(synced, run_cli, number):
    with time_machine.travel(SYNCED, tick=False):
        result = run_cli("record", "--", number)
    assert result.exit_code == 1
    assert result.output.strip() == f"Помилка / Error: запис №{number} не знайдено / record {number} not found"


def test_a_resolved_records_story(synced, run_cli):
    with time_machine.travel(SYNCED, tick=False):
        out = run_cli("record", "6").output
    assert "Запис №6 · аварія · ліквідовано (resolved)" in out and "ліквідовано: 22.11.2026 17:50" in out
    assert "подія: ліквідовано (resolved) · рядок 8" in out
    assert "Мешканцям / residents: повідомлень не було (none)" in out


def _residents_mail(number: int, at: datetime, counts: list[tuple[str, str, int]], first_id: int | None = None):
    rows = []
    for channel, status, n in counts:
        for i in range(n):
            key = f"sub:{number}:{channel}:{status}:{i}"
            rows.append({
                **({"id": first_id + len(rows)} if first_id is not None else {}),
                "dedup_key": key, "record_number": number, "kind": "sub_created", "recipient": f"r{i}@example.net",
                "recipient_name": "", "role": "subscriber", "subject": "s", "text_body": "t", "html_body": "h",
                "message_id": f"<{key}@example.org>", "relay": False, "status": status, "attempts": 1,
                "created_at": at, "next_attempt_at": at, "sent_at": at if status == "sent" else None,
                "failed_at": at if status == "failed" else None, "last_error": None, "channel": channel,
                "subscription_id": i + 1})
    return rows


# ---- at a year's scale ----

STORED = 50_000
TARGET = 49_000  # a busy record: 150 officials' messages, 3,000 to residents, 1,000 people's actions
BIG = {"records", "submissions", "events", "audit", "outbox", "delivery_attempts", "relay_confirmations"}
NOW = datetime(2026, 12, 31, 12, 0, tzinfo=KYIV)


def _year(engine) -> None:
    """50,000 records with a form row and two events each, 51,000 audit rows, 12,000 officials' messages with
    their delivery attempts and 3,000 residents' messages, most of them about TARGET."""
    base = datetime(2026, 1, 1, 8, 0, tzinfo=KYIV)
    recs, subs, evs, trails, mail, tries, confirmed = [], [], [], [], [], [], []
    for n in range(1, STORED + 1):
        at = base + timedelta(minutes=10 * n)
        recs.append({
            "number": n, "executor": "КП «Водоканал»", "kind": "emergency", "service": "Водопостачання",
            "districts": ["Центральний"], "addresses": f"вул. Соборна, {n % 90 + 1}", "summary": f"Порив №{n}",
            "cause": "", "impact": "", "event_at": at, "expected_end": at + timedelta(hours=4),
            "first_recorded_at": at, "last_changed_at": at, "status": "resolved",
            "resolved_at": at + timedelta(hours=3),
            "deadline_met": True, "delay_minutes": 10.0, "lead_hours": None, "contact_name": "Диспетчер",
            "contact_phone": "0500000000", "reporter_email": "d@example.org", "revision": 2, "overdue_for": None})
        subs.append({
            "source": "year", "row_key": f"row:{n}", "row_number": n + 1, "content_hash": f"{n:064d}", "raw_hash": None,
            "first_recorded_at": at, "status": "accepted", "action": "new", "record_number": n,
            "verdict": {"row": n + 1, "status": "accepted", "kind": "emergency", "action": "new", "record": n,
                        "deadline": {"met": True, "delay_minutes": 10.0, "lead_hours": None}, "errors": []},
            "first_seen_at": at, "last_seen_at": at, "detail": None})
        for kind, when in (("created", at), ("resolved", at + timedelta(hours=3))):
            evs.append({"id": len(evs) + 1, "record_number": n, "kind": kind, "at": when, "created_at": when,
                        "revision": 1, "data": {"row": n + 1}})
        trails.append({"at": at, "actor": "cli:ops", "action": "record_correct", "object": f"record:{n}", "reason": "",
                       "before": None, "after": None})
    trails += [{"at": NOW - timedelta(minutes=1_000 - i), "actor": "op@city.example", "action": "record_correct",
                "object": f"record:{TARGET}", "reason": f"дзвінок {i}", "before": None, "after": None}
               for i in range(1_000)]
    for i in range(12_000):
        number = TARGET if i < 150 else i
        mail.append({
            "id": i + 1, "dedup_key": f"year:{i}", "record_number": number, "kind": "created",
            "recipient": f"o{i}@example.org", "recipient_name": "", "role": "district_duty", "subject": "s",
            "text_body": "t", "html_body": "h", "message_id": f"<{i}@example.org>", "relay": i % 3 == 0,
            "status": "sent", "attempts": 1, "created_at": NOW, "next_attempt_at": NOW, "sent_at": NOW,
            "failed_at": None, "last_error": None, "channel": "email", "subscription_id": None})
        tries.append({"outbox_id": i + 1, "worker": "w", "started_at": NOW, "finished_at": NOW, "result": "sent",
                      "answer": "250 OK", "error": None, "duration_ms": 5.0})
        if i % 3 == 0:
            confirmed.append({"outbox_id": i + 1, "record_number": number, "recipient": f"o{i}@example.org",
                              "confirmed_at": NOW, "remote_addr": "", "user_agent": ""})
    mail += _residents_mail(TARGET, NOW, [("email", "sent", 2_900), ("telegram", "sent", 100)], first_id=12_001)
    with engine.begin() as conn:
        for start in range(0, STORED, 10_000):
            bulk_insert(conn, records, recs[start:start + 10_000])
            bulk_insert(conn, submissions, subs[start:start + 10_000])
        for table, rows in ((events, evs), (audit, trails), (outbox, mail), (delivery_attempts, tries),
                            (relay_confirmations, confirmed)):
            bulk_insert(conn, table, rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in sorted(BIG):  # this test's schema alone, as a server's autovacuum would have
                conn.exec_driver_sql(f"ANALYZE {table}")


def _full_scans(conn, statement: str, parameters) -> list[str]:
    """How the store would read `statement`: the steps that walk a whole big table (or a whole index of one)."""
    if conn.dialect.name == "sqlite":
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return [step[3] for step in plan if re.match(r"SCAN (\w+)", step[3])
                and re.match(r"SCAN (\w+)", step[3]).group(1) in BIG]
    # PostgreSQL, with sequential scans priced out: what remains is a read no index can serve. The values are bound
    # on the client: a utility statement (EXPLAIN) takes no server-side parameters.
    from psycopg import ClientCursor

    with ClientCursor(conn.connection.driver_connection) as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        plan = cursor.fetchone()[0]
        cursor.execute("RESET enable_seqscan")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found = []

    def walk(node: dict) -> None:
        if node.get("Relation Name") in BIG and (node["Node Type"] == "Seq Scan" or (
                node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node)):
            found.append(f"{node['Node Type']} on {node['Relation Name']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


def test_a_story_at_a_years_scale_is_a_few_index_ranges_never_a_scan(engine, settings):
    _year(engine)
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    with engine.connect() as conn:
        event.listen(engine, "before_cursor_execute", seen)
        try:
            busy = story(conn, TARGET, NOW, settings)
            busy_statements = list(statements)
            statements.clear()
            quiet = story(conn, 300, NOW, settings)  # one relayed message, confirmed
            quiet_statements = list(statements)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert busy is not None and quiet is not None
        # What the busy record's story holds: everything counted, the listed part capped.
        assert (busy.messages.total, len(busy.messages.items)) == (150, MESSAGES)
        assert all(len(m.tries) == 1 for m in busy.messages.items)
        assert sum(1 for m in busy.messages.items if m.confirmation) == sum(1 for m in busy.messages.items if m.relay)
        assert {(t.channel, t.count) for t in busy.residents} == {("email", 2_900), ("telegram", 100)}
        assert (busy.actions.total, len(busy.actions.items)) == (1_001, 200)
        assert busy.actions.items[-1].reason == "дзвінок 999"  # the newest last, as the timeline reads
        assert [e.kind for e in busy.events.items] == ["created", "resolved"] and busy.rows.total == 1
        assert busy.rows.items[0].verdict == "Прийнято, №49000, вчасно (внесено через 10 хв)"
        assert len(quiet.messages.items) == 1 and quiet.messages.items[0].confirmation and quiet.residents == ()
        # A bounded number of statements, whatever the record holds …
        assert len(busy_statements) <= 11 and len(quiet_statements) <= 9, [s for s, _ in busy_statements]
        # … and none of them reads a whole table.
        for statement, parameters in busy_statements + quiet_statements:
            assert _full_scans(conn, statement, parameters) == [], (statement, parameters)
        assert conn.execute(text("SELECT count(*) FROM records")).scalar() == STORED
