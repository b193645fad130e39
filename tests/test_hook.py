"""The form's push (POST /hooks/form-submitted) as the Apps Script of docs/google-form.md sends it: accepted once,
only near its `at`, and a burst leaves one pending sync request."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from outages.schema import sync_requests
from outages.settings import load

KYIV = ZoneInfo("Europe/Kyiv")
CLOCK = datetime(2026, 11, 22, 21, 0, tzinfo=KYIV)
SECRET = "s3cret-shared-with-apps-script"
DOC = Path(__file__).resolve().parent.parent / "docs" / "google-form.md"

# The snippet's signing logic, line by line as docs/google-form.md has it; the test below mirrors each in Python.
SNIPPET_LINES = [
    "const body = JSON.stringify({row: e && e.range ? e.range.getRow() : null, at: new Date().toISOString(),",
    "nonce: Utilities.getUuid()});",
    "const mac = Utilities.computeHmacSha256Signature(body, secret, Utilities.Charset.UTF_8);",
    "const hex = mac.map(function (b) { return ('0' + (b & 0xff).toString(16)).slice(-2); }).join('');",
    "headers: {'X-Outages-Signature': 'sha256=' + hex}, muteHttpExceptions: true,",
]


def apps_script_push(row: int | None, now: datetime, nonce: str | None = None) -> tuple[bytes, dict[str, str]]:
    """What onFormSubmit sends, byte for byte."""
    # new Date().toISOString(): UTC, milliseconds, "Z".
    at = now.astimezone(timezone.utc)
    iso = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    # JSON.stringify keeps the keys' order and writes no spaces.
    body = json.dumps({"row": row, "at": iso, "nonce": nonce or str(uuid.uuid4())}, separators=(",", ":"))
    # computeHmacSha256Signature gives Java's signed bytes; (b & 0xff) and the two-digit slice make them hex.
    signed = [b - 256 if b > 127 else b for b in hmac.new(SECRET.encode("utf-8"), body.encode("utf-8"),
                                                            hashlib.sha256).digest()]
    hex_ = "".join(("0" + format(b & 0xFF, "x"))[-2:] for b in signed)
    return body.encode("utf-8"), {"X-Outages-Signature": "sha256=" + hex_, "Content-Type": "application/json"}


@pytest.fixture
def client(env, engine, monkeypatch):
    from web import create_app

    monkeypatch.setenv("OUTAGES_HOOK_SECRET", SECRET)
    app = create_app(load(), engine=engine)
    app.extensions["outages"].clock = lambda: CLOCK
    return app.test_client()


def pending(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(sync_requests)
                            .where(sync_requests.c.handled_at.is_(None))).scalar()


def test_the_docs_snippet_signs_as_this_test_does():
    code = re.search(r"```javascript\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[1]
    lines = [line.strip() for line in code.splitlines()]
    for line in SNIPPET_LINES:
        assert line in lines, line


@pytest.mark.parametrize(("sent", "status", "answer"), [
    (CLOCK, 202, None),
    (CLOCK - timedelta(minutes=4, seconds=59), 202, None),  # a slow trigger or a clock a little off
    (CLOCK + timedelta(minutes=4), 202, None),
    (CLOCK - timedelta(minutes=6), 401,
     "Час запиту «22.11.2026 20:54» відрізняється від часу хаба «22.11.2026 21:00» більш ніж на 5 хв"),
    (CLOCK + timedelta(hours=2), 401,
     "Час запиту «22.11.2026 23:00» відрізняється від часу хаба «22.11.2026 21:00» більш ніж на 5 хв"),
])
def test_a_push_counts_only_near_its_at(client, engine, sent, status, answer):
    body, headers = apps_script_push(37, sent)
    reply = client.post("/hooks/form-submitted", data=body, headers=headers)
    assert reply.status_code == status, reply.get_json()
    if answer:
        assert answer in reply.get_json()["error"]
    assert pending(engine) == (1 if status == 202 else 0)


def test_the_same_signed_body_again_is_a_replay(client, engine):
    body, headers = apps_script_push(37, CLOCK)
    assert client.post("/hooks/form-submitted", data=body, headers=headers).get_json() == {"ok": True, "queued": True}
    again = client.post("/hooks/form-submitted", data=body, headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"].startswith("Цей запит (надіслано «22.11.2026 21:00») уже отримано: повтор не"
                                                " приймається")
    # A new submission a second later is a new body (another nonce): accepted, still one pending sync.
    other, headers = apps_script_push(38, CLOCK + timedelta(seconds=1))
    assert client.post("/hooks/form-submitted", data=other, headers=headers).get_json() == {"ok": True,
                                                                                            "queued": False}
    assert pending(engine) == 1


@pytest.mark.parametrize(("body", "answer"), [
    (b'{"row": 37}', "У тілі запиту немає «at»"),
    (b'{"row": 37, "at": "22.11.2026 21:00"}', "«at» = «22.11.2026 21:00» — не час ISO 8601"),
    (b'{"row": 37, "at": "2026-11-22T19:00:00"}', "«at» = «2026-11-22T19:00:00» без зсуву часового поясу"),
    (b"row=37", "Тіло запиту — не JSON"),
])
def test_a_body_without_a_usable_at_is_refused(client, engine, body, answer):
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    reply = client.post("/hooks/form-submitted", data=body, headers={"X-Outages-Signature": signature})
    assert reply.status_code == 400 and answer in reply.get_json()["error"]
    assert pending(engine) == 0


def test_a_burst_of_concurrent_pushes_leaves_one_pending_request(client, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the race needs a server: SQLite serialises every writer anyway")
    bodies = [apps_script_push(100 + i, CLOCK + timedelta(milliseconds=i)) for i in range(12)]
    start = threading.Barrier(len(bodies))
    answers: list[dict] = []

    def push(body: bytes, headers: dict[str, str]) -> None:
        start.wait()
        answers.append(client.post("/hooks/form-submitted", data=body, headers=headers).get_json())

    threads = [threading.Thread(target=push, args=pair) for pair in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 12 and all(a["ok"] for a in answers)
    assert sorted(a["queued"] for a in answers) == [False] * 11 + [True]
    assert pending(engine) == 1


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z"])
def test_a_signed_at_at_the_edge_of_the_calendar_is_refused_not_a_server_error(client, engine, at):
    body = json.dumps({"row": 37, "at": at, "nonce": "x"}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    reply = client.post("/hooks/form-submitted", data=body, headers={"X-Outages-Signature": signature})
    assert reply.status_code == 401 and "відрізняється від часу хаба" in reply.get_json()["error"]
    assert pending(engine) == 0


def test_a_signature_with_odd_characters_is_a_bad_signature_not_a_crash(client, engine):
    from outages.transports.webhook import verify

    body, headers = apps_script_push(37, CLOCK)
    reply = client.post("/hooks/form-submitted", data=body, headers={"X-Outages-Signature": "sha256=підпис"})
    assert reply.status_code == 401
    assert verify(SECRET, body, "t=1,v1=підпис", now=1) is False  # hmac.compare_digest raised TypeError on this
