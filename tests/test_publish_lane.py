"""The publishing lane of `outages run --publish`: a publish in progress never holds back a push's sync and verdict."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from fake_sheets import KEY, WALL, DateCell

from outages import worker as hub_worker
from outages.settings import load
from sheets.sources import open_source
from web.hooks import signature


@pytest.mark.clock
def test_a_push_gets_its_verdict_while_a_publish_is_still_in_progress(live, monkeypatch, tmp_path):
    from web import create_app
    from web.publish import publish_site

    monkeypatch.setenv("OUTAGES_SYNC_INTERVAL", "3600")  # only the push can bring the row in
    monkeypatch.setenv("OUTAGES_HOOK_SECRET", "s3cret-shared-with-apps-script")
    settings = load()
    site = tmp_path / "site"
    publishing, let_go, republished = threading.Event(), threading.Event(), threading.Event()
    calls: list[int] = []

    def publish() -> None:
        # The first publish stands for a slow one (a big store, a slow disk): it holds until the test lets go.
        calls.append(1)
        if len(calls) == 1:
            publishing.set()
            assert let_go.wait(60)
        publish_site(settings, live.engine, site, log=lambda line: None)
        if len(calls) > 1:
            republished.set()

    worker = hub_worker.Worker(live.engine, settings, open_source(None, settings).pull, "gsheet", publish=publish)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert worker.wait_for_cycles(1, timeout=30)
        assert publishing.wait(30)  # the lane is publishing now, and stays there
        done = worker.cycles
        row = live.fake.append_form_row(KEY, {
            "Позначка часу": DateCell.of(WALL), "Виконавець": "КП «Ліфтсервіс»",
            "Тип": "Аварійна ситуація", "Послуга": "Ліфти", "Район": "Інгульський", "Адреси": "вул. Садова, 7",
            "Коротка інформація": "Зупинка ліфта", "Термін ліквідації": DateCell.of(WALL + timedelta(hours=3)),
            "Час настання події": DateCell.of(WALL - timedelta(minutes=10))})
        body = json.dumps({"row": row, "at": datetime.now(timezone.utc).isoformat()}).encode()
        answer = create_app(settings, engine=live.engine).test_client().post(
            "/hooks/form-submitted", data=body,
            headers={"X-Outages-Signature": signature("s3cret-shared-with-apps-script", body)})
        assert answer.status_code == 202
        assert worker.wait_for_cycles(done + 1, timeout=30)
        # The push's sync finished and wrote its verdict into the sheet while the publish is still blocked.
        assert live.fake.row(KEY, row)["Статус обробки"] == "Прийнято, №18, вчасно (внесено через 10 хв)"
        assert not let_go.is_set() and worker.publisher.publishes == 0
        let_go.set()
        # The lane goes on: the data moved during the slow publish, so the next one brings the new record out.
        assert republished.wait(60)
    finally:
        let_go.set()
        worker.stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert "Зупинка ліфта" in (site / "outages" / "18.html").read_text("utf-8")
