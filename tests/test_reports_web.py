"""Residents' reports on the site (issue 20), through Flask's test client over a real store (SQLite and
PostgreSQL), records made by the real sync, the clock pinned: /report's answers in residents' own words, the
public list before and after moderation, the reporter's status page, the e-mail confirmation, the utility's
«Прийнято в роботу» link. Personal data never on a public page; every text escaped."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, table
from sqlalchemy import select

from outages.delivery.drain import drain
from outages.officials.options import mail_options
from outages.records.sync import sync
from outages.reports import forward, tell
from outages.reports.moderate import moderate
from outages.reports.store import by_token
from outages.schema import audit, reports
from outages.transports.smtp import SmtpTransport

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)  # within the contact centre's hours (08:00-20:00)
STATUS_LINK = re.compile(r'href="/report/status/([A-Za-z0-9_-]+)"')
OLENA = {"name": "Олена Коваль", "phone": "0671112233", "email": "olena@example.org"}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def client(mail_settings, engine, clock):
    """The site over a live water emergency at вул. Соборна, 12 (record №1, expected back at 20:00)."""
    from web import create_app

    sync(engine, table(emergency()), mail_settings, NOW - timedelta(minutes=10))
    app = create_app(mail_settings, engine=engine)
    app.extensions["outages"].clock = clock
    return app.test_client()


def report(client, ip="198.51.100.7", **fields):
    return client.post("/report", data=fields, environ_base={"REMOTE_ADDR": ip})


def token_of(answer) -> str:
    return STATUS_LINK.search(answer.text).group(1)


def report_id(engine, token: str) -> int:
    with engine.connect() as conn:
        return by_token(conn, token).id


def accept(engine, settings, number: int, at: datetime = NOW) -> None:
    with engine.begin() as conn:
        moderate(conn, settings, number, "accept", actor="operator@example.org", now=at)


# What residents type, and what the page must say back.
CASES = [
    ("a house under a live record", {"service": "water", "address": "Соборна 12"}, 200,
     ["Про це вже відомо: запис №1", "Відновлення очікується сьогодні до 20:00", 'href="/outages/1"',
      'href="/subscribe?address=', "Ваше повідомлення №1"]),
    ("a house nobody reported yet", {"service": "water", "address": "Соборна 40", "description": "Немає води"}, 200,
     ["Повідомлення отримано. Контакт-центр перевірить його", "до перевірки воно ніде не публікується",
      'href="/report/status/']),
    ("no street", {"service": "water", "address": "12"}, 400,
     ["Не знайшли вулицю в «12»", 'id="address-error"', 'aria-describedby="address-error"',
      'aria-invalid="true"']),
    ("no address at all", {"service": "water", "address": ""}, 400,
     ["Вкажіть адресу: вулицю і номер будинку", 'id="address-error"']),
    ("an unknown service", {"service": "teleport", "address": "Соборна 12"}, 400,
     ["Оберіть послугу зі списку: power (Електропостачання)", 'aria-describedby="service-hint service-error"',
      'value="Соборна 12"']),
    ("a description of 4,001 characters", {"service": "water", "address": "Соборна 12", "description": "ж" * 4001},
     400, ["Опис задовгий: 4001 символів, можна до 4000.", 'id="description-error"', "ж" * 4001]),
    ("an e-mail that is not one", {"service": "water", "address": "Соборна 12", "email": "olena at home"}, 400,
     ["не схожа на справжню", 'id="email-error"', 'value="olena at home"']),
]


@pytest.mark.parametrize(("case", "fields", "status", "shown"), CASES, ids=[c[0] for c in CASES])
def test_a_report_is_answered_in_the_residents_words(client, engine, case, fields, status, shown):
    answer = report(client, **fields)
    assert answer.status_code == status, answer.text
    for words in shown:
        assert words in answer.text, words
    assert answer.headers["Cache-Control"] == "no-store"
    with engine.connect() as conn:
        stored = conn.execute(select(reports)).all()
    assert len(stored) == (1 if status == 200 else 0)  # refused: nothing kept
    if status == 400:
        assert 'role="alert"' in answer.text and "Повідомлення не надіслано" in answer.text


def test_the_form_is_labelled_usable_without_script_and_says_contacts_are_never_published(client):
    page = client.get("/report")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.text
    for name in ("service", "address", "description", "email", "name", "phone"):
        assert f'name="{name}"' in html and f'<label for="{name}">' in html, name
    assert '<option value="water">Водопостачання — аварійна (SOS)</option>' in html
    assert '<option value="roads">Дороги і транспорт</option>' in html
    assert "отримує лише виконавець" in html and "Їх ніколи не публікують" in html
    assert "<script" not in html and 'method="post" action="/report"' in html
    # The navigation leads here and to the public list from every page of the site.
    home = client.get("/").text
    assert 'href="/report"' in home and 'href="/reports"' in home


def test_a_new_report_is_public_only_once_the_contact_centre_accepts_it(client, engine, mail_settings):
    answer = report(client, service="water", address="Соборна 40", description="Немає води з ранку", **OLENA)
    token = token_of(answer)
    number = report_id(engine, token)
    status = client.get(f"/report/status/{token}")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    assert "Чекає на перевірку Контакт-центром" in status.text and "Соборна 40" in status.text
    assert "Немає води з ранку" in status.text
    listing = client.get("/reports")
    assert f'href="/reports/{number}"' not in listing.text and "Соборна, 40" not in listing.text
    assert client.get(f"/reports/{number}").status_code == 404

    accept(engine, mail_settings, number)
    listing = client.get("/reports")
    assert f'href="/reports/{number}"' in listing.text and "вул. Соборна, 40" in listing.text
    assert "Повідомлення взято до розгляду" in listing.text and "22.11.2026 18:00" in listing.text
    one = client.get(f"/reports/{number}")
    assert one.status_code == 200 and "Немає води з ранку" in one.text and "КП «Водоканал»" in one.text
    assert "Повідомлення взято до розгляду" in client.get(f"/report/status/{token}").text
    # Filters: by service and by status.
    assert f'href="/reports/{number}"' in client.get("/reports?service=water&status=open").text
    assert f'href="/reports/{number}"' not in client.get("/reports?service=power").text
    assert f'href="/reports/{number}"' not in client.get("/reports?status=closed").text


def test_the_known_answer_and_the_public_list_link_the_record(client, engine):
    answer = report(client, service="water", address="Соборна 12", description="Тече з-під асфальту")
    number = report_id(engine, token_of(answer))
    listing = client.get("/reports").text
    assert f'href="/reports/{number}"' in listing and 'href="/outages/1">запис №1</a>' in listing
    assert "Повідомлення взято до розгляду: №1" in listing


def test_no_reporters_name_e_mail_or_phone_on_a_public_page(client, engine, mail_settings):
    known = report(client, service="water", address="Соборна 12", **OLENA)
    waiting = report(client, service="water", address="Соборна 40", **OLENA)
    accept(engine, mail_settings, report_id(engine, token_of(waiting)))
    pages = ["/reports", "/reports?service=water", *(f"/reports/{report_id(engine, token_of(a))}"
                                                      for a in (known, waiting))]
    for path in pages:
        answer = client.get(path)
        assert answer.status_code == 200, path
        for private in (*OLENA.values(), "067 111", "Коваль"):
            assert private not in answer.text, (path, private)
    status = client.get(f"/report/status/{token_of(waiting)}").text
    assert all(private not in status for private in OLENA.values())


def test_hostile_text_is_escaped_on_the_public_and_the_status_page(client, engine, mail_settings):
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    answer = report(client, service="water", address="Соборна 40", description=hostile)
    token = token_of(answer)
    number = report_id(engine, token)
    accept(engine, mail_settings, number)
    for path in (f"/reports/{number}", f"/report/status/{token}", "/reports"):
        body = client.get(path).text
        assert "<script>alert" not in body and "<img src=x" not in body, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/reports/{number}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/report/status/{token}").text


def test_the_eleventh_report_within_an_hour_from_one_client_waits(client, clock):
    for n in range(10):
        clock.at = NOW + timedelta(minutes=n)
        assert report(client, service="water", address="Соборна 12").status_code == 200, n
    clock.at = NOW + timedelta(minutes=15)
    refused = report(client, service="water", address="Соборна 12")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(45 * 60)
    assert "забагато повідомлень" in refused.text and "Спробуйте знову через 45 хв" in refused.text
    # Another client is not held back by this one.
    assert report(client, ip="203.0.113.9", service="water", address="Соборна 12").status_code == 200


def _neutral(html: str) -> str:
    """The page without what differs between any two reports: their numbers and tokens."""
    return re.sub(r"№\d+", "№N", STATUS_LINK.sub('href="/report/status/T"', html))


def test_the_answer_is_the_same_whether_the_e_mail_is_known_or_not(client, engine, mail_settings):
    first = report(client, ip="198.51.100.1", service="water", address="Соборна 40", email="olena@example.org")
    # The address is known now (it sent a report and was asked to confirm it); a stranger's is not.
    known = report(client, ip="198.51.100.2", service="water", address="Соборна 40", email="olena@example.org")
    unknown = report(client, ip="198.51.100.3", service="water", address="Соборна 40", email="taras@example.org")
    assert known.status_code == unknown.status_code == first.status_code == 200
    assert _neutral(known.text) == _neutral(unknown.text) == _neutral(first.text)


def test_the_reporters_status_page_says_when_a_report_was_declined(client, engine, mail_settings):
    token = token_of(report(client, service="roads", address="Соборна 40", description="Реклама"))
    with engine.begin() as conn:
        moderate(conn, mail_settings, report_id(engine, token), "reject", actor="operator@example.org", now=NOW)
    page = client.get(f"/report/status/{token}").text
    assert "Не опубліковано" in page and "пунктів 4.2 та 4.3" in page
    assert "Дороги і транспорт" in page and "Реклама" in page
    assert client.get("/report/status/no-such-token").status_code == 404


def test_the_e_mail_is_confirmed_by_the_button_not_by_opening_the_link(client, engine, mail_settings, smtp_peer):
    token = token_of(report(client, service="water", address="Соборна 40", email="olena@example.org"))
    drain(engine, SmtpTransport(mail_options(mail_settings)), now=NOW, budget_s=30)
    [mail] = [r.message for r in smtp_peer.received if "olena@example.org" in r.rcpt_tos]
    text = mail.get_body(("plain",)).get_content()
    path = re.search(r"https://hub\.example\.org(/report/confirm/\S+)", text).group(1)
    shown = client.get(path)  # a mail scanner: nothing changes
    assert shown.status_code == 200 and "Підтвердити" in shown.text and '<form method="post">' in shown.text
    with engine.connect() as conn:
        assert by_token(conn, token).email_confirmed_at is None
    done = client.post(path)
    assert done.status_code == 200 and "Новини про стан повідомлення" in done.text
    assert "надходитимуть на e-mail" in done.text
    with engine.connect() as conn:
        assert by_token(conn, token).email_confirmed_at == NOW
    assert client.get("/report/confirm/forged-token").status_code == 404
    forged = tell.confirm_token(replace(mail_options(mail_settings), secret_key="not-ours"), report_id(engine, token))
    assert client.post(f"/report/confirm/{forged}").status_code == 404


def test_the_utility_takes_a_report_once_from_its_mail_link(client, engine, mail_settings, clock):
    token = token_of(report(client, service="water", address="Соборна 40", description="Немає води", **OLENA))
    number = report_id(engine, token)
    accept(engine, mail_settings, number)
    link = f"/reports/take/{forward.take_token(mail_options(mail_settings), number)}"
    shown = client.get(link)  # what the utility sees, and what a mail scanner fetches: nothing is stamped
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "Прийнято в роботу</button>" in shown.text and "вул. Соборна, 40" in shown.text
    assert "Олена Коваль" in shown.text and 'href="tel:' in shown.text and "olena@example.org" in shown.text
    clock.at = NOW + timedelta(minutes=5)
    taken = client.post(link)
    assert taken.status_code == 200 and "Прийнято в роботу 22.11.2026 18:05." in taken.text
    clock.at = NOW + timedelta(minutes=9)
    again = client.post(link)
    assert "Вже прийнято в роботу 22.11.2026 18:05." in again.text and "</button>" not in again.text
    with engine.connect() as conn:
        rows = conn.execute(select(audit).where(audit.c.action == "report_take")).all()
        assert by_token(conn, token).taken_at == NOW + timedelta(minutes=5)
    assert [(r.actor, r.object) for r in rows] == [("utility:КП «Водоканал»", f"report:{number}")]
    assert client.get(link[:-3] + "xyz").status_code == 404
    assert client.post("/reports/take/forged").status_code == 404


def test_the_public_list_pages_newest_first(client, engine, mail_settings, clock):
    numbers = []
    for n in range(23):
        clock.at = NOW + timedelta(minutes=n)
        answer = report(client, ip=f"198.51.100.{n}", service="water", address="Соборна 12")
        numbers.append(report_id(engine, token_of(answer)))
    first = client.get("/reports").text
    assert "Знайдено повідомлень: 23" in first
    shown = [int(n) for n in re.findall(r'href="/reports/(\d+)"', first)]
    assert shown == sorted(numbers, reverse=True)[:20]
    second = client.get("/reports?page=2").text
    assert [int(n) for n in re.findall(r'href="/reports/(\d+)"', second)] == sorted(numbers)[:3][::-1]
    assert 'aria-current="page">2<' in second
    assert client.get("/reports?page=9").status_code == 404
    assert client.get("/reports/999999").status_code == 404


def test_a_reporter_who_confirms_after_the_report_was_taken_hears_its_status_once(client, engine, mail_settings,
                                                                                  smtp_peer):
    # «Соборна 12» is taken at once (record №1): the reporter confirms later and is told where it stands.
    report(client, service="water", address="Соборна 12", email="olena@example.org")
    transport = SmtpTransport(mail_options(mail_settings))
    drain(engine, transport, now=NOW, budget_s=30)
    [confirmation] = [r.message for r in smtp_peer.received if "olena@example.org" in r.rcpt_tos]
    path = re.search(r"https://hub\.example\.org(/report/confirm/\S+)",
                     confirmation.get_body(("plain",)).get_content()).group(1)
    client.post(path)
    client.post(path)  # pressed twice: one message still
    drain(engine, transport, now=NOW, budget_s=30)
    mails = [r.message for r in smtp_peer.received if "olena@example.org" in r.rcpt_tos]
    assert len(mails) == 2
    assert "Повідомлення взято до розгляду: №1" in mails[1].get_body(("plain",)).get_content()
