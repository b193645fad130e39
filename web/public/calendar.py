"""/planned.ics: planned works as calendar events, in the city's zone, same filters as `/`.

One VEVENT per planned record. Its UID never changes (record number + public host), SEQUENCE follows the
record's revision, so a subscribed calendar moves the event when the utility reschedules instead of adding a
second one. DTSTAMP is the record's last change, never the clock: the same data gives the same bytes.

Resolution of planned works means they are over. Works resolved after they began keep STATUS:CONFIRMED and end at
the moment they were reported finished (prefixed «Завершено»); works resolved before their start did not happen,
so they become STATUS:CANCELLED, which calendar apps show struck out.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, current_app, request
from icalendar import Calendar, Event, Timezone

from outages.places.search import Filters
from outages.records.views import RecordView, planned_works
from outages.times import UTC
from web import hub
from web.links import absolute, authority, base_url
from web.public.changes import area, facts, safe_text

bp = Blueprint("calendar", __name__)

# Planned works that started longer ago than this (and are no longer active) leave the feed: a calendar app
# keeps the events it has, and the feed stays one SQL slice however many years the store holds. At most
# CALENDAR_LIMIT works, soonest first (a district's or service's calendar, ?district=…, holds its own).
CALENDAR_DAYS = 30
CALENDAR_LIMIT = 300  # icalendar writes ~5 ms an event: a cache miss stays near a second


@bp.get("/planned.ics")
def planned() -> Response:
    app = hub()
    filters = Filters.from_args(request.args, app.settings)
    with app.engine.connect() as conn:
        works = planned_works(conn, app.now(), app.now() - timedelta(days=CALENDAR_DAYS),
                              filters.sql_conditions(conn), limit=CALENDAR_LIMIT)
    return Response(ical(works, filters.as_args()), mimetype="text/calendar",
                    headers={"Content-Disposition": 'inline; filename="planned.ics"'})


EVENTS_KEPT = 5000  # serialised events a worker keeps (~1 KB each)


def ical(works: list[RecordView], args: dict[str, str]) -> bytes:
    """`build(works, args).to_ical()`, byte for byte, with each VEVENT serialised once per worker for the same
    record and site address: icalendar spends ~0.6 ms an event, so a miss of 300 events took 200 ms; now a new
    data version costs the events that changed. (tests/test_calendar.py compares both.)"""
    frame = build([], args, zone_of=works).to_ical()
    kept: dict = current_app.extensions.setdefault("outages_ical_events", {})
    site = base_url()
    events = []
    for record in works:
        key = (record, site)
        text = kept.get(key)
        if text is None:
            text = _event(record).to_ical()
            if len(kept) >= EVENTS_KEPT:
                kept.clear()
            kept[key] = text
        events.append(text)
    end = b"END:VCALENDAR\r\n"
    assert frame.endswith(end)
    return frame[:-len(end)] + b"".join(events) + end


def build(works: list[RecordView], args: dict[str, str], zone_of: list[RecordView] | None = None) -> Calendar:
    """The calendar of these works; `zone_of`: the works whose years the time zone's rules cover (default: these)."""
    settings = hub().settings
    tz = settings.tz
    city = safe_text(settings.city_name)
    cal = Calendar()
    cal.add("prodid", "-//outages-hub//planned works//UK")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = f"{city}: планові роботи"
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", str(tz.key))
    cal.add("url", absolute("/planned.ics", args))
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add_component(_timezone(works if zone_of is None else zone_of, tz))
    for record in works:
        cal.add_component(_event(record))
    return cal


def _timezone(works: list[RecordView], tz) -> Timezone:  # noqa: ANN001
    # The zone's rules for the years the data spans (and two more), not 1970–2038: a smaller, stable document.
    years = [r.event_at.astimezone(tz).year for r in works] or [2026]
    return Timezone.from_tzinfo(tz, tzid=str(tz.key), first_date=date(min(years) - 1, 1, 1),
                                last_date=date(max(years) + 2, 1, 1))


def _event(record: RecordView) -> Event:
    settings = hub().settings
    tz = settings.tz
    start = record.event_at.astimezone(tz)
    end = record.expected_end.astimezone(tz) if record.expected_end else None
    status, prefix = "CONFIRMED", ""
    if record.status == "resolved" and record.resolved_at is not None:
        if record.resolved_at <= record.event_at:
            status, prefix = "CANCELLED", "Скасовано: "
        else:
            end, prefix = record.resolved_at.astimezone(tz), "Завершено: "

    event = Event()
    event.add("uid", f"outage-{record.number}@{authority()}")
    event.add("dtstamp", record.last_changed_at.astimezone(UTC))
    event.add("created", record.first_recorded_at.astimezone(UTC))
    event.add("last-modified", record.last_changed_at.astimezone(UTC))
    event.add("sequence", max(record.revision - 1, 0))
    event.add("dtstart", start)
    if end is not None and end > start:
        event.add("dtend", end)
    event.add("summary", f"{prefix}{safe_text(record.service)}: {safe_text(record.summary)} (№{record.number})")
    page = absolute(f"/outages/{record.number}")
    lines = [f"{uk}: {value}" for uk, _, value in facts(record, settings)]
    event.add("description", "\n".join([*lines, page]))
    event.add("location", ", ".join(p for p in (safe_text(settings.city_name), area(record)) if p))
    event.add("url", page)
    event.add("categories", [safe_text(record.service) or "Інше"])
    event.add("status", status)
    event.add("class", "PUBLIC")
    # Works on the network do not make a resident busy: keep the time free in their calendar.
    event.add("transp", "TRANSPARENT")
    return event
