"""Claims against a real SMTP server: renewed while a drain works, and only their holder marks a message sent."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, table
from smtp_peer import DIRECTORY, attempts_of, rows_of
from sqlalchemy import update

from outages.delivery.drain import database_now, drain
from outages.officials.options import mail_options
from outages.records.sync import sync
from outages.schema import outbox
from outages.settings import SettingsError, load
from outages.transports.smtp import SmtpTransport

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
FORTY = DIRECTORY + [{"email": f"official{i}@example.org", "name": f"Посадовець {i}", "role": "executive_head"}
                     for i in range(35)]


# A lease of 12 s, just over what one message may take with these timeouts (8 × 1 s + 2 s), and a batch of 40
# messages the server takes 0.4 s each to accept: the batch lasts twice the lease.
@pytest.mark.parametrize("notify_toml", ["[notify]\nbatch_size = 40\nsmtp_timeout = 1\nsmtp_data_timeout = 2\n"
                                         "claim_lease_minutes = 0.2\n"])
@pytest.mark.parametrize("directory", [FORTY])
def test_two_drains_with_a_lease_shorter_than_a_batch_send_every_message_once(engine, mail_settings, smtp_peer):
    smtp_peer.latency = 0.4
    sync(engine, table(emergency()), mail_settings, NOW)
    assert len(rows_of(engine)) == 40
    options = mail_options(mail_settings)
    began = monotonic()

    def clock() -> datetime:  # one timeline for both drains
        return NOW + timedelta(seconds=monotonic() - began)

    first_done = threading.Event()
    results: list[dict] = []

    def first() -> None:
        try:
            results.append(drain(engine, SmtpTransport(options), now=clock(), budget_s=120))
        finally:
            first_done.set()

    threading.Thread(target=first).start()
    smtp_peer.wait_for_data(1)
    second: list[dict] = []
    while not first_done.wait(1.0):  # a second worker's drains, all through the first one's batch
        second.append(drain(engine, SmtpTransport(options), now=clock(), budget_s=120))
    assert monotonic() - began > options.claim_lease.total_seconds()  # the batch did outlast the lease
    assert results[0]["sent"] == 40 and sum(c["sent"] for c in second) == 0
    ids = [r.message["Message-ID"] for r in smtp_peer.received]
    assert len(ids) == len(set(ids)) == 40
    assert {(r.status, r.attempts) for r in rows_of(engine)} == {("sent", 1)}
    assert {a.result for a in attempts_of(engine)} == {"sent"}


@pytest.mark.parametrize("directory", [[{"email": "deputy@example.org", "name": "Заступник", "role": "deputy"}]])
def test_a_drain_that_lost_its_claim_cannot_mark_the_message_sent(engine, mail_settings, smtp_peer):
    # The server takes three seconds to accept, and meanwhile the first drain's claim lapses: what a lease shorter
    # than one message would let happen (the settings refuse it, see the next test), made here by moving the
    # claim back past the lease by the database's clock, which judges claims.
    smtp_peer.latency = 3.0
    sync(engine, table(emergency()), mail_settings, NOW)
    options = mail_options(mail_settings)

    def transport() -> SmtpTransport:
        return SmtpTransport(options)

    first: list[dict] = []
    worker = threading.Thread(target=lambda: first.append(drain(engine, transport(), now=NOW, worker="first")))
    worker.start()
    smtp_peer.wait_for_data(1)
    # The first drain's claim has lapsed by the database's clock: a second drain takes the message over.
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.claimed_by == "first")
                     .values(claimed_at=database_now(conn) - options.claim_lease - timedelta(seconds=5)))
    second = drain(engine, transport(), now=NOW + timedelta(seconds=5), worker="second")
    worker.join(timeout=30)
    assert first == [{"sent": 0, "failed": 0, "deferred": 0, "lost": 1}]
    assert second == {"sent": 1, "failed": 0, "deferred": 0}
    (row,) = rows_of(engine)
    assert row.status == "sent" and row.claimed_by is None
    by_worker = {a.worker: a for a in attempts_of(engine)}
    assert by_worker["first"].result == "lost" and by_worker["first"].answer.startswith("250")
    assert "claim had passed to another worker" in by_worker["first"].error
    assert by_worker["second"].result == "sent"
    assert len(smtp_peer.received) == 2  # the double a lease shorter than one message causes


@pytest.mark.parametrize("notify, named", [
    ("claim_lease_minutes = 10", "notify.claim_lease_minutes: 10 min"),
    ("smtp_data_timeout = 900", "notify.claim_lease_minutes: 15 min"),
    ("smtp_timeout = 0", "notify.smtp_timeout"),
])
def test_a_lease_that_one_message_could_outlast_is_refused(env, tmp_path, monkeypatch, notify, named):
    config = tmp_path / "city.toml"
    config.write_text(f"[notify]\n{notify}\n", encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    with pytest.raises(SettingsError) as error:
        mail_options(load())
    assert named in str(error.value)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("directory", [[{"email": "deputy@example.org", "name": "Заступник", "role": "deputy"},
                                        {"email": "press@example.org", "name": "Пресслужба", "role": "press"}]])
def test_a_server_that_answers_data_after_a_minute_gets_every_message_once(engine, mail_settings, smtp_peer):
    # The default settings: the reply to DATA's final dot is awaited 10 minutes (RFC 5321 §4.5.3.2), not 30 s.
    smtp_peer.latency = 61.0
    sync(engine, table(emergency()), mail_settings, NOW)
    counts = drain(engine, SmtpTransport(mail_options(mail_settings)), now=NOW, budget_s=600)
    assert counts == {"sent": 2, "failed": 0, "deferred": 0}
    later = drain(engine, SmtpTransport(mail_options(mail_settings)), now=NOW + timedelta(hours=1))
    assert later == {"sent": 0, "failed": 0, "deferred": 0}
    assert sorted(r.rcpt_tos[0] for r in smtp_peer.received) == ["deputy@example.org", "press@example.org"]
    assert {(r.status, r.attempts) for r in rows_of(engine)} == {("sent", 1)}
    assert all(a.duration_ms > 60_000 for a in attempts_of(engine))
