"""The operator's CLI in plain Ukrainian: outbox, relay, send, status, doctor, the deadline report; a busy port,
an uninitialised database, impossible dates, the demo's settings file, option help in both languages."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from datetime import datetime
from pathlib import Path

import click
import pytest
import time_machine
from conftest import DEMO_CSV
from rows import emergency, write_csv

from outages.cli import cli

NOW = datetime.fromisoformat("2026-11-22T14:30:00+02:00")
ROOT = Path(__file__).resolve().parents[1]


def _sent_demo_row(run_cli, tmp_path):
    source = write_csv(tmp_path / "responses.csv", emergency())
    with time_machine.travel(NOW, tick=True):  # the CLI reads the real clock
        assert run_cli("init").exit_code == 0
        assert run_cli("sync", "--source", source).exit_code == 0
        return run_cli("send", "--catch", str(tmp_path / "mail"))


def test_outbox_and_send_speak_ukrainian_and_count_what_the_filter_chose(run_cli, tmp_path):
    sent = _sent_demo_row(run_cli, tmp_path)
    assert sent.exit_code == 0, sent.output
    assert sent.output.splitlines()[0] == ("надіслано (sent) 6 · відкладено (deferred) 0 · не доставлено (failed) 0"
                                           " · лишається в черзі (remaining) 0")
    listed = run_cli("outbox").output
    lines = listed.splitlines()
    deputy = next(line for line in lines if "deputy.housing@example.org" in line)
    assert "надіслано (sent)" in deputy and "нове повідомлення (created)" in deputy
    assert "заступник міського голови (deputy)" in deputy
    duty = next(line for line in lines if "черговий районної адміністрації (district_duty)" in line)
    assert "надіслано (sent)" in duty
    assert lines[-1] == "надіслано (sent): 6"

    assert run_cli("outbox", "--status", "queued").output.strip() == (
        "Повідомлень за цим відбором немає / no messages match")
    assert run_cli("outbox", "--status", "sent").output.splitlines()[-1] == "надіслано (sent): 6"
    assert run_cli("outbox", "--record", "2").output.strip() == "Повідомлень за цим відбором немає / no messages match"
    newest = run_cli("outbox", "--limit", "3").output.splitlines()
    assert newest[-1] == "надіслано (sent): 6 (показано останні 3 / showing the newest 3)"


def test_relay_names_roles_and_message_kinds_in_ukrainian(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTAGES_SECRET_KEY", "relay-test-key")
    assert _sent_demo_row(run_cli, tmp_path).exit_code == 0
    shown = run_cli("relay", "1")
    assert shown.exit_code == 0, shown.output
    row = next(line for line in shown.output.splitlines() if "@example.org" in line)
    assert "черговий районної адміністрації (district_duty)" in row
    assert "нове повідомлення (created)" in row and row.rstrip().endswith("очікує підтвердження")
    assert not re.search(r"\s(district_duty|created)\s", row)  # never a bare code


@pytest.mark.parametrize("number", ["99", "0", "99999999999"])
def test_relay_of_a_record_that_does_not_exist_says_so_and_fails(run_cli, tmp_path, number):
    assert _sent_demo_row(run_cli, tmp_path).exit_code == 0
    shown = run_cli("relay", number)
    assert shown.exit_code == 1
    assert f"Помилка / Error: запису №{number} немає / no record №{number}" in shown.output


@pytest.mark.clock
def test_status_after_a_sync_is_ukrainian_first(run_cli, tmp_path):
    assert _sent_demo_row(run_cli, tmp_path).exit_code == 0
    shown = run_cli("status").output.splitlines()
    assert shown[0] == "Джерело / configured source: не задано / not set"
    assert shown[1].startswith("Остання синхронізація / last sync: ") and "успішно / ok" in shown[1]
    assert shown[2].startswith("  рядків / rows: 1 — нових (new) 1")
    assert shown[3] == "Блокування / sync lease: вільне / free"


def test_doctor_warns_of_empty_links_secrets_and_says_what_each_breaks(live, run_cli, monkeypatch):
    out = run_cli("doctor")
    assert out.exit_code == 0, out.output  # warnings, not failures
    assert ("! OUTAGES_PUBLIC_URL: не задано — посилання в листах (сторінка запису, «Інформацію передано») ведуть"
            " на http://127.0.0.1:5000, і адресати їх не відкриють") in out.output
    assert ("! OUTAGES_SECRET_KEY: не задано — листи йдуть без посилань «Інформацію передано»: чергові не можуть"
            " підтвердити передачу (п. 7.6)") in out.output
    assert ("! OUTAGES_HOOK_SECRET: не задано — push-запити форми (POST /hooks/form-submitted) відхиляються, нові"
            " рядки чекають наступної синхронізації (кожні 60 с)") in out.output
    for name, value in (("PUBLIC_URL", "https://hub.example.org"), ("SECRET_KEY", "k"), ("HOOK_SECRET", "h")):
        monkeypatch.setenv(f"OUTAGES_{name}", value)
    out = run_cli("doctor")
    assert out.exit_code == 0
    assert not [name for name in ("OUTAGES_PUBLIC_URL", "OUTAGES_SECRET_KEY", "OUTAGES_HOOK_SECRET")
                if name in out.output]


def test_serve_on_a_busy_port_says_so_in_one_sentence_and_exits_1(run_cli):
    assert run_cli("init").exit_code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Помилка / Error: порт {port} на 127.0.0.1 уже зайнятий іншою програмою: оберіть інший — `outages serve"
        f" --port {port + 1}` (демо: `make demo PORT={port + 1}`) / port {port} is not available: choose another"
        " with --port"]


@pytest.mark.clock
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("command", [["records"], ["status"], ["outbox"], ["relay", "1"], ["send"], ["serve"],
                                     ["report", "deadlines"]])
def test_a_command_on_an_uninitialised_database_creates_no_file(run_cli, tmp_path, command):
    result = run_cli(*command)
    assert result.exit_code == 2
    assert "База даних не ініціалізована: виконайте `outages init`" in result.output
    assert f"файлу {tmp_path / 'outages.db'} немає" in result.output
    assert not (tmp_path / "outages.db").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_doctor_on_an_uninitialised_database_creates_no_file(run_cli, tmp_path):
    out = run_cli("doctor")
    assert "✗ база даних / database: База даних не ініціалізована" in out.output
    assert not (tmp_path / "outages.db").exists()


@time_machine.travel(datetime.fromisoformat("2026-11-22T23:00:00+02:00"), tick=False)
def test_the_deadline_report_in_ukrainian_numbers_for_this_month(run_cli):
    run_cli("init")
    run_cli("sync", "--source", str(DEMO_CSV))
    text = run_cli("report", "deadlines").output.splitlines()
    assert text[0] == "Дотримання строків (п. 7.2–7.3), період / period: 01.11.2026 — 30.11.2026"
    assert text[2].split("  ")[:1] == ["виконавець"] and "хв після події (медіана)" in text[2]
    assert "год до початку (найменше)" in text[2]
    water = next(line for line in text if line.startswith("КП «Водоканал»") and "аварія" in line)
    # records, on time, late, on-time % with a decimal comma, median and worst in whole minutes, no hours
    assert water.split()[3:11] == ["3", "2", "1", "66,7", "26", "114", "—", "—"]
    power = next(line for line in text if line.startswith("АТ «Обленерго»") and "планові" in line)
    assert power.split()[-4:-2] == ["—", "—"] and "." not in power
    breaches = text[text.index("Порушення строків / breaches: 6") + 1:]
    assert "запізнення, хв (норма 30)" in breaches[0] and "повідомлено за, год (норма 72)" in breaches[0]
    late_water = next(line for line in breaches if line.startswith("5 "))
    assert late_water.split()[-2:] == ["80", "—"]  # the verdict's «на 80 хв пізніше норми»
    late_power = next(line for line in breaches if line.startswith("9 "))
    assert late_power.split()[-2:] == ["—", "50"]  # «повідомлено за 50 год до початку»

    empty = run_cli("report", "deadlines", "--since", "01.10.2026", "--until", "31.10.2026").output
    assert "01.10.2026 — 31.10.2026" in empty and "Порушення строків / breaches: 0" in empty


@pytest.mark.parametrize("args, message", [
    (["--since", "31.11.2026"], "Помилка / Error: --since 31.11.2026: такої дати немає"),
    (["--until", "2026-02-29"], "Помилка / Error: --until 2026-02-29: такої дати немає"),
    (["--since", "29.02.2027"], "Помилка / Error: --since 29.02.2027: такої дати немає"),
    (["--since", "листопад"], "Помилка / Error: --since: «листопад» — очікується дата ДД.ММ.РРРР або РРРР-ММ-ДД"),
])
def test_impossible_dates_are_named_as_such(run_cli, args, message):
    run_cli("init")
    result = run_cli("report", "deadlines", *args)
    assert result.exit_code == 2 and result.output.strip() == message


@pytest.mark.clock
def test_the_demo_settings_file_makes_the_cli_work_from_the_checkout(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("OUTAGES_DATABASE_URL")  # as a newcomer's shell: nothing set
    made = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "demo-settings", "PORT=5077"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert 'public_url = "http://127.0.0.1:5077"' in (tmp_path / "outages.toml").read_text(encoding="utf-8")
    assert run_cli("init").exit_code == 0 and run_cli("sync", "--source", str(DEMO_CSV)).exit_code == 0
    assert (tmp_path / "var" / "outages.db").is_file() and not (tmp_path / "outages.db").exists()
    assert "записів (records): 17" in run_cli("records", "--state", "all").output
    # The demo's source is its export: `outages sync` and `outages run` need no --source, and doctor finds it.
    shutil.copy(DEMO_CSV, tmp_path / "var" / "demo.csv")
    assert run_cli("sync").exit_code == 0
    doctor = run_cli("doctor")
    assert doctor.exit_code == 0 and "✓ джерело / source: file:var/demo.csv" in doctor.output
    # The demo runs without a hook secret and a mail server: warned of, and counted, never «all good».
    assert doctor.output.endswith("Працює, але є попередження / works, with warnings: 2 (позначені «!» / marked «!»)\n")

    (tmp_path / "outages.toml").write_text('city_name = "Місто"\n', encoding="utf-8")  # a city's own file
    again = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "demo-settings"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "outages.toml тут не від демо" in again.stderr
    assert (tmp_path / "outages.toml").read_text(encoding="utf-8") == 'city_name = "Місто"\n'


def _commands(group: click.Group, prefix: str = ""):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_option_has_help_in_ukrainian_and_english():
    missing = []
    for name, command in _commands(cli):
        for param in command.params:
            if not isinstance(param, click.Option) or param.name == "help":
                continue
            text = param.help or ""
            if not (re.search("[а-яіїєґ]", text, re.IGNORECASE) and re.search("[a-z]{3}", text) and " / " in text):
                missing.append(f"outages {name} {param.opts[0]}: {text!r}")
    assert missing == [], "option help must say it in Ukrainian / English:\n" + "\n".join(missing)


def test_every_message_kind_and_role_has_a_ukrainian_word():
    from outages.cli.words import MESSAGE_KIND, ROLE
    from outages.officials.directory import ROLES
    from outages.officials.messages import KINDS

    assert [k for k in KINDS if k not in MESSAGE_KIND] == []
    assert [r for r in (*ROLES, "reporter") if r not in ROLE] == []
