"""Residents' reports from the command line (issue 20), on SQLite and PostgreSQL, in-process through click at a
pinned clock: `outages reports list|moderate|forget`, each audited as the CLI's actor, and the reports' table of
`outages report deadlines` beside its unchanged records' tables."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from outages.console.audit import cli_actor
from outages.reports import forward
from outages.reports.intake import Intake, submit
from outages.reports.moderate import moderate
from outages.schema import audit, reports

KYIV = ZoneInfo("Europe/Kyiv")
AT = datetime(2026, 11, 22, 10, 0, tzinfo=KYIV)


@pytest.fixture
def cli(run_cli, engine):
    """`outages …` at a pinned clock (the CLI reads the real one), over an initialised store."""
    def run(*args: str, at: datetime = AT + timedelta(hours=2)):
        with time_machine.travel(at, tick=False):
            return run_cli(*args)
    return run


def report(engine, settings, at: datetime, service: str = "water", address: str = "Соборна 12", **over) -> int:
    intake = Intake(service_code=service, address=address, description=over.pop("description", "Немає води"),
                    **over)
    with engine.begin() as conn:
        return submit(conn, settings, intake, at).report.id


def row(engine, report_id: int):
    with engine.connect() as conn:
        return conn.execute(select(reports).where(reports.c.id == report_id)).first()


def audit_of(engine, action: str):
    with engine.connect() as conn:
        return conn.execute(select(audit).where(audit.c.action == action).order_by(audit.c.id)).all()


def test_list_shows_one_status_newest_first_with_contacts(cli, engine, settings):
    first = report(engine, settings, AT, name="Олена Коваль", phone="067 123 45 67", email="olena@example.org")
    second = report(engine, settings, AT + timedelta(minutes=5), service="roads", address="Адміральська 9",
                    description="Яма на дорозі")
    with engine.begin() as conn:
        moderate(conn, settings, second, "explain", actor="cli:test", now=AT + timedelta(minutes=10),
                 note="Ремонт навесні")
    listed = cli("reports", "list", "--status", "pending", "--format", "json")
    assert listed.exit_code == 0, listed.output
    [only] = json.loads(listed.output)
    assert (only["id"], only["status"], only["service"], only["place"]) == (first, "pending", "Водопостачання",
                                                                            "вул. Соборна, 12")
    assert only["contact"] == {"name": "Олена Коваль", "email": "olena@example.org", "phone": "067 123 45 67",
                               "erased": False}
    everything = json.loads(cli("reports", "list", "--format", "json").output)
    assert [r["id"] for r in everything] == [second, first]
    assert everything[0]["note"] == "Роз'яснення надано: Ремонт навесні"
    table = cli("reports", "list").output
    assert "Олена Коваль, 067 123 45 67, olena@example.org" in table and "Яма на дорозі" in table
    assert table.index("Яма на дорозі") < table.index("Немає води")  # newest first
    assert cli("reports", "list", "--status", "rejected").output.strip() == "повідомлень немає (no reports)"
    assert cli("reports", "list", "--status", "lost").exit_code == 2


def test_moderate_is_the_consoles_twin_audited_as_the_cli(cli, engine, settings):
    report_id = report(engine, settings, AT)
    done = cli("reports", "moderate", str(report_id), "accept")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"Зроблено / done: №{report_id} — відкрите: Повідомлення взято до розгляду"
    assert row(engine, report_id).forwarded_at is not None
    [entry] = audit_of(engine, "report_moderate")
    assert (entry.actor, entry.object, entry.reason) == (cli_actor(), f"report:{report_id}", "accept")
    again = cli("reports", "moderate", str(report_id), "accept")
    assert again.exit_code == 1 and "нічого не змінено" in again.output and "вже взято до розгляду" in again.output
    no_note = cli("reports", "moderate", str(report_id), "explain")
    assert no_note.exit_code == 1 and "Напишіть роз'яснення" in no_note.output
    explained = cli("reports", "moderate", str(report_id), "explain", "--note", "Воду дали о 13:00")
    assert explained.output.strip() == (f"Зроблено / done: №{report_id} — закрите: Роз'яснення надано: Воду дали "
                                        "о 13:00")
    assert len(audit_of(engine, "report_moderate")) == 2
    assert cli("reports", "moderate", "999", "done").exit_code == 1


def test_forget_erases_an_address_from_every_report_and_says_in_how_many(cli, engine, settings):
    kept = report(engine, settings, AT, email="other@example.org", name="Інший")
    mine = [report(engine, settings, AT + timedelta(minutes=m), address=f"Соборна {m + 1}",
                   email="Olena@Example.org", name="Олена", phone="067 123 45 67") for m in (10, 20)]
    done = cli("reports", "forget", "olena@example.org")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == ("Контакти стерто: адресу знайдено в 2 повідомленнях"
                                   " / contacts erased from 2 report(s)")
    for report_id in mine:
        erased = row(engine, report_id)
        assert (erased.email, erased.name, erased.phone) == ("", "", "") and erased.description == "Немає води"
    assert row(engine, kept).email == "other@example.org"
    entries = audit_of(engine, "report_forget")
    assert [(e.actor, e.object) for e in entries] == [(cli_actor(), f"report:{i}") for i in mine]
    assert not any("olena" in json.dumps([e.object, e.reason]).lower() for e in entries)  # not kept here
    unknown = cli("reports", "forget", "nobody@example.org")
    assert unknown.exit_code == 0 and "знайдено в 0 повідомленнях" in unknown.output
    assert audit_of(engine, "report_forget")[-1].object == "reports"


def test_report_deadlines_gains_the_reports_table_and_keeps_the_rest(cli, engine, settings):
    forwarded = AT + timedelta(minutes=30)
    ids = [report(engine, settings, AT + timedelta(minutes=m), address=f"Соборна {m + 1}") for m in (0, 1, 2)]
    ids.append(report(engine, settings, AT + timedelta(minutes=3), service="lighting", address="Адміральська 4"))
    with engine.begin() as conn:
        for report_id in ids:
            moderate(conn, settings, report_id, "accept", actor="cli:test", now=forwarded)
        forward.take(conn, ids[0], forwarded + timedelta(minutes=10))  # in time (SOS: 30 minutes)
        forward.take(conn, ids[1], forwarded + timedelta(minutes=40))  # late
        forward.take(conn, ids[3], forwarded + timedelta(minutes=90))  # in time (2 hours)
    day = ("--since", "22.11.2026", "--until", "22.11.2026")
    shown = cli("report", "deadlines", *day)
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert out.index("Дотримання строків (п. 7.2–7.3)") < out.index("Порушення строків / breaches: 0")
    assert "Повідомлення мешканців: взято в роботу вчасно / із запізненням / не взято" in out
    lines = [line.split() for line in out.splitlines()]
    assert ["КП", "«Водоканал»", "3", "1", "1", "1"] in lines
    assert ["АТ", "«Обленерго»", "1", "1", "0", "0"] in lines
    data = json.loads(cli("report", "deadlines", *day, "--format", "json").output)
    assert set(data) == {"period", "utilities", "breaches", "cancelled", "reports"}
    assert {r["utility"]: r for r in data["reports"]}["КП «Водоканал»"] == {
        "utility": "КП «Водоканал»", "forwarded": 3, "taken_in_time": 1, "taken_late": 1,
        "not_taken_past_deadline": 1}
    csv = cli("report", "deadlines", *day, "--format", "csv").output
    assert csv.splitlines()[0] == "executor,kind,records,on_time,late,on_time_share,median,worst,unit"
    quiet = cli("report", "deadlines", "--since", "01.10.2026", "--until", "31.10.2026")
    assert "повідомлень, переданих виконавцям за період, немає" in quiet.output
