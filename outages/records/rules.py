"""The city's reporting rules (regulation 7.2–7.4) as pure functions of times and a submission.

Nothing here reads a clock or the store: the planner passes in what the rules need, and tests pin it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from outages.records.model import Action, Deadline, Kind, Submission
from outages.records.parse import FORM_FIELD_UK
from outages.records.verdict import TIME_FORMAT, quote, typed_time
from outages.settings import Rules
from outages.times import UTC, between, fmt, hours, minutes


def deadline(kind: Kind, recorded_at: datetime, event_at: datetime, rules: Rules) -> Deadline:
    """Emergency: recorded no later than N minutes after the event. Planned: at least N hours before start."""
    if kind is Kind.EMERGENCY:
        delay = between(event_at, recorded_at)
        return Deadline(
            met=delay <= timedelta(minutes=rules.emergency_max_delay_minutes),
            delay_minutes=minutes(delay),
        )
    lead = between(recorded_at, event_at)
    return Deadline(met=lead >= timedelta(hours=rules.planned_min_lead_hours), lead_hours=hours(lead))


def problems(sub: Submission, rules: Rules, now: datetime | None = None, tz: tzinfo = UTC) -> list[str]:
    """What makes this submission unacceptable on its own (the store adds what needs history).

    `now` is the sync's clock: a stamp later than it (beyond clock skew) is refused. None skips that one test.
    `tz`: the city's zone, for the times quoted in reasons."""
    errors: list[str] = implausible(sub, rules, now, tz)
    if sub.action is Action.NEW or sub.action is None:
        missing = [FORM_FIELD_UK.get(name, name) + (f" ({TIME_FORMAT})" if name in _TIMES else "")
                   for name in rules.required_fields if _empty(getattr(sub, name)) and name not in sub.invalid]
        if missing:
            errors.append("Не заповнено: " + ", ".join(missing))
        if sub.action is Action.NEW and sub.reference is not None:
            errors.append(
                f"Для нового повідомлення номер не вказують (вказано {quote(sub.reference)}): його присвоює хаб."
                " Щоб змінити запис, оберіть дію «Оновлення»"
            )
        errors.extend(_time_order(sub, rules, tz))
    else:
        if sub.reference is None and "reference" not in sub.invalid:
            errors.append(f"Для дії «{sub.action.uk}» вкажіть номер повідомлення, який присвоїв хаб")
        if sub.action is Action.UPDATE and sub.expected_end is None and not (sub.summary or sub.impact or sub.cause):
            errors.append("Оновлення без змін: вкажіть новий термін ліквідації або нову інформацію")
    return errors


def implausible(sub: Submission, rules: Rules, now: datetime | None, tz: tzinfo = UTC) -> list[str]:
    """Times no real submission has: a stamp from the future, an event a month before its entry (a mistyped
    year or month), anything before the city's earliest date. Such rows are refused before they mail anyone."""
    errors: list[str] = []
    skew = timedelta(minutes=rules.clock_skew_minutes)
    if now is not None and sub.recorded_at is not None and between(now, sub.recorded_at) > skew:
        errors.append(f"Позначка часу {_when(sub.recorded_at, tz)} пізніша за поточний час {_when(now, tz)}"
                      f" (допустима розбіжність годинників — {rules.clock_skew_minutes:g} хв):"
                      " такого внесення ще не було")
    earliest = rules.earliest_date
    for name in ("recorded_at", "event_at", "expected_end"):
        value = getattr(sub, name)
        if earliest is not None and value is not None and value < earliest:
            errors.append(f"{FORM_FIELD_UK[name].capitalize()} {_when(value, tz)} раніше за найранішу допустиму дату"
                          f" {_when(earliest, tz)}: перевірте рік")
    if sub.event_at is not None and sub.recorded_at is not None and (earliest is None or sub.event_at >= earliest):
        age = between(sub.event_at, sub.recorded_at)
        if age > timedelta(days=rules.max_event_age_days):
            errors.append(f"Час настання події {_when(sub.event_at, tz)} раніше за час внесення"
                          f" {_when(sub.recorded_at, tz)} на {age.days} дн. — більше за допустимі"
                          f" {rules.max_event_age_days:g} дн.: перевірте дату")
    return errors


def _when(moment: datetime, tz: tzinfo) -> str:
    """«ДД.ММ.РРРР ГГ:ХХ» in the city's zone."""
    return f"«{fmt(moment, tz)}»"


def _time_order(sub: Submission, rules: Rules, tz: tzinfo) -> list[str]:
    errors = []
    skew = timedelta(minutes=rules.clock_skew_minutes)
    if sub.kind is Kind.EMERGENCY and sub.event_at and sub.recorded_at:
        if between(sub.recorded_at, sub.event_at) > skew:
            errors.append(
                f"Час настання аварії ({typed_time(sub.event_at, tz)}) пізніший за час внесення"
                f" ({typed_time(sub.recorded_at, tz)}):"
                f" аварія не може статися в майбутньому — вкажіть час, коли вона сталася, не пізніше"
                f" {typed_time(sub.recorded_at, tz)}"
            )
    if sub.event_at and sub.expected_end and between(sub.event_at, sub.expected_end) < timedelta(0):
        errors.append(
            f"Термін ліквідації ({typed_time(sub.expected_end, tz)}) раніший за час настання події"
            f" ({typed_time(sub.event_at, tz)}):"
            f" вкажіть термін, не раніший за {typed_time(sub.event_at, tz)}"
        )
    return errors


def update_problems(sub: Submission, event_at: datetime, tz: tzinfo) -> list[str]:
    """An update's new expected end must not precede the record's event."""
    if sub.expected_end is not None and between(event_at, sub.expected_end) < timedelta(0):
        event = typed_time(event_at, tz)  # the store hands it back in UTC
        return [f"Новий термін ліквідації ({typed_time(sub.expected_end, tz)}) раніший за час настання події ({event}):"
                f" вкажіть термін, не раніший за {event}"]
    return []


_TIMES = ("recorded_at", "event_at", "expected_end")


def _empty(value: object) -> bool:
    return value is None or value == "" or value == ()
