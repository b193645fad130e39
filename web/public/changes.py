"""Record changes as the public sees them: the common ground of the RSS/Atom feeds, the CAP alerts and the API.

Every created / edited / updated / resolved event of a record is one public change. Its text must describe the
record as it stood right after that change (an old feed entry must not silently show today's expected end), so
the states are rebuilt by walking back from the current record, undoing each event's `changed` [old, new] pairs.

Breach and overdue events are left out: a breach is about the utility's compliance with the regulation (it is
published on /timeliness), and overdue is the hub's own inference when nobody reported, not news from the
utility; announcing either as an alert or feed entry would read as a change of the situation when nothing
changed on the street.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Connection

from outages.records.history import states
from outages.records.model import RECORD_KINDS, Kind
from outages.records.views import EventView, RecordView, histories
from outages.settings import Settings
from outages.text import clean
from outages.times import fmt

PUBLIC_KINDS = RECORD_KINDS  # every change of a record is public; breach and overdue events are not

# Characters XML 1.0 cannot carry at all, even escaped; `clean` already drops the control characters.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def safe_text(value: object) -> str:
    """Dispatcher text fit for any XML or JSON output (escaping is left to the serialising library)."""
    return "" if value is None else _safe(str(value))


@lru_cache(maxsize=8192)
def _safe(text: str) -> str:
    # A feed of 200 entries cleans the same service, district and utility names thousands of times.
    return clean(_NOT_XML.sub(" ", text))


@dataclass(frozen=True)
class Change:
    event: EventView
    state: RecordView  # the record right after this change
    earlier: tuple[EventView, ...]  # the record's earlier public changes, oldest first
    at: datetime  # when it was published (see `published_times`)

    @property
    def number(self) -> int:
        return self.event.record_number


def published_times(public: list[EventView] | tuple[EventView, ...]) -> list[datetime]:
    """When each change was published: its own time, but never before the record's previous change. A resolution
    is dated when the fix happened, which a dispatcher may report after a later-dated update; an entry or alert
    that seems to come before the one it follows would confuse readers and CAP aggregators."""
    out: list[datetime] = []
    for event in public:
        out.append(max(event.at, out[-1]) if out else event.at)
    return out


def changes(conn: Connection, records: list[RecordView]) -> list[Change]:
    """All public changes of these records, newest first (by the time in the data, then by event order)."""
    events_of = histories(conn, [r.number for r in records], PUBLIC_KINDS)
    out: list[Change] = []
    for record in records:
        public = events_of.get(record.number, [])
        for index, ((event, state), at) in enumerate(zip(states(record, public), published_times(public))):
            out.append(Change(event=event, state=state, earlier=tuple(public[:index]), at=at))
    out.sort(key=lambda c: (c.at, c.event.id), reverse=True)
    return out


# What a change is called, per event kind and record kind: (Ukrainian, English).
def change_label(change: Change) -> tuple[str, str]:
    kind = change.event.kind
    if kind == "created":
        return (change.state.kind.uk, "Emergency" if change.state.kind is Kind.EMERGENCY else "Planned works")
    if kind == "updated":
        return ("Оновлення", "Update")
    if kind == "edited":
        return ("Уточнення", "Correction")
    if kind == "corrected":
        return ("Виправлено контакт-центром", "Corrected by the contact centre")
    if kind == "cancelled":
        return ("Скасовано", "Cancelled")
    if change.state.kind is Kind.PLANNED:
        return ("Роботи завершено", "Works completed")
    return ("Ліквідовано", "Resolved")


def said(change: Change) -> str:
    """What this change says in its own words: an update's or resolution's «Коротка інформація» (the record keeps
    its first summary as the headline), else the headline."""
    data = change.event.data or {}
    text = data.get("text") or data.get("reason") or ""  # the operator's reason for a correction or a cancel
    if not text and change.event.kind in ("updated", "resolved"):
        pair = (data.get("changed") or {}).get("summary")  # events written before updates kept their own text
        text = pair[1] if isinstance(pair, list) and len(pair) == 2 and pair[1] else ""
    return safe_text(text) or safe_text(change.state.summary)


def new_expected_end(change: Change) -> tuple[datetime | None, datetime | None] | None:
    """(old, new) expected end when this change moved it."""
    pair = (change.event.data or {}).get("changed", {}).get("expected_end")
    if not (isinstance(pair, list) and len(pair) == 2):
        return None
    try:
        return tuple(datetime.fromisoformat(v) if v else None for v in pair)  # type: ignore[return-value]
    except (TypeError, ValueError):
        return None


def facts(state: RecordView, settings: Settings) -> list[tuple[str, str, str]]:
    """The record's public facts as (Ukrainian label, English label, value), empty values left out."""
    tz = settings.tz
    planned = state.kind is Kind.PLANNED
    rows = [
        ("Послуга", "Service", state.service),
        ("Райони", "Districts", ", ".join(state.districts)),
        ("Адреси", "Addresses", state.addresses),
        ("Коротко", "Summary", state.summary),
        ("Причина", "Cause", state.cause),
        ("Наслідки для мешканців", "Impact on residents", state.impact),
        ("Початок робіт" if planned else "Час події", "Works start" if planned else "Occurred at",
         fmt(state.event_at, tz)),
        ("Завершення робіт" if planned else "Термін ліквідації", "Works end" if planned else "Expected fix",
         fmt(state.expected_end, tz)),
        ("Завершено" if planned else "Ліквідовано", "Completed" if planned else "Resolved at",
         fmt(state.resolved_at, tz) if state.status == "resolved" else ""),
        ("Виконавець", "Utility", state.executor),
    ]
    return [(uk, en, safe_text(value)) for uk, en, value in rows if safe_text(value)]


def area(state: RecordView) -> str:
    """Where: the districts, then the addresses (CAP areaDesc, iCalendar LOCATION)."""
    districts = safe_text(", ".join(state.districts))
    addresses = safe_text(state.addresses)
    return f"{districts}: {addresses}" if districts and addresses else districts or addresses


def latest_time(records: list[RecordView]) -> datetime | None:
    return max((r.last_changed_at for r in records), default=None)
