"""What everyone reads of residents' reports (seed 002: the public page): `/reports`, moderated reports only,
newest first, paged (`?page=N`), filtered by service (`?service=<code>`) and status (`?status=open|closed`);
`/reports/<id>`, one of them. Through outages.reports.public, which never reads a name, e-mail, phone or chat.

Not in the response cache (web/formats.py lists no `reports` blueprint): a page is one indexed SQL slice."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, request

from outages.reports import public
from outages.reports.store import CLOSED, OPEN
from web import hub
from web.reports.words import options, page

bp = Blueprint("listing", __name__)

PER_PAGE = 20
STATUSES = {OPEN: "Відкриті", CLOSED: "Закриті"}
MAX_ID = 2**31 - 1


@bp.get("/reports")
def index() -> Any:
    known = options()
    service = request.args.get("service", "")
    service = service if known.service(service) else ""
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    number = request.args.get("page", "1")
    number = int(number) if number.isdigit() and 0 < len(number) < 6 else 1
    query = public.Query(status=status, service_codes=(service,) if service else ())
    with hub().engine.connect() as conn:
        total, shown = public.page(conn, known, query, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    if number > pages and total:
        abort(404)
    args = {k: v for k, v in (("service", service), ("status", status)) if v}

    def at(n: int) -> str:
        return "/reports?" + urlencode({**args, "page": str(n)}) if n > 1 else "/reports" + (
            "?" + urlencode(args) if args else "")

    return page("list", reports=shown, total=total, number=number, pages=pages, at=at, service=service,
                status=status, services=known.services, statuses=STATUSES)


@bp.get("/reports/<int:report_id>")
def one(report_id: int) -> Any:
    if report_id > MAX_ID:
        abort(404)
    with hub().engine.connect() as conn:
        report = public.one(conn, options(), report_id)
    if report is None:
        abort(404)
    return page("one", report=report)
