"""The public pages: `/`, a section's full list, a district's or a service's page, `/outages/<number>`,
`/timeliness`, and the same under `/en/` in English. Server-rendered, no JavaScript needed.

Every list is read as an SQL slice with the filters as conditions (outages/records/views.py): `/` shows the counts of
each section and its first records, and the full list of a section is paged, so the page stays small and fast
with thousands of active records.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup

from outages.places.addresses import AddressQuery
from outages.places.answer import Answer, Split, answer_pieces
from outages.places.index import stored
from outages.places.search import Filters
from outages.records import timeliness as report
from outages.records.model import Kind
from outages.records.views import (
    SECTIONS,
    RecordView,
    data_changed_at,
    get_record,
    histories,
    history,
    list_records,
    planned_between,
    section_counts,
    section_page,
)
from web import hub
from web.formats import FEED_LINKS, RECORD_LINKS, is_page
from web.houses import HouseFacts, canonical_query, houses
from web.i18n import init_app as init_i18n
from web.i18n import language
from web.public.views import Presenter, day_bounds, end_changes, month_bounds, timeline, timeline_of

bp = Blueprint("pages", __name__)

HOME_PER_SECTION = 10  # records of each section on `/` and on a district's or service's page
PAGE_SIZE = 50  # records per page of a section's full list
MAX_NUMBER = 2**31 - 1  # record numbers are 32-bit integers in the store: anything larger is no record


SECTION_TITLES = {
    "emergencies": "Аварії зараз",
    "ongoing": "Планові роботи зараз",
    "upcoming": "Планові роботи на 14 днів",
    "fixed": "Усунено за добу",
}


@bp.record_once
def _setup(state) -> None:  # noqa: ANN001
    init_i18n(state.app)
    state.app.jinja_env.globals.update(link=link, lang_args=lang_args, other_language=other_language,
                                       static_export=static_export, card=card)
    state.app.context_processor(lambda: {"city": city_name()})
    # Any unknown address gets the site's own 404 page, not the framework's.
    state.app.register_error_handler(404, not_found)


def static_export() -> bool:
    """True while `outages publish` renders the static copy: no control there may need the live app."""
    return bool(request.environ.get("outages.static"))


def city_name() -> str:
    settings = hub().settings
    if language() == "en":
        return str(settings.data.get("city_name_en") or "").strip() or settings.city_name
    return settings.city_name


def _english_path() -> bool:
    return request.path == "/en" or request.path.startswith("/en/")


def link(path: str, **args: str) -> str:
    """A link to a page of the site that keeps the reader's language: under /en/ in the English pages, or with an
    explicitly chosen ?lang= kept."""
    args = {k: v for k, v in args.items() if v}
    if _english_path() and is_page(path):
        path = "/en" + path if path != "/" else "/en/"
    elif "lang" in request.args and request.args["lang"] in ("uk", "en") and not static_export():
        args.setdefault("lang", request.args["lang"])
    return path + ("?" + urlencode(args) if args else "")


def other_language() -> tuple[str, str, str]:
    """(href, language code, label) of this page in the other language: /en/… ↔ /…, filters kept."""
    # A search as the page names it (web/houses.py): every spelling of a house is one page, with one link.
    args = [(k, canonical_query(current_app, v, hub().now()) if k == "q" else v)
            for k, v in request.args.items(multi=True) if k != "lang"]
    query = "?" + urlencode(args) if args else ""
    if language() == "en":
        path = request.path[3:] or "/" if _english_path() else request.path
        if not _english_path():
            return request.path + "?" + urlencode(args + [("lang", "uk")]), "uk", "Українською"
        return path + query, "uk", "Українською"
    return ("/en" + request.path if request.path != "/" else "/en/") + query, "en", "English"


CARDS = 5000  # record cards a worker keeps rendered (a few MB)


def card(p: Presenter, r: RecordView, moves: list, said: object) -> Markup:
    """A record's card in a list (`_record.html`), rendered once per worker for the same record, state, updates and
    language: a search page shows up to 40 of them, and rendering them was half its cost. The key is everything
    the card is made of, so a changed record, a passed term or another language is another card."""
    key = (r, tuple(moves), said, p.lang, p.tz.key, _english_path(), request.args.get("lang"), static_export())
    cards: dict = current_app.extensions.setdefault("outages_cards", {})
    try:
        found = cards.get(key)
    except TypeError:  # something unhashable among the record's values: render it every time
        key, found = None, None
    if found is None:
        found = Markup(current_app.jinja_env.get_template("_record.html").render(
            p=p, r=r, moves=moves, said=said, heading=3, linked=True, full=False))
        if key is not None:
            if len(cards) >= CARDS:
                cards.clear()
            cards[key] = found
    return found


def lang_args(lang: str) -> str:
    """The current query with the language switched (filters kept)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return urlencode(args + [("lang", lang)])


