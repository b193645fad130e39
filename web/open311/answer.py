"""Open311's two wire formats and its error list: one shape of data, answered as JSON or as the spec's XML
(`<services><service>…`, `<service_requests><request>…`, `<errors><error><code/><description/></error>`).

Every answer says `Cache-Control: no-cache` (moderation changes what GET requests returns, so a copy kept by a
proxy would show a report after it was closed, or a token without its id), and a GET answer is readable from any
origin: civic apps run in browsers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any

from flask import Response, request
from lxml import etree

from outages.reports.options import report_options
from web import hub

TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The XML element of one item of a list, by the list's element (discovery's endpoints and formats).
ITEMS = {"endpoints": "endpoint", "formats": "format"}


class Problem(Exception):
    """An error answer: the HTTP status and one description per error (each «field: what is wrong»)."""

    def __init__(self, status: int, *descriptions: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__("; ".join(descriptions))
        self.status, self.descriptions, self.headers = status, descriptions, dict(headers or {})


def check_format(fmt: str) -> str:
    if fmt not in TYPES:
        raise Problem(404, f"format: «{fmt[:20]}» не підтримується: додайте до адреси .json або .xml.")
    return fmt


def check_jurisdiction() -> None:
    """A jurisdiction_id other than the city's own is another city's matter (404); none or the city's is fine."""
    given = request.values.get("jurisdiction_id", "").strip()
    own = report_options(hub().settings).jurisdiction
    if given and given != own:
        known = f" Тут лише «{own}»." if own else " Тут лише одна юрисдикція: параметр можна не вказувати."
        raise Problem(404, f"jurisdiction_id: юрисдикції «{given[:60]}» тут немає.{known}")


def answer(data: Any, fmt: str, *, root: str, item: str = "", status: int = 200,
           headers: Mapping[str, str] | None = None) -> Response:
    """`data` (a list of dicts, or one dict for discovery) in `fmt`; `root`/`item` are its XML elements."""
    if fmt == "xml":
        # The declaration as the spec writes it (lxml's own uses single quotes).
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(_xml(root, item, data), encoding="UTF-8")
    else:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    response = Response(body, status=status, content_type=TYPES.get(fmt, TYPES["json"]))
    response.headers["Cache-Control"] = "no-cache"
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.update(dict(headers or {}))
    return response


def problem(error: Problem, fmt: str) -> Response:
    errors = [{"code": error.status, "description": text} for text in error.descriptions]
    return answer(errors, fmt if fmt in TYPES else "json", root="errors", item="error", status=error.status,
                  headers=error.headers)


def served(view: Callable[..., Response]) -> Callable[..., Response]:
    """A view of Open311: its format (`fmt`) and jurisdiction checked first, any Problem answered as the error list
    in the format asked for."""

    @wraps(view)
    def wrapper(*args: Any, fmt: str, **kwargs: Any) -> Response:
        try:
            check_format(fmt)
            check_jurisdiction()
            return view(*args, fmt=fmt, **kwargs)
        except Problem as error:
            return problem(error, fmt)

    return wrapper


def _xml(root: str, item: str, data: Any) -> etree._Element:
    top = etree.Element(root)
    if isinstance(data, Mapping):
        _fill(top, data)
    else:
        for entry in data:
            _fill(etree.SubElement(top, item), entry)
    return top


def _fill(parent: etree._Element, fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        child = etree.SubElement(parent, key)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, Iterable) and not isinstance(value, str):
            for entry in value:
                if isinstance(entry, Mapping):
                    _fill(etree.SubElement(child, ITEMS[key]), entry)
                else:
                    etree.SubElement(child, ITEMS[key]).text = _text(entry)
        elif value is not None:  # None: an empty element, as the spec's examples write a missing value
            child.text = _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
