"""Who among the residents hears of a change, and when: pure functions over the city's one street matcher
(outages/places/addresses.py, shared with the site's search).

- `locate`: what the matcher makes of the address a resident typed (a street of the catalogue, a house or none).
- `covered`: which subscriptions a record's addresses cover (same street, the house in a span, or the whole
  street; a subscription without a house hears of everything on its street).
- `is_news`: created and resolved always; an update only when the term moved by an hour or more.
- `not_before`: quiet hours (default 22:00–07:00, city time) hold planned-works news until morning; emergencies
  go at once.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from outages.places.addresses import AddressItem, AddressQuery, covers, parse_query
from outages.records.model import Kind
from outages.residents.subscriptions import Where
from outages.settings import Settings, SettingsError
from outages.times import instant

MOVE_THRESHOLD = timedelta(hours=1)


def locate(address: str, settings: Settings) -> Where | None:
    query = parse_query(address, settings.streets)
    if not query.street_keys:
        return None
    house = "" if query.house is None else f"{query.house}" + (f"|{query.suffix}" if query.suffix else "")
    # The label is built from the catalogue's name of the street chosen and the house read, never from the typed
    # text: «Соборна 12 Bcc: x@evil.example» is «вул. Соборна, 12», and only that reaches a Subject.
    one = AddressQuery(text=query.streets[0], street_keys=query.street_keys[:1], streets=query.streets[:1],
                       house=query.house, suffix=query.suffix)
    return Where(street_key=query.street_keys[0], house=house, label=one.label)


def as_query(subscription: Any) -> AddressQuery:
    number, _, suffix = (subscription.house or "").partition("|")
    return AddressQuery(text=subscription.address, street_keys=(subscription.street_key,),
                        house=int(number) if number else None, suffix=suffix)


def covered(items: Iterable[AddressItem], subscriptions: Iterable[Any]) -> list[Any]:
    """The subscriptions a record with these parsed addresses covers, each once."""
    items = list(items)
    out = []
    for sub in subscriptions:
        query = as_query(sub)
        if any(covers(item, query) for item in items):
            out.append(sub)
    return out


def wants(subscription: Any, service: str) -> bool:
    chosen = subscription.services or []
    return not chosen or service in chosen


# What a resident acts on: a correction of these is news to them (a cause or the utility's name is not).
CORRECTED_NEWS = ("addresses", "districts", "event_at", "expected_end", "summary", "impact", "service", "kind")


def is_news(kind: str, data: dict[str, Any]) -> bool:
    if kind in ("created", "resolved", "cancelled"):
        return True
    if kind == "corrected":
        return any(name in CORRECTED_NEWS for name in data.get("changed") or {})
    if kind != "updated":
        return False
    if (data.get("text") or "").strip():
        return True  # the update's own words travel to residents too («Замінено 12 м трубопроводу…»)
    old, new = instant(data.get("old_expected_end")), instant(data.get("new_expected_end"))
    if new is None:
        return False
    return old is None or abs(new - old) >= MOVE_THRESHOLD


def quiet_hours(settings: Settings) -> tuple[time, time] | None:
    """The residents' quiet hours (city time); built once per loaded settings."""
    return settings.built(_quiet_hours)


def _quiet_hours(settings: Settings) -> tuple[time, time] | None:
    raw = str(settings.data.get("quiet_hours") or "").strip()
    if not raw:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in raw.split("-"))
    except ValueError:
        raise SettingsError(f"OUTAGES_QUIET_HOURS: expected HH:MM-HH:MM, got {raw!r}") from None
    return start, end


def not_before(kind: Kind, now: datetime, tz: ZoneInfo, quiet: tuple[time, time] | None) -> datetime:
    """When a message about a record of this kind may go: now, or for planned works in quiet hours, the end of
    them (city time, so a DST night is no different)."""
    if kind is Kind.EMERGENCY or quiet is None:
        return now
    start, end = quiet
    local = now.astimezone(tz)
    clock = local.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return now
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz)
