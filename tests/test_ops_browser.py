"""The console's record pages in a real browser (issue 19's acceptance): headless Debian Chromium through Playwright
against a real werkzeug server over a real SQLite store, with an aiosmtpd peer for the officials' mail and the fake
Bot API for the channel.

- The whole flow with the keyboard and no JavaScript: sign in, «Новий запис», a phone report typed in, the record's
  page, the public page; then the false alarm cancelled from the record page, and what each reader sees after it:
  the public page, CAP (a `Cancel` valid against the OASIS schema, referencing the first alert), the channel post
  edited to «❌ Скасовано». The caller's name is on no public page, feed or message.
- Every console page passes axe (0 violations) and the Nu HTML checker (0 errors), in every state an operator meets:
  the phone form empty and refused, a record active, resolved and cancelled, a refused correction, and the day's
  work with rejected rows, records whose row left the sheet and failed messages with their resend buttons; each
  fits a 390 px phone (no sideways scrolling) and a desktop.

Screenshots at 390 px (SHOTS: the phone form, empty and refused; a record in each state; a refused correction;
the day's work) go to OUTAGES_SCREENSHOT_DIR (tests/test_browser.py's SCREENSHOT folder; /tmp by default). Two of
them are committed, docs/screenshots/outages-phone-ops-records-new.png and outages-phone-ops-record-phone.png,
copied from `OUTAGES_SCREENSHOT_DIR=/tmp/shots .venv/bin/python -m pytest -q tests/test_ops_browser.py -k axe`.
"""

from __future__ import annotations

import os
import re
import threading
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from fake_telegram import TOKEN, fake_bot_api
from lxml import etree
from ops_city import ACTIVE, CALLER, CANCELLED, GONE, NOW, OPERATOR, PHONE, PHONE_REPORT, RESOLVED, console_city
from ops_client import PASSWORD, add_person, csrf_token, make_app, sign_in
from test_browser import ARGS, CHROMIUM, SCREENSHOT, _missing, axe_violations
from test_cap import CAP, SCHEMA
from test_ops_actions import deliver
from werkzeug.serving import make_server

from outages.settings import load

CHANNEL = "@city_outages"
PHONE_SIZE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
FLOW_AT = datetime(2026, 11, 22, 18, 0, tzinfo=NOW.tzinfo)
# What the utility says on the phone at 17:40 about a fault at 17:30, as the operator types it.
TYPED = {
    "executor": "АТ «Обленерго»", "service": "Електропостачання", "districts": "Центральний",
    "addresses": "вул. Соборна, 10-16", "summary": "Пошкодження кабелю 10 кВ", "cause": "Механічне пошкодження",
    "impact": "Немає світла", "event_at": "2026-11-22T17:30", "expected_end": "2026-11-22T23:00",
    "reported_at": "2026-11-22T17:40",
}
REASON = "Хибний виклик: аварії немає, підтвердив диспетчер"


@pytest.fixture(scope="module")
def chromium():
    problem = _missing()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run under CI: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def bot_api():
    yield from fake_bot_api(chat_limit=None)


@pytest.fixture
def hub(mail_settings, monkeypatch, bot_api):
    """The city with its officials' directory (mail to the aiosmtpd peer) and a Telegram channel on the fake Bot
    API; a secret key signs the console's sessions. The site's cache reads the data version on every request
    (`cache_check_seconds = 0`), so a page asked right after an action shows it without waiting a second."""
    config = Path(os.environ["OUTAGES_CONFIG"])
    config.write_text("cache_check_seconds = 0\n" + config.read_text("utf-8"), encoding="utf-8")
    for key, value in {"OUTAGES_TELEGRAM_BOT_TOKEN": TOKEN, "OUTAGES_TELEGRAM_CHANNEL": CHANNEL,
                       "OUTAGES_TELEGRAM_API_URL": bot_api.url}.items():
        monkeypatch.setenv(key, value)
    return load()


