"""GET tokens/<token>, GET requests and GET requests/<id>: the moderated reports only (outages/reports/public.py),
as GeoReport v2's service requests. A report's address is the street and house as the hub read them; the
reporter's name, e-mail and phone never leave the store (ReportView does not carry them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, request

from outages.reports.options import report_options
from outages.reports.public import MAX_PAGE, ReportView, one, page
from outages.reports.store import CLOSED, OPEN, by_token
from web import hub
from web.open311.answer import Problem, answer, served
from web.open311.query import read_query

bp = Blueprint("lookup", __name__)


@bp.get("/tokens/<token>.<fmt>")
@served
def token(token: str, fmt: str) -> Response:
    with hub().engine.connect() as conn:
        report = by_token(conn, token) if len(token) <= 64 else None
    if report is None:
        raise Problem(404, "token: такого токена немає.")
    public = report.public and report.status in (OPEN, CLOSED)
    # Until the contact centre accepts the report it has no public id; a rejected one never gets one.
    found = {"service_request_id": str(report.id) if public else None, "token": report.token}
    return answer([found], fmt, root="service_requests", item="request")


@bp.get("/requests.<fmt>")
@served
def requests(fmt: str) -> Response:
    app = hub()
    query = read_query(request.args, app.now(), app.settings.tz)
    views: list[ReportView] = []
    if query is not None:
        with app.engine.connect() as conn:
            _, views = page(conn, report_options(app.settings), query, limit=MAX_PAGE)
    return answer([request_json(v, app.settings.tz) for v in views], fmt, root="service_requests", item="request")


@bp.get("/requests/<sid>.<fmt>")
@served
def single(sid: str, fmt: str) -> Response:
    app = hub()
    view = None
    if sid.isascii() and sid.isdigit() and len(sid) < 10:
        with app.engine.connect() as conn:
            view = one(conn, report_options(app.settings), int(sid))
    if view is None:
        raise Problem(404, f"service_request_id: повідомлення «{sid[:20]}» немає або воно ще не опубліковане.")
    return answer([request_json(view, app.settings.tz)], fmt, root="service_requests", item="request")


def request_json(view: ReportView, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "service_request_id": str(view.id),
        "status": view.status,
        "status_notes": view.note,
        "service_name": view.service_name,
        "service_code": view.service_code,
        "description": view.description,
        "agency_responsible": view.utility,
        "service_notice": "",
        "requested_datetime": _w3c(view.created_at, tz),
        "updated_datetime": _w3c(view.updated_at, tz),
        "address": view.address,
    }


def _w3c(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")
