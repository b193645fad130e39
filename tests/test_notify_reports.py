"""Monthly report per utility, reporters' confirmations, the demo's catcher, and the migration both ways."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from alembic import command
from rows import emergency, planned, table, update, write_csv
from sqlalchemy import inspect

from outages import db
from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.settings import load

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_the_monthly_report_goes_to_control_and_to_each_utility_about_itself(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency(), emergency(recorded_at="22.11.2026 15:00", summary="Друга"), planned()),
         mail_settings, NOW)
    deliver_pending(engine, mail_settings, NOW)
    before = len(smtp_peer.received)
    december = datetime(2026, 12, 1, 9, 15, tzinfo=KYIV)
    deliver_pending(engine, mail_settings, december)
    deliver_pending(engine, mail_settings, december + timedelta(days=3))
    reports = [r.message for r in smtp_peer.received[before:] if r.message["Subject"].startswith("[ЗВІТ]")]
    by_to = {m["To"]: m for m in reports}
    assert set(by_to) == {"control@example.org", "vodokanal@example.org", "oblenergo@example.org"}
    assert by_to["control@example.org"]["Subject"] == "[ЗВІТ] Дотримання строків інформування за листопад 2026"
    control = plain(by_to["control@example.org"])
    assert "- КП «Водоканал» · Аварійна ситуація: записів 2, вчасно 1, із запізненням 1" in control
    assert "- АТ «Обленерго» · Планові роботи: записів 1, вчасно 1, із запізненням 0" in control
    assert "Недоставлені повідомлення за місяць: 0" in control
    vodokanal = plain(by_to["vodokanal@example.org"])
    assert by_to["vodokanal@example.org"]["Subject"].endswith("· КП «Водоканал»")
    assert "Водоканал" in vodokanal and "Обленерго" not in vodokanal
    assert "- №2 · КП «Водоканал» · Аварійна ситуація · Водопостачання · внесено через 80 хв" in vodokanal


def test_reporters_hear_the_record_number_or_why_their_row_was_rejected_once(engine, mail_settings, smtp_peer,
                                                                             monkeypatch):
    monkeypatch.setenv("OUTAGES_MAIL_REPORTERS", "true")
    settings = load()
    rows = table(emergency(), emergency(districts="Марс", reporter_email="petro@example.org",
                                        recorded_at="22.11.2026 14:09"), update(1, reporter_email="olena@example.org"))
    for _ in range(2):
        sync(engine, rows, settings, NOW)
        deliver_pending(engine, settings, NOW)
    accepted = smtp_peer.to("ivan@example.org")
    assert [m["Subject"] for m in accepted] == ["[ПРИЙНЯТО] №1 · Нове повідомлення · Водопостачання"]
    assert "запис №1" in plain(accepted[0]) and "Прийнято, №1, вчасно (внесено через 26 хв)" in plain(accepted[0])
    rejected = smtp_peer.to("petro@example.org")
    assert [m["Subject"] for m in rejected] == ["[ВІДХИЛЕНО] Рядок 3 форми не прийнято"]
    assert "Відхилено: Невідомий район «Марс»: оберіть «Заводський»" in plain(rejected[0])
    assert [m["Subject"] for m in smtp_peer.to("olena@example.org")] == ["[ПРИЙНЯТО] №1 · Оновлення"]
    # Officials still get their messages; the reporter's address appears in none of them.
    for message in smtp_peer.messages():
        if message["To"] not in ("ivan@example.org", "petro@example.org", "olena@example.org"):
            assert "ivan@example.org" not in plain(message)


def test_the_demo_send_writes_eml_files_a_newcomer_can_open(run_cli, tmp_path):
    source = write_csv(tmp_path / "responses.csv", emergency())
    with time_machine.travel(NOW, tick=True):  # the CLI reads the real clock
        assert run_cli("init").exit_code == 0
        assert run_cli("sync", "--source", source).exit_code == 0
        result = run_cli("send", "--catch", str(tmp_path / "mail"))
    assert result.exit_code == 0, result.output
    # The demo directory: the deputy for housing (not the one for infrastructure), press, ЖКГ, the duty officer,
    # the ОСББ of Соборна (not Адміральська) and the HOA department.
    assert "надіслано (sent) 6" in result.output
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 6
    subjects = {email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"] for f in files}
    assert subjects == {"[АВАРІЯ] Водопостачання · вул. Соборна, 12 · Центральний · сьогодні до 20:00 · №1"}
    listed = run_cli("outbox")
    assert listed.output.splitlines()[-1] == "надіслано (sent): 6"


def test_the_notifications_migration_goes_down_and_up_again(engine):
    config = db._alembic_config(engine)
    command.downgrade(config, "0001_core")
    assert not {"outbox", "delivery_attempts", "relay_confirmations"} & set(inspect(engine).get_table_names())
    command.upgrade(config, "head")
    assert {"outbox", "delivery_attempts", "relay_confirmations"} <= set(inspect(engine).get_table_names())
