"""GET discovery, GET services and GET a service definition: what the city takes reports of. Every service is
`type` batch (a report is read by the contact centre, not answered in real time) with `metadata` false (no
questions beyond the standard fields), so there is no definition to give: the spec lets that be a 404."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from outages.reports.options import Service, report_options
from web import hub
from web.links import absolute
from web.open311.answer import Problem, answer, served

bp = Blueprint("services", __name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's behaviour last changed (discovery's `changeset`): bump it with any change clients may notice.
CHANGESET = "2026-12-07T00:00:00Z"


@bp.get("/discovery.<fmt>")
@served
def discovery(fmt: str) -> Response:
    settings = hub().settings
    keys = report_options(settings).open311_keys
    hotline = str(settings.data.get("hotline") or "").strip()
    contact = "Контакт-центр міста" + (f": {hotline}" if hotline else "")
    return answer({
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": (f"Ключ API (api_key) для POST requests видає {contact}." if keys
                        else "Ключ API не потрібен."),
        "endpoints": [{"specification": SPECIFICATION, "url": absolute("/open311/v2"), "changeset": CHANGESET,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    }, fmt, root="discovery")


@bp.get("/services.<fmt>")
@served
def services(fmt: str) -> Response:
    listed = [service_json(s) for s in report_options(hub().settings).services]
    return answer(listed, fmt, root="services", item="service")


@bp.get("/services/<code>.<fmt>")
@served
def definition(code: str, fmt: str) -> Response:
    if report_options(hub().settings).service(code) is None:
        raise Problem(404, f"service_code: послуги «{code[:40]}» немає; перелік — у services.json або services.xml.")
    raise Problem(404, f"service_code: послуга «{code}» не має додаткових полів (metadata false): надсилайте "
                       "лише стандартні поля GeoReport v2.")


def service_json(service: Service) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.name + (f" — {service.utility}" if service.utility else ""),
        "metadata": False,
        "type": "batch",
        "keywords": ", ".join(service.keywords),
        "group": service.group,
    }
