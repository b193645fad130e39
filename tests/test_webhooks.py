"""Signed webhooks against a real HTTP receiver on 127.0.0.1: one JSON POST per change, an HMAC the receiver can
check, the same delivery id on a retry, 5xx retried, other 4xx failed, no personal data."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, resolve, table, write_csv
from sqlalchemy import select

from outages.delivery.drain import drain
from outages.records.sync import sync
from outages.schema import outbox
from outages.settings import SettingsError, load
from outages.transports.webhook import WebhookTransport, verify

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
SECRET = "crm-shared-secret-0123456789"


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []  # status codes to answer next, then 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                code = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/outages"


@pytest.fixture
def receiver():
    peer = Receiver()
    yield peer
    peer.server.shutdown()
    peer.server.server_close()


@pytest.fixture
def hook_settings(env, tmp_path, monkeypatch, receiver):
    config = tmp_path / "city.toml"
    config.write_text(f'[[webhooks]]\nname = "crm"\nurl = "{receiver.url}"\nsecret = "{SECRET}"\n'
                      f'kinds = ["created", "resolved"]\n', encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    monkeypatch.setenv("OUTAGES_PUBLIC_URL", "https://hub.example.org")
    return load()


def deliver(engine, settings, now):
    return drain(engine, WebhookTransport(settings.webhooks), now=now, budget_s=30)


@pytest.mark.clock
def test_each_change_is_posted_once_signed_and_retried_with_the_same_delivery_id(engine, hook_settings, receiver):
    receiver.answers = [503]
    sync(engine, table(emergency()), hook_settings, NOW)
    assert deliver(engine, hook_settings, NOW)["deferred"] == 1
    assert deliver(engine, hook_settings, NOW + timedelta(minutes=2))["sent"] == 1
    sync(engine, table(emergency(), resolve(1)), hook_settings, NOW + timedelta(hours=1))
    sync(engine, table(emergency(), resolve(1)), hook_settings, NOW + timedelta(hours=1, minutes=1))
    assert deliver(engine, hook_settings, NOW + timedelta(hours=1, minutes=2))["sent"] == 1
    assert len(receiver.received) == 3
    (h1, b1), (h2, b2), (h3, b3) = receiver.received
    assert h1["X-Outages-Delivery"] == h2["X-Outages-Delivery"] != h3["X-Outages-Delivery"]  # a retry is the same
    for headers, body in receiver.received:
        assert verify(SECRET, body, headers["X-Outages-Signature"])
        assert not verify("another-secret-0123456789", body, headers["X-Outages-Signature"])
        assert "Іван Петренко" not in body.decode() and "0501234567" not in body.decode()
    created, resolved = json.loads(b2), json.loads(b3)
    assert (created["event"]["kind"], resolved["event"]["kind"]) == ("created", "resolved")
    assert created["record"]["addresses"] == "вул. Соборна, 12" and resolved["record"]["status"] == "resolved"
    assert created["url"] == "https://hub.example.org/outages/1"
    assert h3["X-Outages-Event"] == "resolved"


@pytest.mark.clock
def test_a_refusal_fails_at_once_and_is_shown(engine, hook_settings, receiver, run_cli):
    receiver.answers = [410]
    sync(engine, table(emergency()), hook_settings, NOW)
    assert deliver(engine, hook_settings, NOW)["failed"] == 1
    assert deliver(engine, hook_settings, NOW + timedelta(hours=2))["sent"] == 0
    with engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.channel == "webhook")).one()
    assert row.status == "failed" and row.last_answer == "410 Gone"
    assert "410 Gone" in run_cli("outbox", "--status", "failed").output


@pytest.mark.parametrize("toml, message", [
    ('[[webhooks]]\nname = "crm"\nurl = "ftp://x"\nsecret = "0123456789abcdef"\n', "webhooks[0].url"),
    ('[[webhooks]]\nname = "crm"\nurl = "https://x"\nsecret = "short"\n', "webhooks[0].secret"),
    ('[[webhooks]]\nname = "crm"\nurl = "https://x"\nsecret = "0123456789abcdef"\nkinds = ["breach"]\n',
     "webhooks[0].kinds"),
])
def test_a_bad_webhook_setting_names_itself(env, tmp_path, monkeypatch, toml, message):
    config = tmp_path / "bad.toml"
    config.write_text(toml, encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    # Refused when the settings load (every command, `outages run` at start), not when a change is first queued
    # in the middle of a sync.
    with pytest.raises(SettingsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load()


@pytest.mark.clock
def test_a_bad_webhook_stops_the_sync_before_it_reads_anything_and_config_never_shows_a_secret(
        run_cli, env, tmp_path, monkeypatch):
    run_cli("init")
    export = write_csv(tmp_path / "rows.csv", emergency())
    config = tmp_path / "city.toml"
    config.write_text('[[webhooks]]\nname = "crm"\nurl = "crm.example.org/hook"\nsecret = "0123456789abcdef-x"\n',
                      encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    result = run_cli("sync", "--source", export)
    assert result.exit_code == 2
    assert "webhooks[0].url: expected an http(s) URL, got 'crm.example.org/hook'" in result.output
    assert "нових" not in result.output
    config.write_text('[[webhooks]]\nname = "crm"\nurl = "https://crm.example.org/hook?token=t0k3n"\n'
                      'secret = "0123456789abcdef-x"\nkinds = ["resolved"]\n', encoding="utf-8")
    shown = run_cli("config").output
    assert "webhook crm: https://crm.example.org/hook?… (resolved), secret ***" in shown
    assert "t0k3n" not in shown and "0123456789abcdef-x" not in shown
    assert "0123456789abcdef-x" not in str(load().masked())
    assert "нових (new) 1" in run_cli("sync", "--source", export).output


@pytest.mark.clock
def test_a_cancelled_false_alarm_is_posted_once_as_record_cancelled(engine, env, tmp_path, monkeypatch, receiver):
    from outages.console import actions

    config = tmp_path / "city.toml"  # the default kinds: every change of a record, cancellations included
    config.write_text(f'[[webhooks]]\nname = "crm"\nurl = "{receiver.url}"\nsecret = "{SECRET}"\n', encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    settings = load()
    sync(engine, table(emergency()), settings, NOW)
    actions.cancel(engine, 1, "Хибний виклик", actor="olha@contact.example.org", settings=settings,
                   now=NOW + timedelta(minutes=5))
    for minutes in (6, 7):
        sync(engine, table(emergency()), settings, NOW + timedelta(minutes=minutes))
        deliver(engine, settings, NOW + timedelta(minutes=minutes))
    kinds = [(json.loads(body)["event"]["type"], headers["X-Outages-Event"]) for headers, body in receiver.received]
    assert kinds == [("record.created", "created"), ("record.cancelled", "cancelled")]
    cancelled = json.loads(receiver.received[1][1])["record"]
    assert (cancelled["status"], cancelled["state"], cancelled["status_reason"]) == (
        "cancelled", "cancelled", "Хибний виклик")
    assert "olha@" not in receiver.received[1][1].decode()  # the operator is staff, not public
