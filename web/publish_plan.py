"""What `outages publish` writes, listed from the app's routes and the store, never found by following links (so
no limit on links can leave a page out):

- `fixed`: every public GET route without arguments (`/`, `/timeliness`, the feeds, the calendar, the API's index
  and OpenAPI document, the CAP index, the favicon, all again under `/en/` where they have a twin), and every file
  of the static folder (`/static/site.css`);
- `scopes`: each district's and each service's page, in both languages;
- `lists`: each page of each section's full list (the whole city, each district, each service; both languages),
  with a fingerprint of what it shows: the section's size and the (number, state) of its records;
- `records`: every route taking only a record `number` (its page, in both languages, and its JSON), for every
  record in the store, read a slice at a time; each route ends with the number, so a record's files are named by
  it in one folder per route (`outages/12.html`, `en/outages/12.html`, `api/v1/outages/12.json`);
- `cap`: the CAP messages the CAP index lists.

Which of them change between two releases: `fixed` and `scopes` depend on every record and on the day, so they
are rendered each time (a few dozen); a list page when its fingerprint changed or one of its records did; a
record's pages (and its CAP messages) when the record has an event after the last release's data version, or the
clock changed its state (views.moved_with_clock).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from flask import Flask
from werkzeug.routing import Map, MapAdapter

from outages.places.search import Filters
from outages.records.views import SECTIONS, record_numbers_after, section_members
from web.formats import PAGES, PUBLIC_BLUEPRINTS

RECORD_SLICE = 1000  # record numbers read from the store at a time


@dataclass(frozen=True)
class ListPage:
    path: str
    fingerprint: str
    numbers: tuple[int, ...]  # the records it shows


def public(rule_endpoint: str) -> bool:
    return rule_endpoint == "static" or rule_endpoint.split(".", 1)[0] in PUBLIC_BLUEPRINTS


def _get_rules(url_map: Map):  # noqa: ANN202
    return [r for r in url_map.iter_rules() if "GET" in (r.methods or ()) and public(r.endpoint)]


def fixed(app: Flask) -> list[str]:
    """Routes without arguments, "/" first (if the home page fails nothing is published), and the static files."""
    paths = {rule.rule for rule in _get_rules(app.url_map) if not rule.arguments}
    folder = Path(app.static_folder or "")
    if folder.is_dir():
        paths |= {f"{app.static_url_path}/{p.relative_to(folder).as_posix()}"
                  for p in folder.rglob("*") if p.is_file()}
    return sorted(paths, key=lambda p: (p != "/", p))


def record_endpoints(app: Flask) -> list[str]:
    """Endpoints of the routes that take only a record's number: its page in each language, its JSON, and any
    format added later (web/formats.py)."""
    return sorted({rule.endpoint for rule in _get_rules(app.url_map) if rule.arguments == {"number"}})


def _adapter(app: Flask) -> MapAdapter:
    return app.url_map.bind("localhost")


def _languages(app: Flask, endpoint: str) -> list[str]:
    """`pages.<endpoint>` in each language the app registered (pages, pages_en)."""
    return sorted(f"{bp}.{endpoint}" for bp in PAGES if f"{bp}.{endpoint}" in app.view_functions)


def scopes(settings) -> list[tuple[str | None, str | None, Filters]]:  # noqa: ANN001
    """(kind, slug, filters): the whole city, then each district and each service."""
    from web.public.pages import slug_of

    out: list[tuple[str | None, str | None, Filters]] = [(None, None, Filters())]
    out += [("districts", slug_of(settings.districts, name), Filters(districts=(name,)))
            for name in settings.districts.names]
    out += [("services", slug_of(settings.services, name), Filters(services=(name,)))
            for name in settings.services.names]
    return out


def scope_pages(app: Flask, settings) -> list[str]:  # noqa: ANN001
    adapter = _adapter(app)
    return [adapter.build(endpoint, {"kind": kind, "slug": slug})
            for kind, slug, _filters in scopes(settings)[1:] for endpoint in _languages(app, "index")]


def list_pages(app: Flask, conn, settings, now: datetime) -> Iterator[ListPage]:  # noqa: ANN001
    """Every page of every section's list, with what it shows; one query per scope and section."""
    from web.public.pages import PAGE_SIZE

    adapter = _adapter(app)
    endpoints = _languages(app, "section")
    for kind, slug, filters in scopes(settings):
        scope = {"kind": kind, "slug": slug} if kind else {}
        where = filters.sql_conditions(conn)
        for section in SECTIONS:
            members = section_members(conn, now, section, where)
            pages = max(1, -(-len(members) // PAGE_SIZE))
            for page in range(1, pages + 1):
                shown = members[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
                fingerprint = hashlib.sha256(
                    f"{len(members)}|{','.join(f'{n}:{s}' for n, s in shown)}".encode()).hexdigest()[:20]
                numbers = tuple(n for n, _ in shown)
                for endpoint in endpoints:
                    path = adapter.build(endpoint, {**scope, "section": section, "page": page})
                    yield ListPage(path, fingerprint, numbers)


def record_slices(engine) -> Iterator[list[int]]:  # noqa: ANN001
    """Every record number, RECORD_SLICE at a time, each slice read on a connection of its own (no read held open
    while thousands of pages render)."""
    after = 0
    while True:
        with engine.connect() as conn:
            numbers = record_numbers_after(conn, after, RECORD_SLICE)
        if not numbers:
            return
        yield numbers
        after = numbers[-1]


SENTINEL = 2**31 - 2  # a record number no store holds, to learn where a route puts the number


@dataclass(frozen=True)
class RecordRoute:
    """A route taking only a record's number, which ends its path: the record's page is `prefix` + number."""

    endpoint: str
    prefix: str  # e.g. "/en/outages/"

    def path(self, number: int) -> str:
        return f"{self.prefix}{number}"


def record_routes(app: Flask) -> list[RecordRoute]:
    adapter = _adapter(app)
    out = []
    for endpoint in record_endpoints(app):
        head, found, tail = adapter.build(endpoint, {"number": SENTINEL}).rpartition(str(SENTINEL))
        if not found or tail or not head.endswith("/"):
            raise ValueError(f"{endpoint}: a record's route must end with its number to be published")
        out.append(RecordRoute(endpoint, head))
    return out


def cap_messages(app: Flask) -> list[tuple[str, int]]:
    """(path, record number) of each CAP message the CAP index lists: the index's own query (web/public/feeds.py)."""
    if "cap.message" not in app.view_functions:
        return []
    from web.public.cap import message_id
    from web.public.feeds import requested_changes

    adapter = _adapter(app)
    with app.test_request_context("/cap/index.atom"):
        _latest, recent, _args = requested_changes()
        return [(adapter.build("cap.message", {"message": message_id(change.event)}), change.number)
                for change in recent]


def build_key(settings) -> str:  # noqa: ANN001
    """What a page depends on besides the data and the clock: the code, templates and static files, and the
    settings. A release made with another key is not reused: every page is rendered again."""
    data = json.dumps(settings.data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256((_code_key() + data).encode()).hexdigest()[:32]


@lru_cache(maxsize=1)
def _code_key() -> str:
    import outages
    import web

    digest = hashlib.sha256()
    for package in (outages, web):
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()

