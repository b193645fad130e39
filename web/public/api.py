"""The JSON API: /api/v1/outages, /api/v1/outages/<number>, and /api/openapi.json describing both.

Records are serialised by `RecordView.public_json` only: the dispatcher's contact never reaches this module's
output. Lists are ordered by record number, newest first, and paged with limit/offset.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from outages.places import index as address_index
from outages.places.search import Filters
from outages.records.views import EventView, RecordView, get_record, history, last_change, page_records
from web import hub
from web.links import absolute
from web.public.cap import message_id
from web.public.changes import PUBLIC_KINDS, safe_text
from web.public.openapi import document

bp = Blueprint("api", __name__)

STATUSES = ("active", "resolved", "cancelled", "all")
KINDS = ("emergency", "planned")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
MAX_OFFSET = 100_000_000  # far beyond any city's records, and within what the database takes as an OFFSET
_TEXT = ("executor", "service", "addresses", "summary", "cause", "impact")
# Fields of a change that the public may see (the event rows also carry the sheet row number).
_PUBLIC_CHANGES = ("executor", "service", "districts", "addresses", "summary", "cause", "impact", "event_at",
                   "expected_end", "kind", "status", "deadline_met")


class BadRequest(Exception):
    def __init__(self, uk: str, en: str) -> None:
        super().__init__(en)
        self.uk, self.en = uk, en


@bp.get("/api/v1/outages")
def outages() -> Response:
    app = hub()
    try:
        status = _choice("status", STATUSES, "all")
        kind = _choice("kind", KINDS, None)
        limit = _int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _int("offset", 0, 0, MAX_OFFSET)
    except BadRequest as exc:
        return error(400, exc.uk, exc.en)
    filters = Filters.from_args(request.args, app.settings)
    with app.engine.connect() as conn:
        total, page = page_records(conn, app.now(), filters.sql_conditions(conn), status=None if status == "all"
                                   else status, kind=kind, limit=limit, offset=offset)
        latest = last_change(conn)
    args = filters.as_args() | {k: v for k, v in (("status", status), ("kind", kind)) if v and v != "all"}
    following = offset + limit < total
    return _json({
        "outages": [outage_json(r) for r in page],
        "total": total, "count": len(page), "limit": limit, "offset": offset,
        "filters": {"district": list(filters.districts), "service": list(filters.services), "q": filters.query,
                    "status": status, "kind": kind},
        "updated_at": latest.astimezone(app.settings.tz).isoformat() if latest else None,
        "links": {
            "self": absolute("/api/v1/outages", args | _paging(limit, offset)),
            "next": absolute("/api/v1/outages", args | _paging(limit, offset + limit)) if following else None,
        },
    })


@bp.get("/api/v1/outages/<number>")
def outage(number: str) -> Response:
    app = hub()
    record = None
    if number.isascii() and number.isdigit() and len(number) < 10:
        with app.engine.connect() as conn:
            record = get_record(conn, int(number), app.now())
            events = history(conn, record.number) if record else []
            parsed = address_index.stored(conn, [record.number])[record.number] if record else []
    if record is None:
        return error(404, f"Запису №{safe_text(number)[:20]} немає", f"No record number {safe_text(number)[:20]}")
    body = outage_json(record)
    body["history"] = [_event_json(e) for e in events if e.kind in PUBLIC_KINDS]
    body["parsed_addresses"] = [{"street": safe_text(i.street), "known": i.known, "whole": i.whole,
                                 "houses": [span.as_json() for span in i.spans]} for i in parsed]
    return _json(body)


@bp.get("/api/openapi.json")
def openapi() -> Response:
    return _json(document())


def outage_json(record: RecordView) -> dict[str, Any]:
    body = record.public_json(hub().settings.tz)
    for name in _TEXT:
        body[name] = safe_text(body[name])
    body["districts"] = [safe_text(d) for d in body["districts"]]
    body["url"] = absolute(f"/outages/{record.number}")
    body["api_url"] = absolute(f"/api/v1/outages/{record.number}")
    return body


def _event_json(event: EventView) -> dict[str, Any]:
    tz = hub().settings.tz
    changed = {}
    for name, pair in (event.data or {}).get("changed", {}).items():
        if name in _PUBLIC_CHANGES and isinstance(pair, list) and len(pair) == 2:
            changed[name] = {"old": _value(name, pair[0], tz), "new": _value(name, pair[1], tz)}
    return {
        "id": event.id, "kind": event.kind, "at": event.at.astimezone(tz).isoformat(), "revision": event.revision,
        "changed": changed, "cap_url": absolute(f"/cap/{message_id(event)}.xml"),
    }


def _value(name: str, value: Any, tz) -> Any:  # noqa: ANN001
    if value is None:
        return None
    if name in ("event_at", "expected_end"):
        try:
            return datetime.fromisoformat(value).astimezone(tz).isoformat()
        except (TypeError, ValueError):
            return None
    if name == "districts":
        return [safe_text(d) for d in value] if isinstance(value, list) else []
    if name == "deadline_met":
        return bool(value)
    return safe_text(value)


def _choice(name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    value = request.args.get(name, "").strip().lower()
    if not value:
        return default
    if value not in allowed:
        shown = safe_text(value)[:40]
        raise BadRequest(f"Параметр {name}: «{shown}» — можливі значення: {', '.join(allowed)}",
                         f"{name}: {shown!r} is not one of {', '.join(allowed)}")
    return value


def _int(name: str, default: int, low: int, high: int | None) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < low or (high is not None and int(raw) > high):
        span = f"{low}…{high}" if high is not None else f"≥ {low}"
        shown = safe_text(raw)[:40]
        raise BadRequest(f"Параметр {name}: «{shown}» — потрібне ціле число {span}",
                         f"{name}: {shown!r} must be a whole number {span}")
    return int(raw)


def _paging(limit: int, offset: int) -> dict[str, str]:
    out = {"limit": str(limit)} if limit != DEFAULT_LIMIT else {}
    return out | ({"offset": str(offset)} if offset else {})


def error(status: int, uk: str, en: str) -> Response:
    return _json({"error": {"status": status, "message": uk, "message_en": en}}, status)


def _json(body: Any, status: int = 200) -> Response:
    # Serialised here, not by Flask's provider: fixed key order and UTF-8 text make the bytes (and the ETag)
    # depend on the data alone.
    response = Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status,
                        mimetype="application/json")
    # Open data: city apps and bots may read it from any origin.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response

