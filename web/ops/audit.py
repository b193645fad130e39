"""`/ops/audit`: the audit trail, newest first, filtered by record, person (who acted) and day, 50 to a page
(each page starts below the last id of the one before: a range of one index, however long the trail)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from outages.console import audit as trail
from outages.times import TimeError, next_day, parse_day
from web import hub
from web.ops.access import page

bp = Blueprint("audit", __name__)

REASON_UK = {"throttled": "забагато спроб — вхід заблоковано", "unknown_email": "невідомий e-mail",
             "wrong_password": "невірний пароль", "disabled": "працівника вимкнено"}


@bp.get("/audit", endpoint="index")
def index() -> Any:
    h = hub()
    tz = h.settings.tz
    record_text = request.args.get("record", "").strip()
    person = request.args.get("person", "").strip().lower()[:254]
    day_text = request.args.get("day", "").strip()
    errors = []
    record = None
    if record_text:
        if record_text.lstrip("№").isdigit() and len(record_text) < 10:
            record = int(record_text.lstrip("№"))
        else:
            errors.append(f"Номер запису «{record_text[:20]}» — не число.")
    since = until = None
    if day_text:
        try:
            since = parse_day(day_text, tz)
            until = next_day(since, tz)
        except TimeError:
            errors.append(f"День «{day_text[:20]}» не прочитано: напишіть 2026-11-22 або 22.11.2026.")
    before = request.args.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) < 12 else None
    filters = trail.Filters(record=record, actor=person, since=since, until=until)
    with h.engine.connect() as conn:
        entries = trail.page(conn, filters, before_id=before_id, limit=trail.PAGE_SIZE + 1)
    more = len(entries) > trail.PAGE_SIZE
    entries = entries[:trail.PAGE_SIZE]
    query = {k: v for k, v in (("record", record_text), ("person", person), ("day", day_text)) if v}
    return page("audit.html", 422 if errors else 200, title="Журнал дій", entries=entries, errors=errors,
                query=query, reasons=REASON_UK, first_page=before_id is None,
                next_before=entries[-1].id if more and entries else None)
