"""GET requests' filters read into the public Query (outages/reports/public.py): `service_request_id` (a comma
list; it overrides every other filter, as the spec says), `service_code` (a comma list), `start_date`/`end_date`
(W3C date-times; without an offset, city time), `status` (open, closed or both). Without dates the window is the
last 90 days, and it may span no more than 90 days."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from outages.reports.public import Query
from outages.reports.store import CLOSED, OPEN
from web.open311.answer import Problem

WINDOW = timedelta(days=90)
MAX_IDS = 1000


def read_query(args: Mapping[str, str], now: datetime, tz: ZoneInfo) -> Query | None:
    """The query the arguments ask for; None when they ask for ids of which none can exist."""
    if "service_request_id" in args:
        ids = tuple({int(part) for part in _parts(args["service_request_id"])[:MAX_IDS]
                     if part.isascii() and part.isdigit() and len(part) < 10})
        return Query(ids=ids) if ids else None
    statuses = set(_parts(args.get("status", "")))
    if statuses - {OPEN, CLOSED}:
        raise Problem(400, "status: можна open, closed або обидва через кому.")
    start, end = _when(args, "start_date", tz), _when(args, "end_date", tz)
    if start is None and end is None:
        start = now - WINDOW
    elif start is None:
        start = end - WINDOW
    if end is not None:
        if end < start:
            raise Problem(400, "end_date: раніше за start_date.")
        if end - start > WINDOW:
            raise Problem(400, "end_date: проміжок від start_date — не більше 90 днів.")
        end += timedelta(microseconds=1)  # the spec's end_date is the latest time included; Query's end is not
    return Query(status=statuses.pop() if len(statuses) == 1 else "",
                 service_codes=tuple(_parts(args.get("service_code", ""))), start=start, end=end)


def _parts(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _when(args: Mapping[str, str], key: str, tz: ZoneInfo) -> datetime | None:
    value = args.get(key, "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise Problem(400, f"{key}: «{value[:40]}» — не дата W3C, потрібно, наприклад, "
                           "2026-11-22T14:30:00+02:00.") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
