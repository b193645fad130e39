"""POST requests: a civic app or city system sends a resident's report through the one intake
(outages/reports/intake.py). A report the known records already answer gets its `service_request_id` at once,
with the record's words in `service_notice`; any other waits for the contact centre and gets a `token` that
resolves to an id only once it is accepted (GET tokens/<token>): nothing of it is public before.

Errors: 400 for what the resident should fix, 429 with Retry-After past the rate limit, and 403 for a missing or
wrong `api_key` where `reports.open311_keys` is set — GeoReport v2 names 403 as the answer to an invalid api_key,
and clients tell it apart from a bad field by it."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from outages.reports.intake import Intake, Refused, TooMany, submit
from outages.reports.options import report_options
from web import hub
from web.open311.answer import Problem, answer, served

bp = Blueprint("post", __name__)

FIELDS = ("service_code", "address_string", "description", "email", "first_name", "last_name", "phone")


@bp.post("/requests.<fmt>")
@served
def post_request(fmt: str) -> Response:
    app = hub()
    _check_key(report_options(app.settings).open311_keys)
    given = {field: request.values.get(field, "") for field in FIELDS}
    if not given["address_string"].strip() and (request.values.get("lat") or request.values.get("long")):
        raise Problem(400, "address_string: потрібна адреса — вулиця і номер будинку, наприклад «Соборна 14»: "
                           "повідомлення зіставляються із записами за будинком, координат lat/long хаб не читає.")
    intake = Intake(service_code=given["service_code"], address=given["address_string"],
                    description=given["description"], email=given["email"], phone=given["phone"],
                    name=f"{given['first_name'].strip()} {given['last_name'].strip()}".strip(),
                    source="open311", client=request.remote_addr or "")
    try:
        with app.engine.begin() as conn:
            received = submit(conn, app.settings, intake, app.now())
    except Refused as refused:
        raise Problem(400, *(f"{field}: {text}" for field, text in refused.errors.items())) from None
    except TooMany as many:
        minutes = max(1, -(-many.retry_after // 60))
        raise Problem(429, f"Забагато повідомлень з цієї адреси: спробуйте через {minutes} хв.",
                      headers={"Retry-After": str(many.retry_after)}) from None
    if received.record is not None:
        taken = {"service_request_id": str(received.report.id), "service_notice": received.notice, "account_id": None}
    else:
        taken = {"token": received.report.token, "service_notice": received.notice}
    return answer([taken], fmt, root="service_requests", item="request")


def _check_key(keys: tuple[str, ...]) -> None:
    if not keys:
        return
    given = request.values.get("api_key", "")
    if not any(hmac.compare_digest(given.encode(), key.encode()) for key in keys):
        what = "немає ключа api_key" if not given else "ключ api_key недійсний"
        raise Problem(403, f"api_key: {what}; ключ видає Контакт-центр міста (див. discovery.json).")