def presenter() -> Presenter:
    h = hub()
    return Presenter(now=h.now(), tz=h.settings.tz, lang=language(), services=h.settings.services,
                     districts=h.settings.districts)


def _scope(kind: str | None, slug: str | None) -> tuple[Filters, str, str]:
    """Filters from the query, narrowed by a district's or service's page; (filters, scope title, path prefix)."""
    settings = hub().settings
    filters = Filters.from_args(request.args, settings)
    if filters.query:
        # One spelling per house: the page names it so, and the response cache keeps one entry for all of them.
        filters = replace(filters, query=canonical_query(current_app, filters.query, hub().now()))
    if kind is None:
        return filters, "", ""
    catalog = settings.districts if kind == "districts" else settings.services
    name = next((n for n in catalog.names if slug_of(catalog, n) == slug), None)
    if name is None:
        abort(404)
    if kind == "districts":
        filters = replace(filters, districts=(name,))
    else:
        filters = replace(filters, services=(name,))
    return filters, name, f"/{kind}/{slug}"


def own_time(conn):  # noqa: ANN001, ANN201
    """«Дані оновлено» for a page that shows some records, not the whole city's state. Live, the time of the newest
    change anywhere. In the static copy, nothing: such a page is written again only when what it shows changes
    (web/publish.py), so a time of the whole city's data would be stale on it, while each record says its own."""
    return None if static_export() else data_changed_at(conn)


def slug_of(catalog, name: str) -> str:  # noqa: ANN001
    """A district's or service's page name: its English name in lower case with dashes (`zavodskyi`,
    `hot-water`), or the Ukrainian name when the city gives no English one."""
    english = catalog.english(name)
    base = english if english != name else name
    return "-".join("".join(ch if ch.isalnum() else " " for ch in base.lower()).split())


@bp.get("/")
@bp.get("/districts/<slug>", defaults={"kind": "districts"})
@bp.get("/services/<slug>", defaults={"kind": "services"})
def index(kind: str | None = None, slug: str | None = None):  # noqa: ANN201
    h = hub()
    p = presenter()
    filters, scope, prefix = _scope(kind, slug)
    today, tomorrow = day_bounds(p.now, h.settings.tz)
    if filters.query:
        # A search: the open records in memory (web/houses.py), none of the street's rows read again.
        query, facts = searched(filters, p.now)
        counts = {name: len(facts.lists[name]) for name in SECTIONS}
        sections = [(name, SECTION_TITLES[name], counts[name], facts.lists[name][:HOME_PER_SECTION])
                    for name in SECTIONS]
        planned_today = facts.planned_today
    else:
        query = None
    shown = [r for section in sections for r in section[3]] if query is not None else []
    changed_at = facts.changed_at if query is not None else None
    if query is not None and changed_at is not None and not any(r.revision > 1 for r in shown):
        # A search answered from memory asks the store nothing: when the data last changed is the version its
        # records were read at, and no shown record was updated (no moves of its end, no news to read).
        changes, news = {}, {}
    else:
        with h.engine.connect() as conn:
            if query is None:
                where = filters.sql_conditions(conn)
                counts = section_counts(conn, p.now, where)
                sections = [(name, SECTION_TITLES[name], counts[name],
                             section_page(conn, p.now, name, where, limit=HOME_PER_SECTION)) for name in SECTIONS]
                planned_today = planned_between(conn, today, tomorrow, where)
                shown = [r for section in sections for r in section[3]]
            changes, news = _moves(conn, shown)
            if changed_at is None:
                changed_at = data_changed_at(conn)
    summary = {"emergencies": counts["emergencies"], "today": planned_today, "upcoming": counts["upcoming"]}
    said = address_answer(query, facts.answer, p) if query is not None else None
    return render_template(
        "index.html", p=p, sections=sections, summary=summary, changes=changes, news=news, filters=filters,
        settings=h.settings, feed_args=filters.as_args(), feeds=FEED_LINKS, scope=scope, scope_kind=kind,
        prefix=prefix, changed_at=changed_at, slug_of=slug_of, total=sum(counts.values()),
        list_args=_list_args(filters, kind), answer=said,
    )


def searched(filters: Filters, now) -> tuple[AddressQuery, HouseFacts]:  # noqa: ANN001
    """The search parsed, and what its page shows of the open records it finds (web/houses.py)."""
    return houses().facts(current_app, filters, now, day_bounds(now, hub().settings.tz),
                          current_app.extensions["outages_cache"].ttl)


def address_answer(query: AddressQuery, covering: Split, p: Presenter) -> Answer | None:
    """The one line above the list when `q` names a house (or names no street the city knows); `covering`: the
    records covering the house, in every district, whatever the page's other filters. Its «see all» words lead
    to a section's paged list of the whole city for the same `q` (index.html)."""
    return answer_pieces(query, covering if query.house is not None else [], p.now, p.tz, p.lang, p.service)


