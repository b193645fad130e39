"""Times as the sheet gives them, turned into aware datetimes in the city's zone.

Python subtracts two datetimes that share a tzinfo object on their wall clocks, ignoring a DST change between
them; every interval here is therefore computed in UTC (see `between`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from outages.text import one_line

SERIAL_EPOCH = datetime(1899, 12, 30)
UTC = timezone.utc

# Day first, always: 05.11.2026 is 5 November. Dots, slashes or dashes; seconds optional; 2- or 4-digit year.
_DAY_FIRST = re.compile(
    r"^(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4}|\d{2})"
    r"(?:[ ,T]+(?P<H>\d{1,2})[:.](?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?$"
)


_ISO_DAY = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")


class TimeError(ValueError):
    """A value that is not a date and time; the message is for the dispatcher (Ukrainian)."""


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in the city. In the autumn's repeated hour the earlier reading (fold=0) is taken;
    a time inside the spring gap is moved forward by the gap, as a clock would be."""
    aware = naive.replace(tzinfo=tz)
    # A time that does not exist (spring gap) does not survive a round trip through UTC.
    back = aware.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != naive:
        return (aware.astimezone(UTC)).astimezone(tz)
    return aware


def _serial_wall(serial: float) -> datetime:
    naive = SERIAL_EPOCH + timedelta(days=float(serial))
    # Serial fractions carry float noise: round to the second a person typed.
    return (naive + timedelta(microseconds=500_000)).replace(microsecond=0)


def from_serial(serial: float, tz: ZoneInfo) -> datetime:
    """A Sheets serial number (days since 1899-12-30, in the spreadsheet's zone)."""
    return localize(_serial_wall(serial), tz)


def parse_datetime(value: object, tz: ZoneInfo, *, date_only_end: bool = False) -> datetime:
    """Parse a sheet value into an aware time in `tz`. Raises TimeError with a reason a dispatcher understands.

    date_only_end: a date without a time means the end of that day (for «Термін ліквідації»).
    """
    read = _read(value, date_only_end)
    return read.astimezone(tz) if read.tzinfo else localize(read, tz)


def wall_time(value: object, tz: ZoneInfo) -> datetime:
    """The value as a naive wall-clock time in `tz`: cheap, and the same however the sheet wrote it
    (text, serial number, datetime). Raises TimeError like parse_datetime."""
    read = _read(value, True)
    return read.astimezone(tz).replace(tzinfo=None) if read.tzinfo else read


def _read(value: object, date_only_end: bool) -> datetime:
    """A naive wall-clock time, or an aware one when the value carried its own offset."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return _date_only(value, date_only_end)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 1 <= value < 2958466:  # 1900-01-01 … 9999-12-31
            raise TimeError(f"«{value}» не схоже на дату")
        return _serial_wall(value)
    read = _read_text(value if isinstance(value, str) else str(value))
    return _date_only(read, date_only_end) if type(read) is date else read


# A new row's times are read twice (its content hash, then parsing): the second reading is a cache hit.
@lru_cache(maxsize=4096)
def _read_text(value: str) -> datetime | date:
    """A naive wall-clock time, an aware one when the text carried its own offset, or a date without a time."""
    text = one_line(value)  # also what the error message quotes back: no control characters or surrogates
    if not text:
        raise TimeError("порожнє значення")
    match = _DAY_FIRST.match(text)
    if match:
        year = int(match["y"])
        if year < 100:
            year += 2000
        try:
            day = date(year, int(match["m"]), int(match["d"]))
            clock = None if match["H"] is None else time(int(match["H"]), int(match["M"]), int(match["S"] or 0))
        except ValueError:
            raise TimeError(f"«{text}» — такої дати чи часу не існує (формат ДД.ММ.РРРР ГГ:ХХ)") from None
        if clock is None:
            return day
        return datetime.combine(day, clock)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TimeError(f"«{text}» не розпізнано як дату й час (очікується ДД.ММ.РРРР ГГ:ХХ)") from None
    if len(text) <= 10:  # ISO date without a time
        return parsed.date()
    return parsed


def _date_only(day: date, date_only_end: bool) -> datetime:
    if not date_only_end:
        raise TimeError(f"«{day:%d.%m.%Y}» — вказано лише дату, потрібен ще й час: {day:%d.%m.%Y} ГГ:ХХ")
    return datetime.combine(day, time(23, 59))


def instant(value: object) -> datetime | None:
    """A datetime stored as ISO text (in event data), or None when there is none or it does not parse."""
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def stored_utc(value: datetime | str) -> datetime:
    """A stored instant as SQLite (naive UTC text) or PostgreSQL (an aware datetime) gives it, as aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def between(start: datetime, end: datetime) -> timedelta:
    """end − start in real elapsed time, correct across a DST change."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 2)


def hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def parse_day(text: str, tz: ZoneInfo) -> datetime:
    """A report boundary: a day (day-first or ISO) at midnight in the city."""
    text = text.strip()
    match = _DAY_FIRST.match(text)
    iso = _ISO_DAY.match(text)
    if not (match and match["H"] is None) and not iso:
        raise TimeError(f"«{text}» — очікується дата ДД.ММ.РРРР або РРРР-ММ-ДД")
    try:
        if iso:
            day = date(int(iso["y"]), int(iso["m"]), int(iso["d"]))
        else:
            year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
            day = date(year, int(match["m"]), int(match["d"]))
    except ValueError:  # the format is right, the calendar says no: 31.11.2026
        raise TimeError(f"{text}: такої дати немає") from None
    return localize(datetime.combine(day, time()), tz)


def month_start(moment: datetime, tz: ZoneInfo, months: int = 0) -> datetime:
    """Midnight in the city on the first day of the month of `moment`, moved by `months`."""
    local = moment.astimezone(tz)
    index = local.year * 12 + local.month - 1 + months
    return localize(datetime(index // 12, index % 12 + 1, 1), tz)


def fmt(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def fmt_day(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(tz).strftime("%d.%m.%Y")


def next_day(midnight: datetime, tz: ZoneInfo) -> datetime:
    """The next midnight in the city (23 or 25 hours later across a DST change, not always 24)."""
    return localize(datetime.combine(midnight.astimezone(tz).date() + timedelta(days=1), time()), tz)
