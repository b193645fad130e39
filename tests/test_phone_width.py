"""Phones, and the ways a resident hears of outages (issue 18).

In Chromium at 390×844 (an everyday phone): `/subscribe`, a search answer and the officials' relay-state page are
no wider than the screen, and each offers the e-mail subscription, the Telegram bot and channel and the hotline as
links a reader sees; the answer's «Повідомляти мене про цю адресу» opens the form with the house filled in.
Through the Flask test client: which links the settings switch on and off, English, escaping, the static copy.

The browser tests take tests/test_browser.py's fixture (Debian's /usr/bin/chromium, never a downloaded browser).
The three screenshots go to OUTAGES_SCREENSHOT_DIR (default: the test's temporary folder); the ones in
docs/screenshots/ were made with `OUTAGES_SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest -q
tests/test_phone_width.py`.
"""

from __future__ import annotations

import os
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select
from test_browser import browser  # noqa: F401  (the fixture)
from web_demo import NOW, make_app, sync_demo
from werkzeug.serving import make_server

from outages import db
from outages.officials import relay
from outages.officials.options import mail_options
from outages.schema import outbox
from outages.settings import SettingsError, load

PHONE = {"width": 390, "height": 844}
CITY = {"OUTAGES_SECRET_KEY": "phone-test-key", "OUTAGES_TELEGRAM_BOT_NAME": "@demo_outages_bot",
        "OUTAGES_TELEGRAM_CHANNEL": "@demo_outages", "OUTAGES_HOTLINE": "0 800 50 15 80"}
# What a reader sees in «Як дізнаватися про аварії»: (link text, href).
WAYS = [("Листи за вашою адресою", "/subscribe"),
        ("Telegram-бот @demo_outages_bot", "https://t.me/demo_outages_bot"),
        ("Telegram-канал @demo_outages", "https://t.me/demo_outages"),
        ("Гаряча лінія 0 800 50 15 80", "tel:0800501580")]
WAYS_EN = [("E-mail for your address", "/subscribe?lang=en"),
           ("Telegram bot @demo_outages_bot", "https://t.me/demo_outages_bot"),
           ("Telegram channel @demo_outages", "https://t.me/demo_outages"),
           ("Hotline 0 800 50 15 80", "tel:0800501580")]
FOLLOW = "/subscribe?address=%D0%B2%D1%83%D0%BB.+%D0%A1%D0%BE%D0%B1%D0%BE%D1%80%D0%BD%D0%B0%2C+5"  # вул. Соборна, 5


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The demo city synced once; each test makes its app over it with its own settings."""
    folder = tmp_path_factory.mktemp("phone")
    engine = db.engine_for(city((folder, None)))
    db.upgrade(engine)
    sync_demo(engine, city((folder, None)))
    yield folder, engine
    engine.dispose()


def city(store, **env: str):
    """Settings over the store: the test city's (CITY) changed by `env`; a value of None leaves a setting out."""
    folder, _engine = store
    chosen = {k: v for k, v in {**CITY, **env}.items() if v is not None}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # no ./outages.toml of the developer's
        return load({"OUTAGES_DATABASE_URL": f"sqlite:///{folder / 'outages.db'}", **chosen})


def client(store, **env: str):
    return make_app(store[1], city(store, **env)).test_client()


def state_path(store) -> str:
    """The relay-state page of the demo's first relayed record, as its signed link in a duty officer's mail."""
    settings = city(store)
    with store[1].connect() as conn:
        asked = conn.execute(select(outbox).where(outbox.c.relay.is_(True), outbox.c.role == "district_duty")
                             .order_by(outbox.c.id)).first()
    url = relay.links(mail_options(settings), asked.record_number, asked.recipient, asked.role, relay=True,
                      now=NOW)["relay_state_url"]
    return url.removeprefix(mail_options(settings).public_url)


