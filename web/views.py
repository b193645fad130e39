"""What the public pages show: records grouped the way a resident asks («what is broken now, what is coming»),
and a presenter that turns times, kinds and deadlines into words in the reader's language and the city's zone.

Pure functions of records, events and `now`: no Flask, no store, so they are tested at a pinned clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from outages.queries import EventView, RecordView
from outages.record import Deadline, Kind
from outages.times import between, localize, minutes

from .i18n import ago, ahead, gettext

UPCOMING_DAYS = 14
FIXED_HOURS = 24


@dataclass
class Groups:
    emergencies: list[RecordView] = field(default_factory=list)
    ongoing: list[RecordView] = field(default_factory=list)
    upcoming: list[RecordView] = field(default_factory=list)
    fixed: list[RecordView] = field(default_factory=list)

    def sections(self) -> list[tuple[str, str, list[RecordView]]]:
        """(anchor id, Ukrainian heading, records) in the order residents read them."""
        return [
            ("emergencies", "Аварії зараз", self.emergencies),
            ("ongoing", "Планові роботи зараз", self.ongoing),
            ("upcoming", "Планові роботи на 14 днів", self.upcoming),
            ("fixed", "Усунено за добу", self.fixed),
        ]

    def __len__(self) -> int:
        return len(self.emergencies) + len(self.ongoing) + len(self.upcoming) + len(self.fixed)


def group(records: Iterable[RecordView], now: datetime) -> Groups:
    """Active emergencies (newest first), planned works under way, planned works starting within 14 days
    (soonest first), and what was fixed in the last 24 hours (latest first). Planned works further ahead
    and older fixes stay reachable through their record pages and the feeds."""
    out = Groups()
    horizon = timedelta(days=UPCOMING_DAYS)
    for record in records:
        if record.status == "active":
            if record.kind is Kind.EMERGENCY:
                out.emergencies.append(record)
            elif between(record.event_at, now) >= timedelta(0):
                out.ongoing.append(record)
            elif between(now, record.event_at) <= horizon:
                out.upcoming.append(record)
        elif record.resolved_at is not None and timedelta(0) <= between(record.resolved_at, now) <= timedelta(
                hours=FIXED_HOURS):
            out.fixed.append(record)
    out.emergencies.sort(key=lambda r: (r.event_at, r.number), reverse=True)
    out.ongoing.sort(key=lambda r: (r.expected_end or r.event_at, r.number))
    out.upcoming.sort(key=lambda r: (r.event_at, r.number))
    out.fixed.sort(key=lambda r: (r.resolved_at, r.number), reverse=True)
    return out


@dataclass(frozen=True)
class EndChange:
    """One move of the expected end, from an `updated` event."""

    at: datetime
    old: datetime | None
    new: datetime


def end_changes(events: Sequence[EventView]) -> list[EndChange]:
    changes = []
    for event in events:
        if event.kind != "updated" or not event.data.get("new_expected_end"):
            continue
        old = event.data.get("old_expected_end")
        changes.append(EndChange(
            at=event.at,
            old=datetime.fromisoformat(old) if old else None,
            new=datetime.fromisoformat(event.data["new_expected_end"]),
        ))
    return changes


_EVENT_WORDS = {
    "created": "створено запис",
    "edited": "виправлено запис",
    "updated": "оновлення",
    "resolved": "усунено (ліквідовано)",
    "breach": "порушено строк внесення",
    "overdue": "минув термін ліквідації",
}

# Fields whose new value a resident may see in the history (never contacts: they are not in events either).
_SHOWN_CHANGES = ("summary", "cause", "impact", "addresses")


_MONTHS_UK = ("січень", "лютий", "березень", "квітень", "травень", "червень", "липень", "серпень", "вересень",
              "жовтень", "листопад", "грудень")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


@dataclass
class Presenter:
    """Words and times for one request: the reader's language, the city's zone, the pinned clock."""

    now: datetime
    tz: ZoneInfo
    lang: str
    services: object = None  # settings.services, for English service names

    def _(self, text: str, **values: object) -> str:
        return gettext(text, self.lang, **values)

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return self._("не вказано")
        return moment.astimezone(self.tz).strftime("%d.%m.%Y %H:%M")

    def iso(self, moment: datetime | None) -> str:
        return moment.astimezone(self.tz).isoformat() if moment else ""

    def relative(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        delta = minutes(between(moment, self.now))
        return ago(delta, self.lang) if delta >= 0 else ahead(-delta, self.lang)

    def service(self, name: str) -> str:
        if self.lang == "en" and self.services is not None:
            return self.services.english(name)
        return name

    def kind(self, kind: Kind) -> str:
        return self._(kind.uk)

    def month(self, moment: datetime) -> str:
        local = moment.astimezone(self.tz)
        names = _MONTHS_UK if self.lang == "uk" else _MONTHS_EN
        return f"{names[local.month - 1]} {local.year}"

    def started_label(self, record: RecordView) -> str:
        return self._("Сталася" if record.kind is Kind.EMERGENCY else "Початок робіт")

    def end_label(self, record: RecordView) -> str:
        return self._("Термін ліквідації" if record.kind is Kind.EMERGENCY else "Завершення робіт")

    def timeliness(self, deadline: Deadline) -> str:
        if self.lang == "uk":
            return deadline.describe()
        if deadline.delay_minutes is not None:
            text = f"reported {round(deadline.delay_minutes)} min after the event"
            return text if deadline.met else text + " — late"
        text = f"reported {deadline.lead_hours or 0:.0f} h before the works start"
        return text if deadline.met else text + " — deadline missed"

    def event(self, event: EventView) -> str:
        """A history line: what happened, with the new expected end or the corrected texts."""
        words = self._(_EVENT_WORDS.get(event.kind, event.kind))
        if event.kind == "updated" and event.data.get("new_expected_end"):
            new = datetime.fromisoformat(event.data["new_expected_end"])
            words += f"; {self._('новий термін')}: {self.when(new)}"
        return words

    def event_details(self, event: EventView) -> list[str]:
        changed = event.data.get("changed") or {}
        return [str(changed[name][1]) for name in _SHOWN_CHANGES
                if name in changed and isinstance(changed[name], list) and len(changed[name]) == 2
                and changed[name][1]]


def month_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, datetime]:
    """Midnights in the city: the first day of last month, of this month, and of next month."""
    local = now.astimezone(tz)
    this = localize(datetime.combine(local.date().replace(day=1), time()), tz)
    last_day_before = (local.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    last = localize(datetime.combine(last_day_before, time()), tz)
    following = (local.date().replace(day=28) + timedelta(days=4)).replace(day=1)
    return last, this, localize(datetime.combine(following, time()), tz)
