"""Mail in its own lane: a mail server that never answers delays mail, never a sync; SIGTERM ends the worker in
seconds whatever the server does, and gives every claimed message back to the queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from clocks import at_time, ticking
from fake_sheets import KEY, NOW, DateCell
from sqlalchemy import select

from outages import worker as hub_worker
from outages.schema import delivery_attempts, outbox
from outages.settings import load
from sheets.sources import open_source

OUTAGES = str(Path(sys.executable).with_name("outages"))
INTERVAL = 3.0


def lift_stopped(at: datetime) -> dict:
    return {"Позначка часу": DateCell.of(at), "Виконавець": "КП «Ліфтсервіс»", "Тип": "Аварійна ситуація",
            "Послуга": "Ліфти", "Район": "Інгульський", "Адреси": "вул. Садова, 7",
            "Коротка інформація": "Зупинка ліфта", "Термін ліквідації": DateCell.of(at + timedelta(hours=3)),
            "Час настання події": DateCell.of(at - timedelta(minutes=10))}


def point_mail_at(peer, monkeypatch) -> None:
    for key, value in {"OUTAGES_SMTP_HOST": "127.0.0.1", "OUTAGES_SMTP_PORT": str(peer.port),
                       "OUTAGES_SMTP_TLS": "none", "OUTAGES_SYNC_INTERVAL": f"{INTERVAL:g}"}.items():
        monkeypatch.setenv(key, value)


def claims(engine) -> dict[str, list]:
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.status, outbox.c.claimed_by)).all()
        attempts = conn.execute(select(delivery_attempts.c.result, delivery_attempts.c.error)).all()
    return {"sending": [r for r in rows if r.status == "sending" or r.claimed_by],
            "queued": [r for r in rows if r.status == "queued"], "attempts": attempts}


@pytest.mark.clock
def test_a_server_that_never_answers_data_delays_mail_never_a_sync(live, smtp_peer, monkeypatch):
    smtp_peer.hang = True
    point_mail_at(smtp_peer, monkeypatch)
    settings = load()
    verdict_seen = threading.Event()
    watched: dict[str, int] = {}

    def after(report: hub_worker.Cycle) -> None:  # the verdict in the sheet, as the dispatcher sees it
        if "row" in watched and live.fake.row(KEY, watched["row"])["Статус обробки"].startswith("Прийнято"):
            verdict_seen.set()

    # The fixture's rows are news at their own date (22.11.2026), whatever day the test runs.
    worker = hub_worker.Worker(live.engine, settings, open_source(None, settings).pull, "gsheet", after_cycle=after,
                               clock=ticking(NOW))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert worker.wait_for_cycles(1, timeout=60)
        smtp_peer.wait_for_data(1, timeout=30)  # the mail lane now waits for an answer that never comes
        watched["row"] = live.fake.append_form_row(KEY, lift_stopped(NOW.replace(tzinfo=None)))
        appended = time.monotonic()
        assert verdict_seen.wait(timeout=60)
        took = time.monotonic() - appended
        assert live.fake.row(KEY, watched["row"])["Статус обробки"] == "Прийнято, №18, вчасно (внесено через 10 хв)"
        assert took < INTERVAL + 3, took  # the next sync came on time: the mail lane holds nothing up
        assert smtp_peer.received == [] and len(claims(live.engine)["sending"]) >= 1
        stopping = time.monotonic()
    finally:
        worker.stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive() and time.monotonic() - stopping < 10
    left = claims(live.engine)
    assert left["sending"] == []  # every claim given back at once, none left for a lease to expire
    assert ("interrupted", "the worker stopped during this attempt") in left["attempts"]


@time_machine.travel(NOW, tick=True)  # the fake Sheets API checks the worker's token at the worker's date
def test_sigterm_mid_delivery_exits_within_ten_seconds_and_leaves_nothing_claimed(live, smtp_peer, monkeypatch):
    smtp_peer.hang = True
    point_mail_at(smtp_peer, monkeypatch)
    # The worker's clock at the fixture's date: its rows are news then, whatever day the test runs.
    env = at_time(NOW, dict(os.environ, PYTHONUNBUFFERED="1"))
    proc = subprocess.Popen([OUTAGES, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        smtp_peer.wait_for_data(1, timeout=60)  # mid-delivery: the server holds the reply to DATA
        assert len(claims(live.engine)["sending"]) >= 1
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        took = time.monotonic() - signalled
        output = proc.stdout.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, output
    assert took < 10, took
    assert "Зупинено / stopped" in output
    left = claims(live.engine)
    assert left["sending"] == []
    assert len(left["queued"]) >= 1 and smtp_peer.received == []  # the message waits for the next worker
    assert ("interrupted", "the worker stopped during this attempt") in left["attempts"]