class Links(HTMLParser):
    """Each link of a page as a reader meets it: its text (spaces folded) and where it leads, and which landmark
    («Як дізнаватися…» is an aside) it stands in."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []  # (aside id or "", text, href)
        self._aside, self._href, self._text = "", None, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "aside":
            self._aside = dict(attrs).get("id") or ""
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_endtag(self, tag):
        if tag == "aside":
            self._aside = ""
        if tag == "a" and self._href is not None:
            self.found.append((self._aside, " ".join("".join(self._text).split()), self._href))
            self._href = None

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def ways(self) -> list[tuple[str, str]]:
        return [(text, href) for aside, text, href in self.found if aside == "follow"]

    def to(self, text: str) -> list[str]:
        return [href for _aside, shown, href in self.found if shown == text]


# ---- in the browser, at 390 px -------------------------------------------------------------------------------

@pytest.fixture
def phone_site(store):
    server = make_server("127.0.0.1", 0, make_app(store[1], city(store)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def seen_ways(page) -> list[tuple[str, str]]:
    """The links under the heading «Як дізнаватися про аварії», as shown (visible text) and where they go."""
    links = page.get_by_role("complementary", name="Як дізнаватися про аварії").get_by_role("link")
    assert all(link.is_visible() for link in links.all())
    return [(" ".join(link.inner_text().split()), link.get_attribute("href")) for link in links.all()]


def test_subscribe_a_search_answer_and_the_relay_page_fit_a_390_px_phone(browser, phone_site, store,  # noqa: F811
                                                                          tmp_path):
    shots = Path(os.environ.get("OUTAGES_SCREENSHOT_DIR") or tmp_path).absolute()
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, java_script_enabled=False,
                                  locale="uk-UA")
    page = context.new_page()
    for name, path in (("search", "/?q=Соборна 5"), ("subscribe", "/subscribe"), ("relay", state_path(store))):
        page.goto(phone_site + path)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, name
        assert seen_ways(page) == WAYS, name
        page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
        assert (shots / f"{name}-390.png").stat().st_size > 10_000

        if name == "search":
            answer = page.get_by_role("status").first.inner_text()
            assert answer.startswith("За адресою вул. Соборна, 5 зараз нічого не вимкнено.")
            offer = page.get_by_role("link", name="Повідомляти мене про цю адресу")
            assert offer.is_visible() and offer.get_attribute("href") == FOLLOW
            # The site's header offers the ways too: «Сповіщення» leads down to them.
            assert page.get_by_role("banner").get_by_role("link", name="Сповіщення").get_attribute("href") == "#follow"
            offer.click()  # a plain link: no script needed
            page.wait_for_url("**/subscribe?address=*")
            assert page.input_value("#address") == "вул. Соборна, 5" and page.input_value("#email") == ""
        if name == "subscribe":
            # The site's own header, as on every other page.
            banner = page.get_by_role("banner")
            assert banner.get_by_role("link", name="Демо-місто: аварії та планові роботи").get_attribute("href") == "/"
            assert banner.get_by_role("link", name="English").get_attribute("href") == "/subscribe?lang=en"
            assert page.get_by_role("heading", level=1).inner_text() == "Підписка на повідомлення за адресою"
            assert page.input_value("#address") == ""
        if name == "relay":
            # Each addressee a block of labelled lines instead of a five-column table.
            assert page.get_by_role("heading", level=1).inner_text().startswith("Стан передачі інформації · №")
            assert "Черговий" in page.inner_text("tbody")
    context.close()


# ---- which links, where, and when (the Flask test client) -----------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/outages/8", "/timeliness", "/sections/upcoming", "/no-such-page",
                                  "/subscribe", "/subscribe?address=Соборна 14"])
def test_every_page_offers_the_ways_to_hear_of_outages(store, path):
    page = client(store).get(path)
    assert page.status_code in (200, 404)
    links = Links(page.text)
    assert links.ways() == WAYS
    assert links.to("Сповіщення") == ["#follow"]


def test_the_relay_pages_offer_them_in_ukrainian_whatever_the_browser_asks(store):
    web = client(store)
    state = web.get(state_path(store), headers={"Accept-Language": "en"})
    assert state.status_code == 200 and Links(state.text).ways() == WAYS
    forged = web.get("/relay/records/forged", headers={"Accept-Language": "en"})
    assert forged.status_code == 404 and Links(forged.text).ways() == WAYS


def test_english_pages_offer_them_in_english(store):
    web = client(store)
    for path in ("/en/", "/?lang=en", "/en/outages/8", "/subscribe?lang=en"):
        assert Links(web.get(path).text).ways() == WAYS_EN, path
    assert Links(web.get("/en/").text).to("Get notified") == ["#follow"]


def test_a_search_answer_offers_the_subscription_for_its_house(store):
    web = client(store)
    assert Links(web.get("/?q=Соборна 5").text).to("Повідомляти мене про цю адресу") == [FOLLOW]
    assert Links(web.get("/?q=Соборна 5&lang=en").text).to("Tell me about this address") == [FOLLOW + "&lang=en"]
    # No house, or no street of the city's catalogue: there is no answer line, and nothing to subscribe to.
    for query in ("Соборна", "Неіснуюча 5"):
        assert "/subscribe?address=" not in web.get("/", query_string={"q": query}).text, query


def test_the_form_is_filled_in_from_the_link_escaped_and_nothing_is_stored(store):
    web = client(store)
    filled = web.get("/subscribe", query_string={"address": "  вул. Соборна,   5 "})
    assert 'name="address" required maxlength="200" placeholder="Соборна 14" value="вул. Соборна, 5"' in filled.text
    hostile = web.get("/subscribe", query_string={"address": '"><script>alert(1)</script>'})
    assert "<script>" not in hostile.text and 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in hostile.text
    long = "Соборна " + "9" * 500
    assert f'value="{long[:200]}"' in web.get("/subscribe", query_string={"address": long}).text
    with store[1].connect() as conn:
        assert conn.execute(select(outbox).where(outbox.c.kind == "subscribe_confirm")).first() is None
    # The form posts back in the language it was asked for.
    assert 'action="/subscribe?lang=en"' in web.get("/subscribe?lang=en").text
    assert 'action="/subscribe"' in filled.text


def test_nothing_is_offered_that_the_city_did_not_set_up(store):
    # No signing key (/subscribe would answer 503), no bot, no channel, no hotline: no links, no heading, no
    # «Сповіщення» in the header, no «Повідомляти мене…» under an answer.
    web = client(store, OUTAGES_SECRET_KEY=None, OUTAGES_TELEGRAM_BOT_NAME=None, OUTAGES_TELEGRAM_CHANNEL=None,
                 OUTAGES_HOTLINE="")
    for path in ("/", "/?q=Соборна 5", "/en/outages/8"):
        page = web.get(path).text
        assert 'id="follow"' not in page and "#follow" not in page and "/subscribe" not in page, path
    assert web.get("/subscribe").status_code == 503
    # Each on its own: a channel known only by its id has no public link; a hotline with no digits is no tel:.
    only = client(store, OUTAGES_SECRET_KEY=None, OUTAGES_TELEGRAM_BOT_NAME=None,
                  OUTAGES_TELEGRAM_CHANNEL="-1001234567890", OUTAGES_HOTLINE="гаряча лінія")
    assert 'id="follow"' not in only.get("/").text
    hotline = client(store, OUTAGES_SECRET_KEY=None, OUTAGES_TELEGRAM_BOT_NAME=None, OUTAGES_TELEGRAM_CHANNEL=None)
    assert Links(hotline.get("/").text).ways() == [WAYS[3]]
    bot = client(store, OUTAGES_SECRET_KEY=None, OUTAGES_HOTLINE="", OUTAGES_TELEGRAM_CHANNEL=None,
                 OUTAGES_TELEGRAM_BOT_NAME="demo_outages_bot")  # the @ may be left out
    assert Links(bot.get("/").text).ways() == [WAYS[1]]


@pytest.mark.parametrize("name", ["demo_outages", "@bot", "@demo outages_bot", "https://t.me/demo_outages_bot"])
def test_a_bot_name_that_is_not_one_stops_start_up_naming_the_setting(store, name):
    with pytest.raises(SettingsError, match="OUTAGES_TELEGRAM_BOT_NAME"):
        city(store, OUTAGES_TELEGRAM_BOT_NAME=name)


def test_the_static_copy_leads_to_the_live_sign_up(store):
    web = client(store, OUTAGES_PUBLIC_URL="https://outages.example.org/")
    page = web.get("/", headers={"Accept-Language": "uk"}, environ_overrides={"outages.static": True})
    assert Links(page.text).ways()[0] == ("Листи за вашою адресою", "https://outages.example.org/subscribe")


def test_the_sign_up_page_and_the_offers_pass_axe(browser, phone_site, store):  # noqa: F811
    from test_browser import axe_violations

    # axe is the test's own script, injected past the pages' policy (they allow none).
    context = browser.new_context(viewport=PHONE, bypass_csp=True, locale="uk-UA")
    page = context.new_page()
    for path in ("/subscribe?address=вул.+Соборна,+5", "/?q=Соборна 5", "/en/?q=Соборна 5", state_path(store)):
        page.goto(phone_site + path)
        assert axe_violations(page) == [], path
    context.close()