class Clock:
    """The served app's clock, moved by the test between steps."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def serve(engine):
    """`serve(settings, clock)` → the app's base URL on a loopback port (werkzeug, threaded)."""
    servers = []

    def start(settings, clock) -> str:
        server = make_server("127.0.0.1", 0, make_app(engine, settings, clock=clock), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(10)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(quote(url, safe=":/?=&%"), timeout=10) as answer:
        return answer.read()


def public_text(chromium, url: str) -> str:
    """What a resident sees at `url`, in a browser of their own (one that has not cached the page earlier)."""
    context = chromium.new_context(viewport=PHONE_SIZE, java_script_enabled=False, locale="uk-UA")
    page = context.new_page()
    page.goto(url)
    shown = " ".join(page.inner_text("main").split())
    context.close()
    return shown


def fits(page, width: int) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth") <= width


def sign_in_with_keyboard(page, site: str, email: str) -> None:
    page.goto(site + "/ops")
    page.fill("#email", email)
    page.focus("#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/ops")


# ---- the flow: a phone report, then a false alarm cancelled ----

@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_phone_report_then_its_cancellation_in_chromium_reach_the_public_page_cap_and_the_channel(
        chromium, engine, hub, bot_api, smtp_peer, serve):
    add_person(engine, OPERATOR, "operator", now=FLOW_AT)
    clock = Clock(FLOW_AT)
    site = serve(hub, clock)
    # A phone, and no JavaScript: the console needs none (its policy forbids every script anyway).
    context = chromium.new_context(viewport=PHONE_SIZE, java_script_enabled=False, locale="uk-UA")
    page = context.new_page()
    sign_in_with_keyboard(page, site, OPERATOR)

    page.get_by_role("link", name="Новий запис").click()
    page.wait_for_url(site + "/ops/records/new")
    assert page.locator("h1").inner_text() == "Новий запис за телефонним дзвінком"
    page.select_option("#new-kind", "emergency")
    for name in ("executor", "service", "districts", "addresses", "summary", "cause", "impact"):
        page.focus(f"#new-{name}")
        page.keyboard.type(TYPED[name])
    for name in ("event_at", "expected_end", "reported_at"):  # the picker's text depends on the browser's locale
        page.fill(f"#new-{name}", TYPED[name])
    page.focus("#new-caller")
    page.keyboard.type(CALLER)
    page.keyboard.press("Enter")  # submits the form, as a person at a keyboard would
    page.wait_for_url(re.compile(re.escape(site) + r"/ops/records/1\?said=.*"))
    assert "Зроблено: Прийнято, №1, вчасно (внесено через 10 хв)." in page.inner_text("[role=status]")
    story = page.inner_text("main")
    assert "за телефонним дзвінком" in story and CALLER in story  # the caller: staff only
    assert fits(page, PHONE_SIZE["width"])
    deliver(engine, hub, FLOW_AT)

    page.click("text=публічна сторінка")
    page.wait_for_url(site + "/outages/1")
    shown = " ".join(page.inner_text("main").split())
    assert "Пошкодження кабелю 10 кВ" in shown and "вул. Соборна, 10-16" in shown
    assert bot_api.chat(CHANNEL)[0].text.count("Пошкодження кабелю 10 кВ") == 1

    # Ten minutes later the utility rings back: a false alarm.
    clock.at = FLOW_AT + timedelta(minutes=10)
    page.goto(site + "/ops/records/1")
    assert not page.is_visible("#cancel-reason")
    page.click("summary:has-text('Скасувати як помилковий')")  # the details open without a script
    page.focus("#cancel-reason")
    page.keyboard.type(REASON)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # «Скасувати запис», the next thing the keyboard reaches
    page.wait_for_url(re.compile(re.escape(site) + r"/ops/records/1\?said=.*"))
    assert "Зроблено: скасовано." in page.inner_text("[role=status]")
    assert f"Скасовано: {REASON}" in page.inner_text("main")
    assert page.locator("#act").count() == 0  # nothing more to do to a cancelled record
    deliver(engine, hub, clock.at)

    shown = public_text(chromium, site + "/outages/1")
    assert f"Скасовано 22.11 о 18:10: {REASON}" in shown

    # The channel's post is edited in place, and a reply under it tells its readers once.
    post, *replies = bot_api.chat(CHANNEL)
    assert post.text.startswith("❌ <b>Скасовано</b>") and REASON in post.text and post.edits == 1
    assert [(m.reply_to, m.text.startswith("❌ <b>Скасовано</b>")) for m in replies] == [(post.message_id, True)]

    feed = fetch(site + "/cap/index.atom")
    urls = [u.decode() for u in re.findall(rb'href="([^"]+/cap/outage-1-[^"]+\.xml)"', feed)]
    alerts = []
    for url in urls:
        alert = etree.fromstring(fetch(site + "/cap/" + url.rsplit("/cap/", 1)[1]))
        SCHEMA.assertValid(alert)
        alerts.append(alert)
    alerts.sort(key=lambda a: a.findtext("cap:sent", namespaces=CAP))
    assert [a.findtext("cap:msgType", namespaces=CAP) for a in alerts] == ["Alert", "Cancel"]
    first, cancel = alerts
    reference = ",".join(first.findtext(f"cap:{n}", namespaces=CAP) for n in ("sender", "identifier", "sent"))
    assert cancel.findtext("cap:references", namespaces=CAP) == reference
    assert REASON in etree.tostring(cancel, encoding="unicode")

    # The caller is private: on no public page, feed, API answer, CAP message, channel post or officials' mail.
    for path in ("/", "/outages/1", "/?q=Соборна", "/sections/emergencies", "/api/v1/outages/1", "/feed.atom",
                 "/cap/index.atom", "/planned.ics", *["/cap/" + u.rsplit("/cap/", 1)[1] for u in urls]):
        body = fetch(site + path).decode()
        assert "Мельник" not in body and "067 111 22 33" not in body, path
    assert all("Мельник" not in m.text for m in bot_api.messages)
    assert all("Мельник" not in m.as_string() for m in smtp_peer.messages())
    assert [m["Subject"].split("]")[0] for m in smtp_peer.to("deputy@example.org")] == ["[АВАРІЯ", "[СКАСОВАНО"]
    context.close()



# ---- every console page: the Nu HTML checker and axe, a phone and a desktop ----

def refused_pages(client) -> dict[str, object]:
    """The answers a refused action gives (422), as the browser would get them after a POST."""
    token = csrf_token(client, "/ops/records/new")
    return {
        "new-refused": client.post("/ops/records/new", data=PHONE_REPORT | {
            "districts": "Південний", "expected_end": "2026-11-22T12:00", "csrf_token": token}),
        "correct-refused": client.post(f"/ops/records/{ACTIVE}/correct", data={
            "districts": "Південний", "expected_end": "2026-11-22T10:00", "reason": "уточнення", "csrf_token": token}),
        "resolve-refused": client.post(f"/ops/records/{ACTIVE}/resolve", data={
            "resolved_at": "2026-11-23T09:00", "reason": "відновлено", "csrf_token": token}),
        "relay-refused": client.post(f"/ops/records/{ACTIVE}/relay", data={
            "recipient": "press@example.org", "who": "Прес", "csrf_token": token}),
        "cancel-refused": client.post(f"/ops/records/{CANCELLED}/cancel", data={
            "reason": "ще раз", "csrf_token": token}),
    }


PAGES = {"today": "/ops", "new": "/ops/records/new", "active": f"/ops/records/{ACTIVE}",
         "gone": f"/ops/records/{GONE}", "resolved": f"/ops/records/{RESOLVED}",
         "cancelled": f"/ops/records/{CANCELLED}", "phone": f"/ops/records/{PHONE}",
         "done": f"/ops/records/{PHONE}?said=Прийнято, №{PHONE}, вчасно (внесено через 15 хв)",
         "audit": "/ops/audit", "people": "/ops/people"}

# Phone-width screenshots, outages-phone-<name>.png: the phone form, a record in each state, the refused forms.
SHOTS = {"today": "ops-today", "new": "ops-records-new", "new-refused": "ops-records-new-refused",
         "active": "ops-record-active", "correct-refused": "ops-record-correct-refused",
         "resolved": "ops-record-resolved", "cancelled": "ops-record-cancelled", "phone": "ops-record-phone"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_record_page_and_the_days_work_pass_the_nu_html_checker(engine, hub, tmp_path):
    from test_html_valid import check, checker

    checker()
    console_city(engine, hub)
    app = make_app(engine, hub, clock=lambda: NOW)
    add_person(engine, "admin@example.org", "admin", now=NOW)
    client = app.test_client()
    assert sign_in(client, "admin@example.org").status_code == 303
    answers = {name: client.get(path) for name, path in PAGES.items()}
    answers |= refused_pages(client)
    files = []
    for name, answer in answers.items():
        expected = 422 if name.endswith("-refused") else 200
        assert answer.status_code == expected and answer.mimetype == "text/html", name
        out = tmp_path / f"ops-{name}.html"
        out.write_bytes(answer.data)
        files.append(out)
    shown = {name: answer.get_data(as_text=True) for name, answer in answers.items()}
    assert 'id="act"' in shown["active"] and 'id="act"' in shown["gone"] and 'id="act"' in shown["phone"]
    assert 'id="act"' not in shown["resolved"] and "Водопостачання відновлено" in shown["resolved"]
    assert 'id="act"' not in shown["cancelled"] and "Скасовано: Хибний виклик" in shown["cancelled"]
    assert "Надіслати повторно</button>" in shown["active"] and "<script>" not in shown["active"]
    assert "рядка вже немає в таблиці" in shown["gone"] and CALLER in shown["phone"]
    today = shown["today"]
    assert 'id="gone"' in today and f"№{GONE}</a>" in today.split('id="gone"')[1]
    assert "Надіслати повторно" in today and "Відхилені рядки, що чекають виправлення" in today
    assert check(files) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_console_page_in_chromium_at_390_px_and_on_a_desktop_fits_and_has_no_axe_violations(
        chromium, engine, hub, serve):
    console_city(engine, hub)
    add_person(engine, "admin@example.org", "admin", now=NOW)
    site = serve(hub, lambda: NOW)
    shots = Path(SCREENSHOT).parent
    shots.mkdir(parents=True, exist_ok=True)
    for viewport in (PHONE_SIZE, DESKTOP):
        # axe is the test's own script, injected past the console's policy (bypass_csp); the pages have none.
        context = chromium.new_context(viewport=viewport, bypass_csp=True, locale="uk-UA")
        page = context.new_page()
        sign_in_with_keyboard(page, site, "admin@example.org")
        phone = viewport is PHONE_SIZE
        for name, path in PAGES.items():
            page.goto(site + path)
            assert page.locator("h1").count() == 1, path
            assert fits(page, viewport["width"]), (path, viewport)
            assert axe_violations(page) == [], (path, viewport)
            if phone and name in SHOTS:
                page.screenshot(path=str(shots / f"outages-phone-{SHOTS[name]}.png"), full_page=True)
        # The refused forms, submitted from their pages: the answer keeps what was typed beside the reasons.
        page.goto(site + "/ops/records/new")
        for name, value in PHONE_REPORT.items():
            if name == "kind":
                page.select_option("#new-kind", value)
            else:
                page.fill(f"#new-{name}", value)
        page.fill("#new-districts", "Південний")
        page.click("button:has-text('Внести запис')")
        page.wait_for_load_state()
        assert "Невідомий район «Південний»" in page.inner_text("[role=alert]")
        assert page.input_value("#new-caller") == CALLER
        assert fits(page, viewport["width"]) and axe_violations(page) == [], ("new refused", viewport)
        if phone:
            page.screenshot(path=str(shots / f"outages-phone-{SHOTS['new-refused']}.png"), full_page=True)
        page.goto(site + f"/ops/records/{ACTIVE}")
        page.click("summary:has-text('Виправити запис')")
        page.fill("#fix-districts", "Південний")
        page.fill("#fix-reason", "уточнення")
        page.click("button:has-text('Зберегти виправлення')")
        page.wait_for_load_state()
        assert "Невідомий район «Південний»" in page.inner_text("[role=alert]")
        assert page.is_visible("#fix-districts")  # the refused form stays open
        assert fits(page, viewport["width"]) and axe_violations(page) == [], ("correct refused", viewport)
        if phone:
            page.screenshot(path=str(shots / f"outages-phone-{SHOTS['correct-refused']}.png"), full_page=True)
        context.close()
