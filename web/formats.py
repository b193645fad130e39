"""The public formats of the site beside its pages, registered once: caching (web/cache.py), static publishing
(web/publish.py), the app's blueprints (web/__init__.py) and the links offered on pages all follow this list.

A new format (say GeoJSON) is a blueprint module in web/public/ and one Format line here; its MIME type goes in
TEXT_TYPES (compressed when published) and EXTENSIONS (its file name in a static copy).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    path: str  # may hold {number}: a link from one record's page
    label: str  # Ukrainian; the English site translates it through web/i18n.py
    planned_only: bool = False  # offered on a record's page only for planned works


@dataclass(frozen=True)
class Format:
    module: str  # defines `bp`, a Blueprint
    blueprint: str  # the blueprint's name
    prefixes: tuple[str, ...]  # the URL paths it owns: no /en/ twin, never a page
    links: tuple[Link, ...] = ()  # offered on pages, for the reader's filters
    record_links: tuple[Link, ...] = ()  # offered on a record's page


FORMATS: tuple[Format, ...] = (
    Format("web.public.feeds", "feeds", ("/feed.",),
           links=(Link("/feed.atom", "Atom"), Link("/feed.rss", "RSS")),
           record_links=(Link("/feed.atom", "Atom"), Link("/feed.rss", "RSS"))),
    Format("web.public.calendar", "calendar", ("/planned.ics",),
           links=(Link("/planned.ics", "Планові роботи в календар (iCalendar)"),),
           record_links=(Link("/planned.ics", "Планові роботи в календар (iCalendar)", planned_only=True),)),
    Format("web.public.api", "api", ("/api/",),
           links=(Link("/api/v1/outages", "Усі записи у JSON"),),
           record_links=(Link("/api/v1/outages/{number}", "Запис у JSON"),)),
    Format("web.public.cap", "cap", ("/cap/",),
           links=(Link("/cap/index.atom", "Сповіщення CAP"),),
           record_links=(Link("/cap/index.atom", "Сповіщення CAP"),)),
)

PAGES = frozenset({"pages", "pages_en"})  # the pages blueprint, and its English twin under /en/
# Every blueprint whose GET answers are public: cached in memory and written by `outages publish`.
PUBLIC_BLUEPRINTS = PAGES | {f.blueprint for f in FORMATS}
NOT_PAGES = tuple(prefix for f in FORMATS for prefix in f.prefixes) + ("/static/",)
FEED_LINKS = tuple(link for f in FORMATS for link in f.links)
RECORD_LINKS = tuple(link for f in FORMATS for link in f.record_links)

# Text answers: compressed by the cache and by the publisher (a .gz beside the file).
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/atom+xml", "application/rss+xml",
              "application/cap+xml", "application/javascript")
# A MIME type's file extension in the static copy.
EXTENSIONS = {"text/html": "html", "application/json": "json", "text/plain": "txt", "text/calendar": "ics",
              "application/xml": "xml", "text/xml": "xml", "application/atom+xml": "atom",
              "application/rss+xml": "rss", "application/cap+xml": "xml", "text/css": "css"}


def is_page(path: str) -> bool:
    """A page of the site (it has an English twin under /en/), not a feed, the API or a static file."""
    return not path.startswith(NOT_PAGES)
