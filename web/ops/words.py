"""How the console words times and durations (Ukrainian, the city's time)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, tzinfo
from typing import Any

from outages.times import fmt


def duration(delta: timedelta) -> str:
    """«2 дн 3 год», «3 год 20 хв», «45 хв»: the two largest units, rounded down (never more than it was)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} дн {hours} год" if hours else f"{days} дн"
    if hours:
        return f"{hours} год {mins} хв" if mins else f"{hours} год"
    return f"{mins} хв"


def when(moment: datetime | None, tz: tzinfo) -> str:
    return fmt(moment, tz)  # type: ignore[arg-type]


def iso(moment: datetime | None, tz: tzinfo) -> str:
    return "" if moment is None else moment.astimezone(tz).isoformat(timespec="minutes")


def data(value: Any) -> str:
    """An audit row's before or after as people read it: JSON with the letters as they are (the page escapes it)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
