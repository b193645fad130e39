"""Delivery against a real SMTP server: outages, drops, refusals, give-up, one login, two workers at once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, table
from smtp_peer import DIRECTORY, SmtpPeer, attempts_of, rows_of
from sqlalchemy import select, update

from outages.delivery.drain import database_now
from outages.officials.sender import deliver_pending
from outages.records.sync import sync
from outages.schema import delivery_attempts, outbox
from outages.settings import load

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
FIVE = {"deputy@example.org", "press@example.org", "water.head@example.org", "duty.central@example.org",
        "hoa.soborna@example.org"}


def test_while_the_server_is_down_messages_wait_then_each_is_delivered_once(engine, mail_settings, smtp_peer):
    smtp_peer.stop()
    sync(engine, table(emergency()), mail_settings, NOW)
    counts = deliver_pending(engine, mail_settings, NOW)
    assert counts == {"sent": 0, "failed": 0, "deferred": 5, "queued": 0}
    waiting = rows_of(engine)
    assert {r.status for r in waiting} == {"queued"} and {r.attempts for r in waiting} == {1}
    assert all("cannot connect" in r.last_error or "not tried" in r.last_error for r in waiting)
    assert all(NOW + timedelta(minutes=1) <= r.next_attempt_at < NOW + timedelta(minutes=2) for r in waiting)
    assert [a.result for a in attempts_of(engine)] == ["deferred"] * 5
    # Before the backoff has passed nothing is tried; once the server is back, everything goes, once.
    assert deliver_pending(engine, mail_settings, NOW + timedelta(seconds=30))["deferred"] == 0
    smtp_peer.start()
    assert deliver_pending(engine, mail_settings, NOW + timedelta(minutes=2))["sent"] == 5
    assert deliver_pending(engine, mail_settings, NOW + timedelta(minutes=10))["sent"] == 0
    assert sorted(r.rcpt_tos[0] for r in smtp_peer.received) == sorted(FIVE)
    sent = rows_of(engine)
    assert {r.status for r in sent} == {"sent"} and all(r.last_answer.startswith("250 2.0.0 Ok") for r in sent)
    assert all(a.duration_ms is not None and a.finished_at is not None for a in attempts_of(engine))


def test_a_connection_dropped_mid_batch_loses_nothing_and_doubles_nothing(engine, mail_settings, smtp_peer):
    smtp_peer.drop_at = 3
    sync(engine, table(emergency()), mail_settings, NOW)
    first = deliver_pending(engine, mail_settings, NOW)
    assert first["sent"] == 4 and first["deferred"] == 1
    dropped = [r for r in rows_of(engine) if r.status == "queued"]
    assert len(dropped) == 1 and "connection lost" in dropped[0].last_error
    assert deliver_pending(engine, mail_settings, NOW + timedelta(minutes=2))["sent"] == 1
    assert sorted(r.rcpt_tos[0] for r in smtp_peer.received) == sorted(FIVE)
    ids = [r.message["Message-ID"] for r in smtp_peer.received]
    assert len(set(ids)) == 5


def test_a_refused_recipient_fails_at_once_and_the_others_are_delivered(engine, mail_settings, smtp_peer, run_cli):
    smtp_peer.refuse = {"press@example.org"}
    smtp_peer.temporary_refuse = {"deputy@example.org"}
    sync(engine, table(emergency()), mail_settings, NOW)
    counts = deliver_pending(engine, mail_settings, NOW)
    assert counts == {"sent": 3, "failed": 1, "deferred": 1, "queued": 0}
    by_address = {r.recipient: r for r in rows_of(engine)}
    press, deputy = by_address["press@example.org"], by_address["deputy@example.org"]
    assert press.status == "failed" and press.attempts == 1 and press.last_answer.startswith("550 5.1.1")
    assert deputy.status == "queued" and deputy.last_answer.startswith("451 4.3.0")
    assert deliver_pending(engine, mail_settings, NOW + timedelta(hours=2))["failed"] == 0  # 5xx is not retried
    result = run_cli("outbox", "--status", "failed")
    assert result.exit_code == 0
    assert "press@example.org" in result.output and "550 5.1.1" in result.output
    assert "deputy@example.org" not in result.output


def test_messages_not_delivered_within_the_give_up_time_are_marked_failed(engine, mail_settings, smtp_peer,
                                                                           monkeypatch, run_cli):
    monkeypatch.setenv("OUTAGES_MAIL_GIVE_UP", "90m")
    settings = load()
    smtp_peer.stop()
    sync(engine, table(emergency()), settings, NOW)
    deliver_pending(engine, settings, NOW)
    assert deliver_pending(engine, settings, NOW + timedelta(minutes=60))["deferred"] == 5
    late = deliver_pending(engine, settings, NOW + timedelta(minutes=95))
    assert late == {"sent": 0, "failed": 5, "deferred": 0, "queued": 0}
    assert {r.status for r in rows_of(engine)} == {"failed"}
    assert {a.result for a in attempts_of(engine)} == {"deferred", "failed"}
    listed = run_cli("outbox", "--status", "failed")
    assert listed.output.count("cannot connect to 127.0.0.1") == 5


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("directory", [DIRECTORY + [
    {"email": f"deputy{i}@example.org", "name": f"Заступник {i}", "role": "deputy"} for i in range(20)]])
def test_one_login_serves_the_whole_drain(engine, mail_settings, monkeypatch, smtp_peer):
    secured = SmtpPeer(user="hub", password="s3cret").start()
    try:
        monkeypatch.setenv("OUTAGES_SMTP_PORT", str(secured.port))
        monkeypatch.setenv("OUTAGES_SMTP_USER", "hub")
        monkeypatch.setenv("OUTAGES_SMTP_PASSWORD", "s3cret")
        settings = load()
        sync(engine, table(emergency()), settings, NOW)
        assert deliver_pending(engine, settings, NOW)["sent"] == 25
        assert secured.logins == 1 and secured.connections == 1
        assert len(secured.received) == 25
    finally:
        secured.stop()


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_lease(engine, mail_settings, smtp_peer):
    sync(engine, table(emergency()), mail_settings, NOW)
    with engine.begin() as conn:  # what a worker killed in the middle of its batch leaves behind
        first = conn.execute(select(outbox.c.id).order_by(outbox.c.id).limit(1)).scalar()
        # Claims are stamped and judged by the database's clock, whatever the senders' clocks say.
        conn.execute(update(outbox).where(outbox.c.id == first)
                     .values(status="sending", claimed_by="dead", claimed_at=database_now(conn), attempts=1))
        conn.execute(delivery_attempts.insert().values(outbox_id=first, worker="dead", started_at=NOW,
                                                       result="sending"))
    assert deliver_pending(engine, mail_settings, NOW + timedelta(minutes=1))["sent"] == 4
    with engine.begin() as conn:  # the lease (15 min) passes by the database's clock
        conn.execute(update(outbox).where(outbox.c.id == first)
                     .values(claimed_at=database_now(conn) - timedelta(minutes=20)))
    assert deliver_pending(engine, mail_settings, NOW + timedelta(minutes=20))["sent"] == 1
    results = [a.result for a in attempts_of(engine) if a.outbox_id == first]
    assert results == ["interrupted", "sent"]
    assert len(smtp_peer.received) == 5


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("notify_toml", ["[notify]\nbatch_size = 4\n"])
@pytest.mark.parametrize("directory", [DIRECTORY + [
    {"email": f"official{i}@example.org", "name": f"Посадовець {i}", "role": "executive_head"} for i in range(55)]])
def test_two_workers_draining_one_postgresql_outbox_send_every_message_once(engine, mail_settings, smtp_peer):
    smtp_peer.latency = 0.01  # a real server's pace: both workers are mid-batch at the same time
    sync(engine, table(emergency()), mail_settings, NOW)
    total = len(rows_of(engine))
    assert total == 60
    start = threading.Barrier(2)
    results: list[dict] = []

    def work() -> None:
        start.wait(timeout=10)
        results.append(deliver_pending(engine, mail_settings, NOW))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert sum(r["sent"] for r in results) == total
    assert all(r["sent"] > 0 for r in results), results  # both took part
    ids = [r.message["Message-ID"] for r in smtp_peer.wait_for(total)]
    assert len(ids) == len(set(ids)) == total
    assert {(r.status, r.attempts) for r in rows_of(engine)} == {("sent", 1)}
    workers_seen = {a.worker for a in attempts_of(engine)}
    assert len(workers_seen) == 2
