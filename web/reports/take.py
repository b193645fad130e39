"""The utility's «Прийнято в роботу» link from its mail (seed 000 §5; outages/reports/forward.py):
`GET /reports/take/<signed>` shows the report, the reporter's contact included (it is for the utility), and a
button — a mail scanner's GET changes nothing; `POST` stamps it taken once and writes an audit row (`report_take`,
actor «utility:<the service's utility>»); a second press says when it was taken. A forged link is a 404."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request

from outages.console import audit
from outages.officials.options import mail_options
from outages.officials.words import tel
from outages.reports import forward
from outages.reports.moderate import report_object
from outages.reports.store import as_json, get
from web import hub
from web.reports.words import options, page, place
from web.subscribe import private

bp = Blueprint("take", __name__)
bp.after_request(private)


@bp.route("/reports/take/<signed>", methods=["GET", "POST"])
def take(signed: str) -> Any:
    h = hub()
    report_id = forward.read_take_token(mail_options(h.settings), signed)
    if report_id is None:
        abort(404)
    stamped = False
    with h.engine.begin() as conn:
        report = get(conn, report_id)
        if report is None:
            abort(404)
        service = options().service(report.service_code)
        if request.method == "POST":
            now = h.now()
            before = as_json(report)
            report, stamped = forward.take(conn, report_id, now)
            if stamped:
                utility = service.utility if service and service.utility else "?"
                audit.write(conn, at=now, actor=f"utility:{utility}", action="report_take",
                            object=report_object(report_id), reason="Прийнято в роботу (посилання з листа)",
                            before=before, after=as_json(report))
    return page("take", report=report, service=service, place=place(report), stamped=stamped,
                tel=tel(report.phone or ""), asked=request.method == "POST")
