"""The resident's door: `/report` (the form; its answer), `/report/status/<token>`, `/report/confirm/<signed>`.

- `GET /report` shows the form (pinned fields: service, address, description, email, name, phone); nothing is
  needed but HTML, so a phone without JavaScript sends it. `POST /report` hands it to outages.reports.intake.submit
  in one transaction and answers: a known record (its number, what, until when, its page, the subscription for the
  house), or the waiting notice with the reporter's own status link. Refused: the form again with each field's
  message beside it, what was typed kept, 400. Too many from this client within the hour: 429 and Retry-After.
  The answer never depends on whether the e-mail typed is known to the hub.
- `GET /report/status/<token>` is the reporter's view of their own report; the token is their key (no-store).
- `GET /report/confirm/<signed>` shows a button and changes nothing (mail scanners fetch links); the button POSTs
  to the same URL, which lets the hub mail the reporter the report's statuses.
Like /subscribe, the form is anonymous (no session, so no CSRF token to steal a session with); the per-client limit
(reports.limit_per_hour, by `request.remote_addr`, which ProxyFix sets behind the city's proxy) bounds abuse.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request

from outages.officials.options import mail_options
from outages.reports import tell
from outages.reports.intake import Intake, Refused, TooMany, submit
from outages.reports.store import PENDING, REJECTED, by_token, get
from web import hub
from web.follow import address_url
from web.reports.words import (
    REJECTED_WHY,
    page,
    place,
    service_groups,
    service_name,
    status_words,
)
from web.subscribe import private  # the headers of every page whose link acts for someone

bp = Blueprint("resident", __name__)
bp.after_request(private)

FIELDS = ("service", "address", "description", "email", "name", "phone")
# The core names fields as Open311 does; the form as the issue pins them.
FORM_FIELD = {"service_code": "service", "address_string": "address", "description": "description",
              "email": "email"}


def _form(values: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return page("form", status, values=values, errors=errors, groups=service_groups())


@bp.get("/report")
def form() -> Any:
    # Filled in, never acted on: a link may name the service and the house («/report?service=water&address=…»).
    values = {name: " ".join(request.args.get(name, "").split())[:300] for name in ("service", "address")}
    return _form(values, {})


@bp.post("/report")
def send() -> Any:
    h = hub()
    values = {name: request.form.get(name, "") for name in FIELDS}
    intake = Intake(service_code=values["service"], address=values["address"], description=values["description"],
                    email=values["email"], name=values["name"], phone=values["phone"], source="web",
                    client=request.remote_addr or "")
    now = h.now()
    try:
        with h.engine.begin() as conn:
            received = submit(conn, h.settings, intake, now)
    except Refused as refused:
        errors = {FORM_FIELD.get(field, field): message for field, message in refused.errors.items()}
        return _form(values, errors, 400)
    except TooMany as many:
        minutes = max(1, -(-many.retry_after // 60))
        body, status = page("limited", 429, minutes=minutes)
        return body, status, {"Retry-After": str(many.retry_after)}
    report = received.report
    # The same page whether the e-mail is new to the hub, known, or confirmed before: only what was typed shows.
    context = {"report": report, "notice": received.notice, "service": received.service,
               "asked_email": bool(report.email), "status_path": f"/report/status/{report.token}"}
    if received.record is not None:
        return page("known", record=received.record, subscribe=address_url(place(report)), **context)
    return page("waiting", **context)


@bp.get("/report/status/<token>")
def status(token: str) -> Any:
    with hub().engine.connect() as conn:
        report = by_token(conn, token[:64])
    if report is None:
        abort(404)
    return page("status", report=report, service=service_name(report.service_code), words=status_words(report),
                pending=report.status == PENDING, rejected=report.status == REJECTED, why=REJECTED_WHY)


@bp.route("/report/confirm/<signed>", methods=["GET", "POST"])
def confirm(signed: str) -> Any:
    h = hub()
    report_id = tell.read_confirm_token(mail_options(h.settings), signed)
    if report_id is None:
        abort(404)
    with h.engine.begin() as conn:
        report = get(conn, report_id)
        if report is None or not report.email:
            abort(404)  # unknown, or its contacts were erased since: nothing left to confirm
        if request.method == "POST":
            now = h.now()
            report, stamped = tell.confirm(conn, report_id, now)
            if stamped and report.status != PENDING:
                # Moderated before the reporter confirmed: they hear the status it has now (once: dedup keys).
                tell.status_changed(conn, h.settings, report, now)
    return page("confirm", report=report, done=report.email_confirmed_at is not None,
                service=service_name(report.service_code))
