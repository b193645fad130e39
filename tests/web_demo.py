"""The public site over a real store, for the web tests: the demo export synced, the clock pinned."""

from __future__ import annotations

import csv
import re
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from conftest import DEMO_CSV
from rows import FIELD_HEADERS

from outages.records.model import SheetRow, SheetTable
from outages.records.sync import sync

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 20, 0, tzinfo=KYIV)


def demo_contacts() -> set[str]:
    """Every dispatcher's name, phone and e-mail in the demo export: none may appear in public output."""
    with open(DEMO_CSV, encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    values = {row[h] for row in rows for h in ("Відповідальна особа", "Контактний телефон",
                                                 "Адреса електронної пошти")}
    return {v for v in values if v and len(v) > 4}


def demo_table(*extra: dict) -> SheetTable:
    """The bundled demo export as the sheet gives it (read here, so the web tests need nothing of sheets/),
    with `extra` rows (field -> value, as tests/rows.py builds them) appended below it."""
    with open(DEMO_CSV, encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        headers = next(reader)
        rows = [SheetRow(number=n, values=dict(zip(headers, values))) for n, values in enumerate(reader, 2)]
    for fields in extra:
        rows.append(SheetRow(number=len(rows) + 2, values={FIELD_HEADERS[k]: v for k, v in fields.items()}))
    return SheetTable(source="demo", headers=tuple(headers), rows=tuple(rows))


# The demo's last rows are stamped up to 22:05: synced after them (a later stamp would be refused as implausible),
# looked at by the pages at NOW.
SYNCED = datetime(2026, 11, 22, 22, 10, tzinfo=KYIV)


def sync_demo(engine, settings, *extra: dict, now=SYNCED):
    return sync(engine, demo_table(*extra), settings, now)


def make_app(engine, settings, now=NOW):
    from web import create_app

    app = create_app(settings, engine=engine)
    app.extensions["outages"].clock = lambda: now
    app.config.update(TESTING=True)
    # Tests sync and look at once; a live site reads the data version at most once a second per process.
    app.extensions["outages_cache"].check_interval = 0
    # ...and the request that finds its copy expired waits for the new one, however slow the machine.
    app.extensions["outages_cache"].render_wait = None
    return app


class Page(HTMLParser):
    """What a reader sees: the text (spaces folded), and the tags and attributes that make up the markup."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()
        self.text = re.sub(r"\s+", " ", " ".join(self.parts)).strip()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.parts.append(data)


def section_text(html: str, anchor: str) -> str:
    """The text of one <section id=…> of a page (sections are not nested)."""
    match = re.search(rf'<section id="{anchor}".*?</section>', html, re.S)
    assert match, f"no section {anchor}"
    return Page(match.group(0)).text


# Dispatcher text that tries to become markup, script, a CDATA end or a template, with control characters.
XSS = {
    "summary": "<script>window.__xss=1;alert(1)</script> {{7*7}} ${7*7}",
    "addresses": "вул. Соборна, 1\"><img src=x onerror=\"window.__xss=1\">'",
    "cause": "]]><svg onload=window.__xss=1></svg><![CDATA[ & &amp; &#x3C;",
    "impact": "</textarea></title><iframe src=\"javascript:window.__xss=1\"></iframe>\x07\x1b[31m\x00\x0b",
}


def xss_row(**over):
    from rows import emergency

    fields = {"recorded_at": "22.11.2026 19:50", "event_at": "22.11.2026 19:40",
              "expected_end": "23.11.2026 08:00", **XSS, **over}
    return emergency(**fields)