@bp.get("/sections/<section>", defaults={"page": 1})
@bp.get("/sections/<section>/<int:page>")
@bp.get("/districts/<slug>/<section>", defaults={"page": 1, "kind": "districts"})
@bp.get("/districts/<slug>/<section>/<int:page>", defaults={"kind": "districts"})
@bp.get("/services/<slug>/<section>", defaults={"page": 1, "kind": "services"})
@bp.get("/services/<slug>/<section>/<int:page>", defaults={"kind": "services"})
def section(section: str, page: int, kind: str | None = None, slug: str | None = None):  # noqa: ANN201
    """One section's full list, PAGE_SIZE records a page (paths, not ?page=, so the static copy has them too)."""
    if section not in SECTIONS or page < 1:
        abort(404)
    h = hub()
    p = presenter()
    filters, scope, prefix = _scope(kind, slug)
    listed = searched(filters, p.now)[1].lists[section] if filters.query else None
    with h.engine.connect() as conn:
        if listed is None:
            where = filters.sql_conditions(conn)
            total = section_counts(conn, p.now, where)[section]
        else:
            total = len(listed)
        pages = max(1, -(-total // PAGE_SIZE))
        if page > pages:
            abort(404)
        first = (page - 1) * PAGE_SIZE
        items = (section_page(conn, p.now, section, where, limit=PAGE_SIZE, offset=first) if listed is None
                 else listed[first:first + PAGE_SIZE])
        changes, news = _moves(conn, items)
        changed_at = own_time(conn)
    return render_template(
        "section.html", p=p, section=section, title=SECTION_TITLES[section], items=items, total=total,
        page=page, pages=pages, changes=changes, news=news, filters=filters, scope=scope, prefix=prefix,
        changed_at=changed_at, first=(page - 1) * PAGE_SIZE + 1, list_args=_list_args(filters, kind),
    )


def _list_args(filters: Filters, kind: str | None) -> dict[str, str]:
    # A district's or service's page names its scope in the path; the query keeps the other filters.
    args = filters.as_args()
    if kind:
        args.pop("district" if kind == "districts" else "service", None)
    return args


def _moves(conn, shown) -> tuple[dict, dict]:  # noqa: ANN001
    """Per shown record: the moves of its expected end, and its latest update's own text (the card's «news» under
    the headline). Only a record that was updated has either: the query skips the rest."""
    updated = [r.number for r in shown if r.revision > 1]
    moves, news = {}, {}
    for number, events in histories(conn, updated, ("updated", "resolved")).items():
        moves[number] = end_changes(events)
        said = [step for step in timeline_of(events) if step.text]
        if said:
            news[number] = said[-1]
    return moves, news


@bp.get("/outages/<int:number>")
def record(number: int):  # noqa: ANN201
    if number > MAX_NUMBER:
        abort(404)
    h = hub()
    p = presenter()
    with h.engine.connect() as conn:
        found = get_record(conn, number, p.now)
        if found is None:
            abort(404)
        events = history(conn, number)
        changed_at = own_time(conn)
        parsed = stored(conn, [number])[number]
    return render_template("record.html", p=p, r=found, events=timeline(found, events), changes=end_changes(events),
                           settings=h.settings, changed_at=changed_at, parsed=parsed, record_links=RECORD_LINKS,
                           shortened=found.shortened or any(e.shortened for e in events))


@bp.get("/timeliness")
def timeliness():  # noqa: ANN201
    h = hub()
    p = presenter()
    last, this, following = month_bounds(p.now, h.settings.tz)
    with h.engine.connect() as conn:
        periods = [
            ("this", "Цей місяць", this, report.build(list_records(conn, p.now, since=this, until=following),
                                                     this, following)),
            ("last", "Минулий місяць", last, report.build(list_records(conn, p.now, since=last, until=this),
                                                         last, this)),
        ]
        changed_at = data_changed_at(conn)
    return render_template("timeliness.html", p=p, periods=periods, rules=h.settings.rules, Kind=Kind,
                           worst=_worst, changed_at=changed_at)


def _worst(breaches: list, limit: int = 10) -> list:
    """Emergencies with the longest delay after the event first, then planned works with the shortest lead."""
    def badness(r) -> tuple:  # noqa: ANN001
        if r.kind is Kind.EMERGENCY:
            return (0, -(r.deadline.delay_minutes or 0))
        return (1, r.deadline.lead_hours or 0)
    return sorted(breaches, key=badness)[:limit]


@bp.get("/favicon.ico")
def favicon() -> Response:
    return current_app.send_static_file("favicon.ico")


@bp.get("/robots.txt")
def robots() -> Response:
    # Officials' confirmation links and the form's push hook are not for search engines.
    body = "User-agent: *\nDisallow: /relay/\nDisallow: /hooks/\nAllow: /\n"
    return Response(body, mimetype="text/plain")


def not_found(_error):  # noqa: ANN001, ANN201
    return render_template("404.html", p=presenter(), changed_at=None), 404
