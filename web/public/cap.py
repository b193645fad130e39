"""CAP 1.2 alerts: /cap/<message-id>.xml, one message per public change of a record, and /cap/index.atom.

Message types (OASIS CAP 1.2, 3.2.1):
- the record's first change (created) is an `Alert`;
- every later change (update, correction, resolution) is an `Update` whose `references` lists all the record's
  earlier messages as `sender,identifier,sent`, and whose `incidents` names the record, so an aggregator can
  thread them;
- a resolution is an `Update` with `responseType AllClear` and `urgency Past`: the spec reserves `Cancel` for
  withdrawing messages that were issued in error, while here the situation really happened and is now over;
- a false alarm cancelled by the contact centre (issue 19) is exactly that: a `Cancel` whose `references` name
  every earlier message of the record, `certainty Unlikely`, `responseType AllClear`.
Only `status Actual` and `scope Public` are issued. Each message has a Ukrainian (uk-UA) and an English (en-US)
info block; the utility's own text is Ukrainian in both. Times carry the city's offset, never `Z`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import Blueprint, Response, abort
from lxml import etree

from outages.records.model import Kind
from outages.records.views import EventView, get_record, history
from outages.times import fmt
from web import hub
from web.links import absolute, authority
from web.public.changes import (
    PUBLIC_KINDS,
    Change,
    area,
    change_label,
    facts,
    new_expected_end,
    published_times,
    safe_text,
    said,
    states,
)
from web.public.feeds import EPOCH, requested_changes

bp = Blueprint("cap", __name__)

NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM = "http://www.w3.org/2005/Atom"
MIMETYPE = "application/cap+xml"
_MESSAGE_ID = re.compile(r"^outage-(\d{1,9})-(\d{1,12})$")
# How long an all-clear stays on aggregators' maps.
ALL_CLEAR_FOR = timedelta(days=1)


def message_id(event: EventView) -> str:
    """The CAP identifier of the message announcing this event: no spaces, commas, `<` or `&` (CAP 3.2.1)."""
    return f"outage-{event.record_number}-{event.id}"


@bp.get("/cap/<message>.xml")
def message(message: str) -> Response:
    match = _MESSAGE_ID.match(message)
    if not match:
        abort(404)
    number, event_id = int(match[1]), int(match[2])
    app = hub()
    with app.engine.connect() as conn:
        record = get_record(conn, number, app.now())
        events = [e for e in history(conn, number) if e.kind in PUBLIC_KINDS] if record else []
    for index, ((event, state), at) in enumerate(zip(states(record, events), published_times(events))
                                                 if record else []):
        if event.id == event_id:
            change = Change(event=event, state=state, earlier=tuple(events[:index]), at=at)
            return Response(alert_xml(change), mimetype=MIMETYPE)
    abort(404)


@bp.get("/cap/index.atom")
def index() -> Response:
    latest, recent, args = requested_changes()
    return Response(index_xml(recent, latest, args), mimetype="application/atom+xml")


def index_xml(recent: list[Change], latest: datetime | None, args: dict[str, str]) -> bytes:
    """The Atom index of CAP messages, newest first.

    Written with lxml rather than feedgen: feedgen 1.0 drops the `rel` and `type` of entry links, and the
    `type="application/cap+xml"` link is what CAP aggregators look for.
    """
    settings = hub().settings
    tz = settings.tz
    city = safe_text(settings.city_name)
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "uk")
    _atom(feed, "id", absolute("/cap/index.atom", args))
    _atom(feed, "title", f"{city}: CAP-повідомлення про аварії та планові роботи")
    _atom(feed, "subtitle", "Common Alerting Protocol 1.2: одне повідомлення на кожну зміну запису / "
                            "one message per change of a record")
    _atom(feed, "updated", cap_time(recent[0].at if recent else latest or EPOCH, tz))
    _atom(_atom(feed, "author"), "name", f"{city} — Контакт-центр")
    _atom(feed, "link", rel="self", type="application/atom+xml", href=absolute("/cap/index.atom", args))
    _atom(feed, "link", rel="alternate", type="text/html", href=absolute("/", args))
    for change in recent:
        url = absolute(f"/cap/{message_id(change.event)}.xml")
        entry = _atom(feed, "entry")
        _atom(entry, "id", url)
        _atom(entry, "title", _headline(change, english=False))
        _atom(entry, "updated", cap_time(change.at, tz))
        _atom(entry, "link", rel="alternate", type=MIMETYPE, href=url)
        _atom(entry, "link", rel="related", type="text/html", href=absolute(f"/outages/{change.number}"))
        _atom(entry, "summary", area(change.state))
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _atom(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{name}", attrs)
    if text is not None:
        element.text = safe_text(text)
    return element


def alert_xml(change: Change) -> bytes:
    """The CAP 1.2 message for one change; lxml escapes the text, the element order follows the schema."""
    tz = hub().settings.tz
    sender = authority()
    alert = etree.Element(f"{{{NS}}}alert", nsmap={None: NS})
    _add(alert, "identifier", message_id(change.event))
    _add(alert, "sender", sender)
    _add(alert, "sent", cap_time(change.at, tz))
    _add(alert, "status", "Actual")
    _add(alert, "msgType", _msg_type(change))
    _add(alert, "scope", "Public")
    if change.earlier:
        stamps = published_times(change.earlier)
        _add(alert, "references", " ".join(f"{sender},{message_id(e)},{cap_time(at, tz)}"
                                           for e, at in zip(change.earlier, stamps)))
    _add(alert, "incidents", f"outage-{change.number}")
    _info(alert, change, english=False)
    _info(alert, change, english=True)
    return etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _msg_type(change: Change) -> str:
    if change.event.kind == "cancelled":
        return "Cancel"
    return "Update" if change.earlier else "Alert"


def cap_time(moment: datetime, tz) -> str:  # noqa: ANN001
    """CAP dateTime: seconds, the city's offset (`2026-11-22T14:05:00+02:00`)."""
    return moment.astimezone(tz).replace(microsecond=0).isoformat()


