"""What the public pages say: a presenter that turns times, kinds and deadlines into words in the reader's
language and the city's zone, and a record's timeline. (Which records each section of `/` holds is an SQL slice:
outages/records/views.py.)

Pure functions of records, events and `now`: no Flask, no store, so they are tested at a pinned clock. Nothing
here counts minutes from `now` («5 хв тому»): a page must be the same on every worker for the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Sequence
from zoneinfo import ZoneInfo

from outages.records.model import Deadline, Kind
from outages.records.views import EventView, RecordView
from outages.times import between, localize, minutes
from web.i18n import ago, ahead, gettext


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
    "corrected": "виправлено контакт-центром",
    "cancelled": "скасовано",
    "breach": "порушено строк внесення",
    "overdue": "минув термін ліквідації",
}

# Fields whose new value a resident may see in the history (never contacts: they are not in events either).
_SHOWN_CHANGES = ("summary", "cause", "impact", "addresses")


_MONTHS_UK = ("січень", "лютий", "березень", "квітень", "травень", "червень", "липень", "серпень", "вересень",
              "жовтень", "листопад", "грудень")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")
_MONTHS_SHORT_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Presenter:
    """Words and times for one request: the reader's language, the city's zone, the pinned clock."""

    now: datetime
    tz: ZoneInfo
    lang: str
    services: object = None  # settings.services, for English service names
    districts: object = None  # settings.districts, for English district names

    def _(self, text: str, **values: object) -> str:
        return gettext(text, self.lang, **values)

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return self._("не вказано")
        local = moment.astimezone(self.tz)
        if self.lang == "en":  # «6 Dec 2026 20:00»: 06.12 reads as the 12th of June to many readers of English
            return f"{local.day} {_MONTHS_SHORT_EN[local.month - 1]} {local.year} {local:%H:%M}"
        return local.strftime("%d.%m.%Y %H:%M")

    def iso(self, moment: datetime | None) -> str:
        # Whole minutes, as shown: the HTML checker takes no more than milliseconds, and the seconds of a
        # form's timestamp tell a reader nothing.
        return moment.astimezone(self.tz).replace(second=0, microsecond=0).isoformat() if moment else ""

    def relative(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        delta = minutes(between(moment, self.now))
        return ago(delta, self.lang) if delta >= 0 else ahead(-delta, self.lang)

    def service(self, name: str) -> str:
        if self.lang == "en" and self.services is not None:
            return self.services.english(name)
        return name

    def district(self, name: str) -> str:
        if self.lang == "en" and self.districts is not None:
            return self.districts.english(name)
        return name

    def district_list(self, names: Sequence[str]) -> str:
        return ", ".join(self.district(n) for n in names)

    def short(self, moment: datetime) -> str:
        """«29.11 о 20:00» («29 Nov at 20:00» in English): a time within the year, for sentences."""
        local = moment.astimezone(self.tz)
        if self.lang == "en":
            return f"{local.day} {_MONTHS_SHORT_EN[local.month - 1]} at {local:%H:%M}"
        return local.strftime("%d.%m") + " о " + local.strftime("%H:%M")

    def overdue(self, record: RecordView) -> str:
        """The expected end passed and nobody said when it will be: the words a resident needs."""
        assert record.expected_end is not None
        if self.lang == "uk":
            return f"термін минув {self.short(record.expected_end)}, новий не повідомлено"
        return f"the expected end passed on {self.short(record.expected_end)}; no new time has been given"

    def ended(self, record: RecordView) -> str:
        """Planned works past their stated end with no update extending them (outages.records.state)."""
        assert record.expected_end is not None
        if self.lang == "uk":
            return f"завершено за планом {self.short(record.expected_end)}"
        return f"ended as planned on {self.short(record.expected_end)}"

    def cancelled(self, record: RecordView) -> str:
        """A false alarm withdrawn by the contact centre, with its reason (the reason is the operator's, public)."""
        when = self.short(record.last_changed_at)
        if self.lang == "uk":
            return f"Скасовано {when}" + (f": {record.status_reason}" if record.status_reason else "")
        return f"Cancelled on {when}" + (f": {record.status_reason}" if record.status_reason else "")

    def whole_district(self, record: RecordView) -> str:
        """A record with no «Адреси»: every house of its districts."""
        names = self.district_list(record.districts)
        return (f"увесь район ({names})" if len(record.districts) == 1 else f"усі будинки районів: {names}") \
            if self.lang == "uk" else f"every house in {names}"

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

    def step(self, step: "Step") -> str:
        """A timeline line's words: the kind of step, a new term, or the overdue sentence."""
        if step.kind == "overdue":
            return self._("термін минув, новий не повідомлено")
        words = self._(_EVENT_WORDS.get(step.kind, step.kind))
        if step.new_end is not None:
            words += f"; {self._('новий термін')}: {self.when(step.new_end)}"
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


def day_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Midnight today and tomorrow in the city (DST-aware)."""
    local = now.astimezone(tz).date()
    return (localize(datetime.combine(local, time()), tz),
            localize(datetime.combine(local + timedelta(days=1), time()), tz))


@dataclass(frozen=True)
class Step:
    """One line of a record's timeline: when, what kind of step, what the utility said, a new term."""

    at: datetime
    kind: str
    text: str = ""
    new_end: datetime | None = None
    details: tuple[str, ...] = ()


def timeline_of(events: Sequence[EventView]) -> list[Step]:
    return timeline(None, events)


def timeline(record: RecordView | None, events: Sequence[EventView]) -> list[Step]:
    """The record's history in time order. The headline is the first summary; each update brings its own text
    (data["text"]; older events carry it as the new summary in "changed") and its own time. "Overdue" is dated when
    the term passed."""
    steps = []
    for event in events:
        data = event.data or {}
        changed = data.get("changed") or {}
        text = data.get("text") or ""
        if not text and event.kind in ("updated", "resolved"):
            pair = changed.get("summary")
            text = pair[1] if isinstance(pair, list) and len(pair) == 2 and pair[1] else ""
        new_end = None
        if event.kind == "updated" and data.get("new_expected_end"):
            new_end = datetime.fromisoformat(data["new_expected_end"])
        details = tuple(str(changed[name][1]) for name in _SHOWN_CHANGES if name != "summary" or event.kind == "edited"
                        if name in changed and isinstance(changed[name], list) and len(changed[name]) == 2
                        and changed[name][1] and str(changed[name][1]) != text)
        at = event.at
        if event.kind == "overdue" and data.get("expected_end"):
            at = datetime.fromisoformat(data["expected_end"])  # events written before the term's own date
        steps.append(Step(at=at, kind=event.kind, text=text, new_end=new_end, details=details))
    order = sorted(range(len(steps)), key=lambda i: (steps[i].at, i))
    return [steps[i] for i in order]
