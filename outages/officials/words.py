"""Times as the reader says them: relative to the reader's day in the city's zone.

A mail read the next morning must not say «термін 20:00 минув» about yesterday evening: every time in a subject
or body names its day — «сьогодні до 20:00», «завтра з 09:00», «вчора о 20:00», otherwise «30.11 о 20:00» (and the
year when it is not the reader's year). The reader's day is the day the message is made (messages are rendered
when queued; a digest when it is sent).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_DAY_WORDS = {0: "сьогодні", 1: "завтра", -1: "вчора"}


def _at(hour: int) -> str:
    # «об одинадцятій»: Ukrainian takes «об» before a vowel.
    return "об" if hour == 11 else "о"


def day_word(moment: datetime, tz: ZoneInfo, today: date) -> str:
    """«сьогодні», «завтра», «вчора», «30.11» or «30.11.2027», by the calendar day in the city's zone."""
    day = moment.astimezone(tz).date()
    word = _DAY_WORDS.get((day - today).days)
    if word:
        return word
    return day.strftime("%d.%m") if day.year == today.year else day.strftime("%d.%m.%Y")


def reader_time(moment: datetime | None, tz: ZoneInfo, today: date, prep: str = "") -> str:
    """«сьогодні о 20:00», with a preposition «сьогодні до 20:00» / «завтра з 09:00» / «30.11 до 20:00»;
    empty for no time (templates say «не вказано»)."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    return f"{day_word(local, tz, today)} {prep or _at(local.hour)} {local:%H:%M}"


def span(start: datetime | None, end: datetime | None, tz: ZoneInfo, today: date) -> str:
    """Works from start to end: «завтра з 09:00 до 17:00» on one day, «30.11 з 09:00, 02.12 до 17:00» across
    days."""
    if start is None:
        return reader_time(end, tz, today, "до")
    if end is None:
        return reader_time(start, tz, today, "з")
    if start.astimezone(tz).date() == end.astimezone(tz).date():
        return f"{reader_time(start, tz, today, 'з')} до {end.astimezone(tz):%H:%M}"
    return f"{reader_time(start, tz, today, 'з')}, {reader_time(end, tz, today, 'до')}"


def reader_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def day_before(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date() - timedelta(days=1)


def tel(phone: str) -> str:
    """A `tel:` URI for a phone as dispatchers type it («0512 47-11-02» → tel:0512471102); empty when there are no
    digits to dial."""
    text = phone.strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    return "tel:" + ("+" if text.startswith("+") else "") + digits
