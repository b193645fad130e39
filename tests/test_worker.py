"""The worker: the sync lease, several workers at once, the push hook, `run --once`, `status`."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from fake_sheets import KEY, NOW, WALL, DateCell
from sqlalchemy import func, select

from outages import worker as hub_worker
from outages.schema import events, records
from outages.settings import load
from sheets.sources import open_source
from web.hooks import signature


def test_the_lease_is_exclusive_and_expires(engine):
    assert hub_worker.acquire(engine, "a", NOW, ttl=60)
    assert not hub_worker.acquire(engine, "b", NOW + timedelta(seconds=30), ttl=60)
    assert hub_worker.acquire(engine, "a", NOW + timedelta(seconds=30), ttl=60)  # the holder renews
    # "a" died without releasing: once its lease ran out, "b" takes over.
    assert hub_worker.acquire(engine, "b", NOW + timedelta(seconds=91), ttl=60)
    hub_worker.release(engine, "a")  # a late release by the old holder changes nothing
    assert hub_worker.lease_holder(engine) == "b"
    hub_worker.release(engine, "b")
    assert hub_worker.acquire(engine, "c", NOW + timedelta(seconds=92), ttl=60)


def test_two_workers_at_once_never_process_a_row_twice(live):
    workers = [hub_worker.Worker(live.engine, live.settings, open_source(None, live.settings).pull, "gsheet",
                                 holder=name, clock=lambda: NOW) for name in ("one", "two")]
    reports: list = []
    start = threading.Barrier(2)

    def go(w: hub_worker.Worker) -> None:
        start.wait()
        for _ in range(3):
            reports.append(w.cycle())

    threads = [threading.Thread(target=go, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r.ok is not False for r in reports), [r.error for r in reports]
    with live.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar() == 17
        created = conn.execute(select(func.count()).select_from(events).where(events.c.kind == "created")).scalar()
    assert created == 17
    assert sum(r.result.counts["new"] for r in reports if r.result) == 17
    assert live.fake.column(KEY, "Номер")[:3] == [1, 2, 3]


@pytest.mark.clock
def test_a_push_brings_a_new_form_row_in_within_seconds(live, monkeypatch):
    from web import create_app

    monkeypatch.setenv("OUTAGES_SYNC_INTERVAL", "3600")  # only a push can bring the row in quickly
    monkeypatch.setenv("OUTAGES_HOOK_SECRET", "s3cret-shared-with-apps-script")
    settings = load()
    app = create_app(settings, engine=live.engine)
    client = app.test_client()
    body = json.dumps({"row": 37, "at": datetime.now(timezone.utc).isoformat()}).encode()
    assert client.post("/hooks/form-submitted", data=body, headers={"X-Outages-Signature": "sha256=00"}
                       ).status_code == 401
    worker = hub_worker.Worker(live.engine, settings, open_source(None, settings).pull, "gsheet")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert worker.wait_for_cycles(1, timeout=30)
        done = worker.cycles
        row = live.fake.append_form_row(KEY, {
            "Позначка часу": DateCell.of(WALL), "Виконавець": "КП «Ліфтсервіс»",
            "Тип": "Аварійна ситуація", "Послуга": "Ліфти", "Район": "Інгульський", "Адреси": "вул. Садова, 7",
            "Коротка інформація": "Зупинка ліфта", "Термін ліквідації": DateCell.of(WALL
                                                                                   + timedelta(hours=3)),
            "Час настання події": DateCell.of(WALL - timedelta(minutes=10))})
        pushed = time.monotonic()
        answer = client.post("/hooks/form-submitted", data=body,
                             headers={"X-Outages-Signature": signature("s3cret-shared-with-apps-script", body)})
        assert answer.status_code == 202 and answer.get_json() == {"ok": True, "queued": True}
        assert worker.wait_for_cycles(done + 1, timeout=10)
        latency = time.monotonic() - pushed
    finally:
        worker.stop.set()
        thread.join(timeout=10)
    assert latency < 5, latency
    assert live.fake.row(KEY, row)["Статус обробки"] == "Прийнято, №18, вчасно (внесено через 10 хв)"
    assert not thread.is_alive()


def test_the_hook_is_closed_without_a_secret(live):
    from web import create_app

    client = create_app(live.settings, engine=live.engine).test_client()
    answer = client.post("/hooks/form-submitted", data=b"{}", headers={"X-Outages-Signature": signature("", b"{}")})
    assert answer.status_code == 503 and "OUTAGES_HOOK_SECRET" in answer.get_json()["error"]


def test_pushes_in_a_burst_make_one_pending_request(engine):
    assert hub_worker.request_sync(engine, NOW, "a") is True
    assert hub_worker.request_sync(engine, NOW, "b") is False
    assert hub_worker.has_pending(engine)
    assert hub_worker.claim_requests(engine, NOW) == 1
    assert not hub_worker.has_pending(engine)


@pytest.mark.clock
def test_run_once_then_status(live, run_cli):
    out = run_cli("run", "--once")
    assert out.exit_code == 0, out.output
    assert "синхронізовано / synced gsheet:" in out.output and "нових (new) 17" in out.output
    shown = run_cli("status")
    assert "успішно / ok" in shown.output and "рядків / rows: 34" in shown.output
    assert f"gsheet:{KEY}" in shown.output

    live.fake.fail("spreadsheets.values.get", 500, times=10)
    failed = run_cli("run", "--once")
    assert failed.exit_code == 1 and "ПОМИЛКА синхронізації / sync FAILED" in failed.output
    shown = run_cli("status")
    assert "ПОМИЛКА / FAILED" in shown.output and "HTTP 500" in shown.output
    assert "Остання успішна / last success" in shown.output


def test_a_worker_whose_database_is_away_reports_it_and_keeps_going(tmp_path, settings):
    from outages import db

    engine = db.engine_for(f"sqlite:///{tmp_path / 'no-such-folder' / 'outages.db'}")

    def pull():
        raise AssertionError("nothing may be read without the lease")

    worker = hub_worker.Worker(engine, settings, pull, "gsheet:x", clock=lambda: NOW)
    report = worker.cycle()
    assert report.ok is False and report.error.startswith("база даних недоступна / database")
    assert "синхронізації / sync FAILED gsheet:x: база даних недоступна" in hub_worker.summary(report, "gsheet:x")
    assert worker.cycle().ok is False  # and the next cycle tries again
