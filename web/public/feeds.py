"""/feed.rss and /feed.atom: one entry per public change of a record, newest first, same filters as `/`.

Both come from one FeedGenerator. Entry ids are tag: URIs (public host, the record's first day, record number,
event id), so a reader never sees an entry twice; every date comes from the data, so the same data always gives
the same bytes (the response cache and ETags rely on it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app, request
from markupsafe import escape

from outages.places.search import Filters
from outages.records.views import last_change, recently_changed
from outages.times import UTC, fmt
from web import hub
from web.links import absolute, authority, base_url
from web.public.changes import PUBLIC_KINDS, Change, change_label, changes, facts, new_expected_end, safe_text, said

bp = Blueprint("feeds", __name__)

# Newest changes per feed: enough for a reader that polls every few hours during a city-wide blackout.
FEED_ENTRIES = 200
# An empty store still needs a feed date; a constant keeps the document stable.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@bp.get("/feed.rss")
def rss() -> Response:
    return Response(_feed("/feed.rss").rss_str(pretty=False), mimetype="application/rss+xml")


@bp.get("/feed.atom")
def atom() -> Response:
    return Response(_feed("/feed.atom").atom_str(pretty=False), mimetype="application/atom+xml")


def requested_changes() -> tuple[datetime | None, list[Change], dict[str, str]]:
    """The newest change in the store, the newest changes of the records the request's filters select, and the
    filters as arguments: what the feeds and the CAP index are made of. Only the records of the newest changes
    are read (one SQL slice), whatever the store holds."""
    app = hub()
    filters = Filters.from_args(request.args, app.settings)
    with app.engine.connect() as conn:
        chosen = recently_changed(conn, app.now(), PUBLIC_KINDS, FEED_ENTRIES, filters.sql_conditions(conn))
        recent = changes(conn, chosen)[:FEED_ENTRIES]
        latest = None if recent else last_change(conn)
    return latest, recent, filters.as_args()


def _feed(path: str) -> FeedGenerator:
    settings = hub().settings
    latest, recent, args = requested_changes()
    city = safe_text(settings.city_name)
    fg = FeedGenerator()
    fg.id(absolute(path, args))
    fg.title(f"{city}: аварії та планові роботи" + _filter_note(args))
    fg.subtitle("Аварійні ситуації та планові роботи на комунальних мережах: нові, оновлення, ліквідація. "
                "Emergencies and planned works on municipal services.")
    fg.author(name=f"{city} — Контакт-центр")
    fg.language("uk")
    fg.generator("outages-hub")
    # The newest change shown, or (nothing matches the filters) the newest in the store.
    fg.updated((recent[0].at if recent else latest or EPOCH).astimezone(settings.tz))
    # RSS takes the channel <link> from the last link() call: self first, the page last.
    fg.link(href=absolute(path, args), rel="self", type="application/atom+xml" if path.endswith("atom")
            else "application/rss+xml")
    fg.link(href=absolute("/", args), rel="alternate", type="text/html")
    for change in recent:
        _entry(fg, change)
    return fg


def _filter_note(args: dict[str, str]) -> str:
    parts = [args[k] for k in ("district", "service") if k in args]
    if "q" in args:
        parts.append(f"«{args['q']}»")
    return " — " + ", ".join(safe_text(p) for p in parts) if parts else ""


@dataclass(frozen=True, slots=True)
class _Entry:
    """What one change says in a feed: written once per event and worker (see `_entry_for`)."""

    id: str
    title: str
    at: datetime
    link: str
    summary: str
    content: str
    terms: tuple[str, ...]


# Per app: event id and public base URL -> the entry. A change's entry depends only on data that never changes
# once written (events are only appended; the record as it stood after an event is the record with every later
# change undone), so a feed's cache miss writes the texts of new changes only. tests/test_feeds.py holds a warm
# worker's feed equal to a fresh one's after the records change.
_ENTRIES = "outages_feed_entries"
_ENTRIES_KEPT = 4 * FEED_ENTRIES  # the newest entries of a few filtered feeds; the oldest go first


_ENTRIES_LOCK = threading.Lock()  # a worker's threads share the entries


def _entry_for(change: Change) -> _Entry:
    kept: dict[tuple[int, str], _Entry] = current_app.extensions.setdefault(_ENTRIES, {})
    key = (change.event.id, base_url())
    entry = kept.get(key)
    if entry is None:
        entry = _write_entry(change)
        with _ENTRIES_LOCK:
            kept[key] = entry
            if len(kept) > _ENTRIES_KEPT + FEED_ENTRIES:  # trimmed a feed's worth at a time, not per entry
                for old in sorted(kept)[:len(kept) - _ENTRIES_KEPT]:
                    del kept[old]
    return entry


def _write_entry(change: Change) -> _Entry:
    settings = hub().settings
    state = change.state
    rows = facts(state, settings)
    moved = new_expected_end(change)
    label_uk, _ = change_label(change)
    title = f"№{state.number} · {label_uk}: {said(change) or safe_text(state.service)}"
    if moved and moved[1] is not None:
        title += f" — новий термін {fmt(moved[1], settings.tz)}"
    first_day = state.first_recorded_at.astimezone(settings.tz).date().isoformat()
    terms = tuple(term for term in map(safe_text, (state.service, state.kind.uk, *state.districts)) if term)
    return _Entry(
        id=f"tag:{authority()},{first_day}:outages/{state.number}/events/{change.event.id}", title=title,
        at=change.at.astimezone(settings.tz), link=absolute(f"/outages/{state.number}"),
        summary=" · ".join(value for _, _, value in rows[:4]), content=_html(rows, moved, settings.tz), terms=terms,
    )


def _entry(fg: FeedGenerator, change: Change) -> None:
    entry = _entry_for(change)
    fe = fg.add_entry(order="append")
    fe.id(entry.id)
    fe.guid(entry.id, permalink=False)
    fe.title(entry.title)
    fe.updated(entry.at)
    fe.published(entry.at)
    fe.link(href=entry.link, rel="alternate", type="text/html")
    fe.summary(entry.summary)
    fe.content(entry.content, type="html")
    for term in entry.terms:
        fe.category(term=term)


@lru_cache(maxsize=64)  # the few labels of a record's facts («Послуга», «Район»…), escaped once
def _label(text: str) -> str:
    return str(escape(text))


def _html(rows: list[tuple[str, str, str]], moved: tuple | None, tz) -> str:  # noqa: ANN001
    """The entry body as HTML; markupsafe escapes every value, so dispatcher text stays text."""
    parts = []
    if moved:
        old, new = (escape(fmt(moment, tz) or "—") for moment in moved)
        parts.append(f"<p><strong>Термін змінено:</strong> {old} → {new}</p>")
    parts.append("<dl>")
    parts += [f"<dt>{_label(uk)}</dt><dd>{escape(value)}</dd>" for uk, _, value in rows]
    parts.append("</dl>")
    return "".join(parts)
