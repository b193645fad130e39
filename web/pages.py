"""The public pages: `/`, `/outages/<number>`, `/timeliness`. Server-rendered, no JavaScript needed."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request

from outages import report
from outages.address_index import condition, stored
from outages.answer import answer
from outages.queries import get_record, histories, history, list_records
from outages.record import Kind
from outages.search import Filters

from . import hub
from .i18n import init_app as init_i18n
from .i18n import language
from .views import Presenter, end_changes, group, month_bounds

bp = Blueprint("pages", __name__)

# The pinned paths of the feeds half of the site (web/feeds.py, web/calendar.py, web/api.py, web/cap.py).
FEEDS = (
    ("/feed.atom", "Atom"),
    ("/feed.rss", "RSS"),
    ("/planned.ics", "Планові роботи в календар (iCalendar)"),
    ("/api/v1/outages", "Усі записи у JSON"),
    ("/cap/index.atom", "Сповіщення CAP"),
)


@bp.record_once
def _setup(state) -> None:  # noqa: ANN001
    init_i18n(state.app)
    state.app.jinja_env.globals.update(link=link, lang_args=lang_args)
    state.app.context_processor(lambda: {"city": hub().settings.city_name})


def link(path: str, **args: str) -> str:
    """A link that keeps an explicitly chosen language (?lang=en) across pages."""
    args = {k: v for k, v in args.items() if v}
    if "lang" in request.args and request.args["lang"] in ("uk", "en"):
        args.setdefault("lang", request.args["lang"])
    return path + ("?" + urlencode(args) if args else "")


def lang_args(lang: str) -> str:
    """The current query with the language switched (filters kept)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return urlencode(args + [("lang", lang)])


def presenter() -> Presenter:
    h = hub()
    return Presenter(now=h.now(), tz=h.settings.tz, lang=language(), services=h.settings.services)


@bp.get("/")
def index():  # noqa: ANN201
    h = hub()
    p = presenter()
    filters = Filters.from_args(request.args, h.settings)
    with h.engine.connect() as conn:
        records = filters.records(conn, p.now)
        groups = group(records, p.now)
        said = address_answer(conn, filters, p, h.settings)
        # Only a record that was updated can have a moved expected end: skip the query for the rest.
        updated = [r.number for section in groups.sections() for r in section[2] if r.revision > 1]
        changes = {n: end_changes(events) for n, events in histories(conn, updated, ("updated",)).items()}
    return render_template(
        "index.html", p=p, groups=groups, changes=changes, filters=filters, settings=h.settings,
        feed_args=filters.as_args(), feeds=FEEDS, answer=said,
    )


def address_answer(conn, filters: Filters, p: Presenter, settings) -> str | None:  # noqa: ANN001
    """The one line above the list when `q` names a house (or names no street the city knows)."""
    query = filters.address(conn)
    if query is None:
        return None
    covering = list_records(conn, p.now, where=condition(query)) if query.house is not None else []
    return answer(query, covering, p.now, p.tz, p.lang, p.service)


@bp.get("/outages/<int:number>")
def record(number: int):  # noqa: ANN201
    h = hub()
    p = presenter()
    with h.engine.connect() as conn:
        found = get_record(conn, number, p.now)
        if found is None:
            abort(404)
        events = history(conn, number)
        parsed = stored(conn, [number])[number]
    return render_template("record.html", p=p, r=found, events=events, changes=end_changes(events),
                           settings=h.settings, parsed=parsed)


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
    return render_template("timeliness.html", p=p, periods=periods, rules=h.settings.rules, Kind=Kind,
                           worst=_worst)


def _worst(breaches: list, limit: int = 10) -> list:
    """Emergencies with the longest delay after the event first, then planned works with the shortest lead."""
    def badness(r) -> tuple:  # noqa: ANN001
        if r.kind is Kind.EMERGENCY:
            return (0, -(r.deadline.delay_minutes or 0))
        return (1, r.deadline.lead_hours or 0)
    return sorted(breaches, key=badness)[:limit]


@bp.errorhandler(404)
def not_found(_error):  # noqa: ANN001, ANN201
    return render_template("404.html", p=presenter()), 404
