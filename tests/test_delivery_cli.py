"""What an operator sees of delivery: `outages send`'s exit code, `outages doctor`'s SMTP login, `outages status`."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rows import emergency, table
from smtp_peer import SmtpPeer

from outages.records.sync import sync

KYIV = ZoneInfo("Europe/Kyiv")


# The CLI reads the real clock: the tests that make a fresh emergency pin it to an evening far from a DST night (on
# the March night «20 minutes ago» on the wall clock is a time that did not exist, taken as one in the future).
EVENING = datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc)  # 20:00 in Kyiv


def fresh_emergency() -> dict:
    """An emergency of a few minutes ago, on the (pinned) clock the CLI reads."""
    now = datetime.now(KYIV)
    return emergency(recorded_at=f"{now - timedelta(minutes=5):%d.%m.%Y %H:%M:%S}",
                     event_at=f"{now - timedelta(minutes=20):%d.%m.%Y %H:%M}",
                     expected_end=f"{now + timedelta(hours=3):%d.%m.%Y %H:%M}")


@time_machine.travel(EVENING, tick=True)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("server, code, says", [
    ("accepts", 0, "надіслано (sent) 5 · відкладено (deferred) 0 · не доставлено (failed) 0"),
    ("refuses press", 1, "ПОМИЛКА доставки / delivery FAILED: не доставлено 1, відкладено 0"),
    ("is down", 1, "ПОМИЛКА доставки / delivery FAILED: не доставлено 0, відкладено 5"),
])
def test_send_exits_non_zero_when_messages_were_not_delivered(engine, mail_settings, smtp_peer, run_cli,
                                                               server, code, says):
    if server == "refuses press":
        smtp_peer.refuse = {"press@example.org"}
    if server == "is down":
        smtp_peer.stop()
    sync(engine, table(fresh_emergency()), mail_settings, datetime.now(KYIV))
    result = run_cli("send")
    assert result.exit_code == code, result.output
    assert says in result.output


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("password, says", [
    ("s3cret", "✓ поштовий сервер / mail server: 127.0.0.1:{port} відповідає, вхід як hub успішний"),
    ("wrong", "✗ поштовий сервер / mail server: 127.0.0.1:{port} відмовив у вході користувачу hub (535 5.7.8"),
])
def test_doctor_logs_in_to_the_mail_server_when_credentials_are_set(env, run_cli, monkeypatch, password, says):
    secured = SmtpPeer(user="hub", password="s3cret").start()
    try:
        for key, value in {"OUTAGES_SMTP_HOST": "127.0.0.1", "OUTAGES_SMTP_PORT": str(secured.port),
                           "OUTAGES_SMTP_USER": "hub", "OUTAGES_SMTP_PASSWORD": password}.items():
            monkeypatch.setenv(key, value)
        out = run_cli("doctor")
    finally:
        secured.stop()
    assert says.format(port=secured.port) in out.output, out.output
    assert out.exit_code == 1  # no sheet is configured here; a refused login alone also makes it 1
    assert password not in out.output  # the password is never printed


@time_machine.travel(EVENING, tick=True)
@pytest.mark.parametrize("notify_toml", ["[notify]\nsmtp_timeout = 0.5\n"])  # a stall shows after 1 s
def test_status_shows_a_stalled_delivery_plainly(engine, mail_settings, smtp_peer, run_cli):
    from outages.delivery.lane import MailLane

    smtp_peer.hang = True
    sync(engine, table(fresh_emergency()), mail_settings, datetime.now(KYIV))
    lane = MailLane(engine, mail_settings).start()
    try:
        smtp_peer.wait_for_data(1)
        threading.Event().wait(1.5)  # longer than two command timeouts without an answer: stalled
        shown = run_cli("status")
    finally:
        assert lane.shutdown(timeout=5) == 0  # the lane gave its claims back itself
    assert shown.exit_code == 0, shown.output
    assert "Пошта / mail: ДОСТАВКА ЗАВИСЛА / delivery STALLED — лист 1 до " in shown.output
    assert "чекає відповіді поштового сервера 0 хв" in shown.output
    assert "Пошта в черзі / mail due: 4" in shown.output  # the other four wait behind it
    after = run_cli("status")
    assert "ЗАВИСЛА" not in after.output and "Пошта в черзі / mail due: 5" in after.output
    assert "остання надіслана / last sent —" in after.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("notify_toml", ["[notify]\nclaim_lease_minutes = 1\n"])
def test_run_refuses_to_start_with_a_lease_one_message_could_outlast(engine, mail_settings, run_cli):
    result = run_cli("run")
    assert result.exit_code == 2
    assert "Помилка / Error: налаштування / setting notify.claim_lease_minutes: 1 min не довше" in result.output


@pytest.mark.clock
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_status_says_when_nobody_is_sending_the_mail(engine, mail_settings, smtp_peer, run_cli):
    queued_at = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)  # long before the CLI's real clock
    sync(engine, table(emergency()), mail_settings, queued_at)
    shown = run_cli("status")
    assert ("Пошта / mail: НІХТО НЕ НАДСИЛАЄ / nobody is sending — 5 листів чекають з 22.11.2026 18:00:"
            " запустіть `outages run` або `outages send`") in shown.output
    assert run_cli("send").exit_code == 0
    assert "НІХТО НЕ НАДСИЛАЄ" not in run_cli("status").output


DEPUTY_HOURLY = [{"email": "deputy@example.org", "name": "Заступник", "role": "deputy"},
                 {"email": "press@example.org", "name": "Пресслужба", "role": "press"}]


@pytest.mark.parametrize("directory", [DEPUTY_HOURLY])
@pytest.mark.parametrize("notify_toml", ['[delivery]\ndeputy = "hourly"\npress = "daily"\n'])
def test_status_counts_the_changes_waiting_for_a_digest(engine, mail_settings, smtp_peer, run_cli, directory,
                                                        notify_toml):
    from rows import planned, update

    from outages.officials.sender import deliver_pending

    now = datetime(2026, 11, 22, 18, 10, tzinfo=KYIV)
    works = planned(recorded_at="22.11.2026 17:00", event_at="26.11.2026 09:00", expected_end="26.11.2026 17:00")
    sync(engine, table(emergency(), works), mail_settings, now - timedelta(minutes=5))
    deliver_pending(engine, mail_settings, now - timedelta(minutes=5))
    sync(engine, table(emergency(), works, update(1)), mail_settings, now)  # a later sync: not folded into the news
    deliver_pending(engine, mail_settings, now)
    with time_machine.travel(now + timedelta(minutes=5), tick=False):  # the CLI reads the real clock
        shown = run_cli("status")
    assert shown.exit_code == 0, shown.output
    # Both hear of the new emergency at once; its update and the planned works wait: 2 for each.
    assert ("Зведення / digests: чекають змін / changes waiting 4 для адресатів / for recipients 2,"
            " перше зведення / first digest 22.11.2026 19:00") in shown.output
    assert "Пошта в черзі / mail due: 0" in shown.output