def _info(alert: etree._Element, change: Change, *, english: bool) -> None:
    settings = hub().settings
    tz = settings.tz
    state = change.state
    sent = change.at
    resolved = state.status in ("resolved", "cancelled")  # it is over: clear it from the maps
    info = _add(alert, "info")
    _add(info, "language", "en-US" if english else "uk-UA")
    _add(info, "category", "Infra")
    _add(info, "event", _event_name(change, english))
    if resolved:
        _add(info, "responseType", "AllClear")
    urgency, severity, certainty = _assessment(change)
    _add(info, "urgency", urgency)
    _add(info, "severity", severity)
    _add(info, "certainty", certainty)
    _add(info, "onset", cap_time(state.event_at, tz))
    if resolved:
        _add(info, "expires", cap_time(sent + ALL_CLEAR_FOR, tz))
    elif state.kind is Kind.PLANNED and state.expected_end is not None and state.expected_end > sent:
        # Planned works end at their stated end (outages.records.state: ended). An emergency's term is not its end:
        # past it the record is overdue, still on, so its alert stands until the AllClear.
        _add(info, "expires", cap_time(state.expected_end, tz))
    _add(info, "senderName", f"{safe_text(state.executor)} · {safe_text(settings.city_name)}".strip(" ·"))
    _add(info, "headline", _headline(change, english))
    _add(info, "description", _description(change, english))
    _add(info, "web", absolute(f"/outages/{state.number}"))
    where = _add(info, "area")
    _add(where, "areaDesc", area(state) or safe_text(settings.city_name))


def _assessment(change: Change) -> tuple[str, str, str]:
    """(urgency, severity, certainty) per CAP 3.2.2."""
    state = change.state
    if state.status == "cancelled":
        return "Past", "Minor", "Unlikely"  # a false alarm: it did not happen
    if state.status == "resolved":
        return "Past", "Minor", "Observed"
    if state.kind is Kind.EMERGENCY:
        return "Immediate", "Moderate", "Observed"
    if state.event_at > change.at:  # works announced ahead of their start
        return "Future", "Minor", "Likely"
    return "Expected", "Minor", "Observed"


def _event_name(change: Change, english: bool) -> str:
    settings = hub().settings
    state = change.state
    service = safe_text(settings.services.english(state.service) if english else state.service)
    if english:
        return f"{'Emergency' if state.kind is Kind.EMERGENCY else 'Planned works'}: {service}"
    return f"{state.kind.uk}: {service}"


def _headline(change: Change, english: bool) -> str:
    # CAP 3.2.2: SHOULD be under 160 characters (it ends up in SMS-sized displays).
    uk, en = change_label(change)
    text = f"{'No. ' if english else '№'}{change.number} · {en if english else uk}: " \
           f"{said(change) or safe_text(change.state.service)}"
    return text if len(text) <= 160 else text[:159].rstrip() + "…"


def _description(change: Change, english: bool) -> str:
    settings = hub().settings
    lines = []
    moved = new_expected_end(change)
    if moved:
        old, new = (fmt(m, settings.tz) or "—" for m in moved)
        lines.append(f"{'Expected end changed' if english else 'Термін змінено'}: {old} → {new}")
    lines += [f"{en if english else uk}: {value}" for uk, en, value in facts(change.state, settings)]
    return "\n".join(lines)


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        element.text = safe_text(text)
    return element
