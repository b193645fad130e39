"""The site in a real browser: headless Chromium (Debian's package) driven by Playwright, axe-core for
accessibility, hostile dispatcher text that must never run, and the phone-width layout.

Never `playwright install` (it downloads browsers): Playwright drives /usr/bin/chromium. On a developer
machine without it these tests skip with the reason; under CI=true they fail instead (.ci/run installs it).
"""

from __future__ import annotations

import os
import threading
from importlib import resources
from pathlib import Path

import pytest
from web_demo import XSS, make_app, sync_demo, xss_row
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("OUTAGES_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENSHOT = Path(os.environ.get("OUTAGES_SCREENSHOT_DIR", "/tmp")) / "outages-home-phone.png"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
        resources.files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8")
    except (ImportError, FileNotFoundError, ModuleNotFoundError) as exc:
        return f"playwright / axe-playwright-python not installed (pip install -e '.[test]'): {exc}"
    return None


@pytest.fixture(scope="module")
def browser():
    problem = _missing()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run under CI: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """The app over the demo and a hostile row, on a loopback port. One store (SQLite) is enough here: the
    browser is the point; the pages are tested on PostgreSQL too in test_web_pages."""
    from outages import db
    from outages.settings import load

    monkeypatch.chdir(tmp_path)
    settings = load({"OUTAGES_DATABASE_URL": f"sqlite:///{tmp_path / 'outages.db'}"})
    engine = db.engine_for(settings)
    db.upgrade(engine)
    sync_demo(engine, settings, xss_row())
    server = make_server("127.0.0.1", 0, make_app(engine, settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    engine.dispose()


def axe_violations(page) -> list[str]:
    page.add_script_tag(content=resources.files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]]


@pytest.mark.parametrize("path", ["/", "/outages/8", "/timeliness", "/?lang=en", "/outages/4?lang=en", "/en/",
                                  "/en/outages/8", "/sections/upcoming", "/districts/tsentralnyi", "/outages/999"])
def test_axe_finds_no_violations(browser, site, path):
    # The site's policy forbids every script; axe is the test's own, injected past it.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(site + path)
    assert page.locator("h1").count() == 1
    assert axe_violations(page) == []
    context.close()


def test_hostile_text_is_shown_not_run(browser, site):
    # Without the site's Content-Security-Policy: escaping alone must keep the text from running (the policy is a
    # second wall, checked in test_web_cache).
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The record itself, the lists that carry it, and a search that reflects the query into the form.
    for path in ("/outages/18", "/", "/?lang=en", "/?q=" + XSS["summary"], "/?q=%22%3E%3Cimg%20src%3Dx%20onerror"
                 "%3Dwindow.__xss%3D1%3E"):
        page.goto(site + path)
        assert page.evaluate("() => window.__xss") is None, path
        assert page.evaluate("() => document.querySelectorAll('script, img, svg, iframe').length") == 0, path
        if path == "/outages/18":
            shown = page.inner_text("main")
            assert XSS["summary"] in shown and "{{7*7}}" in shown
            assert 'onerror="window.__xss=1"' in shown
    assert page.input_value("#f-q").startswith('"><img src=x onerror')
    assert dialogs == [] and errors == []
    context.close()


def test_phone_layout_fits_and_filters_work_without_javascript(browser, site):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1,
                                  java_script_enabled=False, locale="uk-UA")
    page = context.new_page()
    page.goto(site + "/")
    # Nothing wider than the phone: no sideways scrolling, and text at a readable size.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.stat().st_size > 10_000
    for path in ("/timeliness", "/outages/8", "/en/outages/8", "/sections/upcoming", "/outages/18"):
        page.goto(site + path)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, path
        # One per page type, to look at (docs/web.md): outages-phone-outages-8.png …
        name = path.strip("/").replace("/", "-") or "home"
        page.screenshot(path=str(SCREENSHOT.with_name(f"outages-phone-{name}.png")), full_page=True)
    page.goto(site + "/")
    # The form is plain HTML: typing a street and pressing Enter filters, with JavaScript off.
    page.fill("#f-q", "вулиця соборна")
    page.press("#f-q", "Enter")
    page.wait_for_url("**/?q=*")
    text = page.inner_text("main")
    assert "Знайдено записів" in text and "вул. Соборна, 12, 14" in text and "вул. Фалеєвська" not in text
    page.select_option("#f-service", "Водопостачання")
    page.click("button[type=submit]")
    page.wait_for_url("**service=*")
    # #13 (вул. Соборна, 12, 14) and the hostile row (вул. Соборна, 1) are water emergencies on that street.
    assert "Аварії зараз (2)" in page.inner_text("main")
    context.close()


def test_one_click_on_the_relay_link_confirms_but_a_link_scanner_does_not(browser, tmp_path, monkeypatch):
    """Regulation 7.6: the duty officer clicks «Інформацію передано» once in the e-mail and it is recorded; a mail
    system fetching the same link to scan it (no scripts) confirms nothing."""
    import urllib.request
    from datetime import datetime, timezone

    from rows import emergency, table
    from sqlalchemy import select

    from outages import db
    from outages.officials import relay
    from outages.officials.options import mail_options
    from outages.records.sync import sync
    from outages.schema import outbox
    from outages.settings import load

    monkeypatch.chdir(tmp_path)
    settings = load({"OUTAGES_DATABASE_URL": f"sqlite:///{tmp_path / 'outages.db'}",
                     "OUTAGES_SECRET_KEY": "relay-test-key"})
    engine = db.engine_for(settings)
    db.upgrade(engine)
    now = datetime(2026, 11, 22, 12, 30, tzinfo=timezone.utc)  # 14:30 Kyiv, 25 min after the row was entered
    sync(engine, table(emergency()), settings, now)
    with engine.connect() as conn:
        message = conn.execute(select(outbox).where(outbox.c.relay.is_(True), outbox.c.role == "district_duty")).first()
    token_url = relay.links(mail_options(settings), message.record_number, message.recipient, message.role, relay=True,
                            now=message.created_at)["relay_url"]
    path = token_url.split("/relay/", 1)[1]
    server = make_server("127.0.0.1", 0, make_app(engine, settings, now=now), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/relay/{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as scanned:  # what a link scanner does
            assert "Інформацію передано</button>" in scanned.read().decode()
        with engine.connect() as conn:
            assert relay.confirmation(conn, message.id) is None
        page = browser.new_page()
        page.goto(url)  # the officer's one click
        page.wait_for_selector("text=Підтверджено", timeout=10_000)
        assert "Дякуємо" in page.inner_text("body")
        with engine.connect() as conn:
            assert relay.confirmation(conn, message.id) is not None
        page.close()
    finally:
        server.shutdown()
        thread.join(10)
        engine.dispose()
