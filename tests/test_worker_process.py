"""`outages run` as a real process (SIGTERM ends it cleanly) and `outages doctor` as an operator runs it."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from clocks import child_env
from fake_sheets import KEY

OUTAGES = str(Path(sys.executable).with_name("outages"))


def _lines(proc: subprocess.Popen) -> "queue.Queue[str]":
    found: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            found.put(line)
        found.put("")  # end of output

    threading.Thread(target=read, daemon=True).start()
    return found


def _wait_for(lines: "queue.Queue[str]", text: str, timeout: float) -> list[str]:
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if text in line or line == "":
            break
    return seen


@pytest.mark.clock
def test_the_worker_process_syncs_and_stops_cleanly_on_sigterm(live):
    env = child_env(dict(os.environ, OUTAGES_SYNC_INTERVAL="3600", PYTHONUNBUFFERED="1"))
    proc = subprocess.Popen([OUTAGES, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = _lines(proc)
        seen = _wait_for(lines, "синхронізовано / synced", timeout=60)
        assert any("нових (new) 17" in line for line in seen), seen
        assert live.fake.row(KEY, 2)["Статус обробки"] == "Прийнято, №1, вчасно (повідомлено за 121 год до початку)"
        stopped = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert time.monotonic() - stopped < 10
        rest = _wait_for(lines, "Зупинено / stopped", timeout=5)
        assert any("Зупинено / stopped" in line for line in rest), rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_doctor_says_all_is_well(live, run_cli):
    out = run_cli("doctor")
    assert out.exit_code == 0, out.output
    assert "✓ база даних / database" in out.output
    assert f"✓ ключ сервісного акаунта / service account key: {live.email}" in out.output
    assert ("✓ доступ до таблиці / sheet access: «Відповіді форми (1)»,"
            " часовий пояс / time zone Europe/Kyiv") in out.output
    assert "✓ заголовки стовпців / column headers" in out.output
    assert "! стовпці хабу / hub columns: буде створено" in out.output
    assert "✓ Telegram: вимкнено: OUTAGES_TELEGRAM_BOT_TOKEN не задано" in out.output
    # Warnings are counted, never followed by «all good» (public_url, secret_key, hook_secret, SMTP, hub columns).
    assert out.output.endswith("\nПрацює, але є попередження / works, with warnings: 5 (позначені «!» / marked «!»)\n")
    assert "Усе гаразд" not in out.output
    assert live.fake.calls(live.email) == ["spreadsheets.get", "spreadsheets.values.get"]  # nothing written


def test_doctor_names_each_problem_and_the_fix(live, run_cli, monkeypatch):
    live.fake.books[KEY].shared_with.clear()
    out = run_cli("doctor")
    assert out.exit_code == 1
    assert f"✗ доступ до таблиці / sheet access: Немає доступу до таблиці {KEY}" in out.output
    assert live.email in out.output and "Поділитися → Редактор" in out.output

    live.fake.books[KEY].shared_with.add(live.email)
    live.fake.sheet(KEY).rows[0][2] = "Тип події"
    out = run_cli("doctor")
    assert out.exit_code == 1 and "✗ заголовки стовпців / column headers" in out.output
    assert "«Тип» (setting columns.kind)" in out.output

    monkeypatch.setenv("OUTAGES_DATABASE_URL", f"sqlite:///{Path.cwd() / 'never-initialised.db'}")
    monkeypatch.delenv("OUTAGES_GOOGLE_CREDENTIALS")
    out = run_cli("doctor")
    assert "✗ база даних / database: База даних не ініціалізована: виконайте `outages init`" in out.output
    assert "✗ ключ сервісного акаунта / service account key: Не задано ключ" in out.output
    assert "OUTAGES_GOOGLE_CREDENTIALS_FILE" in out.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        return "250 OK"


def test_doctor_checks_the_mail_server_when_one_is_configured(live, run_cli, monkeypatch):
    port = _free_port()
    controller = Controller(_Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("OUTAGES_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("OUTAGES_SMTP_PORT", str(port))
        out = run_cli("doctor")
        assert f"✓ поштовий сервер / mail server: 127.0.0.1:{port} відповідає / answers EHLO" in out.output
        assert out.exit_code == 0, out.output
    finally:
        controller.stop()
    out = run_cli("doctor")  # the same port, nobody listening now
    assert out.exit_code == 1
    assert f"✗ поштовий сервер / mail server: 127.0.0.1:{port} недоступний" in out.output
