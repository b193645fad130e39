"""URLs in messages and logs: no query strings (a published sheet's token lives there), no passwords."""

from __future__ import annotations

import logging

import pytest

from outages.redact import RedactingFilter, redact

TOKEN = "tok3n-SECRET"


@pytest.mark.parametrize(("text", "shown"), [
    (f"HTTPSConnectionPool(host='docs.example.org', port=443): Max retries exceeded with url: /spreadsheets/d/e/2PACX"
     f"/pub?output=csv&token={TOKEN} (Caused by NewConnectionError)",
     "HTTPSConnectionPool(host='docs.example.org', port=443): Max retries exceeded with url:"
     " /spreadsheets/d/e/2PACX/pub?… (Caused by NewConnectionError)"),
    (f"GET https://hub.example.org/pub?gid=0&token={TOKEN} failed", "GET https://hub.example.org/pub?… failed"),
    (f"postgresql://hub:{TOKEN}@db.example.org:5432/outages?sslmode=require",
     "postgresql://hub:***@db.example.org:5432/outages?…"),
    (f"https://example.org/feed#{TOKEN}", "https://example.org/feed?…"),
    ("no address here, ?x=1 is not a URL", "no address here, ?x=1 is not a URL"),
])
def test_urls_lose_their_query_strings_and_passwords(text, shown):
    assert redact(text) == shown


def test_a_published_csv_that_cannot_be_reached_is_reported_without_its_token(run_cli, env, monkeypatch):
    monkeypatch.setenv("OUTAGES_SHEETS_RETRIES", "0")
    run_cli("init")
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    url = f"http://user:{TOKEN}@127.0.0.1:9/spreadsheets/d/e/2PACX/pub?output=csv&token={TOKEN}"
    result = run_cli("sync", "--source", url)
    assert result.exit_code != 0
    assert "Опублікована таблиця" in result.output and "не відповідає після 1 спроб" in result.output
    assert TOKEN not in result.output


def test_the_log_shows_tracebacks_without_tokens(caplog):
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("outages.test_redact")
    records: list[str] = []
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore[method-assign]
    log.addHandler(handler)
    try:
        try:
            raise ConnectionError(f"cannot read https://docs.example.org/pub?token={TOKEN}")
        except ConnectionError:
            log.exception("sync of %s failed", f"https://docs.example.org/pub?token={TOKEN}")
    finally:
        log.removeHandler(handler)
    assert len(records) == 1
    assert "sync of https://docs.example.org/pub?… failed" in records[0]
    assert "ConnectionError: cannot read https://docs.example.org/pub?…" in records[0]
    assert TOKEN not in records[0]
