"""Messages from named templates: `<kind>.subject.txt`, `<kind>.txt` and `<kind>.html` in templates/, Ukrainian.

Dispatcher text reaches a message only through these templates: escaped in HTML, never in a header (subjects are
folded to one line), never an attachment (the transport hands yagmail finished text, not paths).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from ..queries import RecordView
from ..record import Kind
from ..text import clean, one_line
from ..times import fmt
from .directory import ROLE_UK, Recipient
from .routing import CONTACT_ROLES

SUBJECT_MAX = 200
KINDS = (
    "created", "edited", "updated", "resolved", "breach", "overdue", "planned_reminder", "relay_reminder",
    "relay_escalation", "breach_digest", "monthly_report", "reporter_accepted", "reporter_rejected",
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _nl2br(value: Any) -> Markup:
    lines = clean(value).split("\n")
    return Markup("<br>").join(escape(line) for line in lines)


@lru_cache(maxsize=None)
def _environments() -> tuple[Environment, Environment]:
    loader = PackageLoader("outages.notify", "templates")
    text = Environment(loader=loader, autoescape=False, undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=True)
    html = Environment(loader=loader, autoescape=select_autoescape(["html"], default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    for env in (text, html):
        env.filters["nl2br"] = _nl2br
        env.filters["clean"] = clean
        env.filters["one_line"] = one_line
    return text, html


def render(kind: str, context: dict[str, Any]) -> Rendered:
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    text_env, html_env = _environments()
    subject = one_line(text_env.get_template(f"{kind}.subject.txt").render(context))
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    text = text_env.get_template(f"{kind}.txt").render(context).strip() + "\n"
    html = html_env.get_template(f"{kind}.html").render(context)
    # yagmail turns every newline of an HTML part into <br>: the template's own line breaks must not count.
    html = " ".join(line.strip() for line in html.splitlines() if line.strip())
    return Rendered(subject=_encodable(subject), text=_encodable(text), html=_encodable(html))


def _encodable(text: str) -> str:
    # A lone surrogate (it can arrive through JSON from a sheet) cannot be encoded as UTF-8 and would make the
    # message unsendable forever: replace it now, when the message is made.
    return text.encode("utf-8", "replace").decode("utf-8")


def message_id(domain: str, *parts: Any, recipient: str) -> str:
    """Deterministic: the same change to the same recipient always has the same Message-ID, so a retry is
    recognisable as the same message, and two updates of one record are not."""
    digest = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:12]
    label = ".".join(str(p).replace(" ", "-") for p in parts)
    return f"<outages.{label}.{digest}@{domain}>"


def short_time(moment: datetime | None, tz: ZoneInfo, reference: datetime | None = None) -> str:
    """«20:00» on the reference day, «23.11 20:00» on another day, «23.11.2027 20:00» in another year."""
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    ref = (reference or moment).astimezone(tz)
    if local.date() == ref.date():
        return local.strftime("%H:%M")
    if local.year == ref.year:
        return local.strftime("%d.%m %H:%M")
    return local.strftime("%d.%m.%Y %H:%M")


def record_context(record: RecordView, tz: ZoneInfo, recipient: Recipient | None, public_url: str,
                   city: str) -> dict[str, Any]:
    """What every message about a record may show. The utility's contact person and phone go to officials only;
    the reporter's e-mail never does."""
    emergency = record.kind is Kind.EMERGENCY
    contact = {}
    if recipient is not None and recipient.role in CONTACT_ROLES:
        contact = {"name": one_line(record.contact.get("name", "")), "phone": one_line(record.contact.get("phone", ""))}
    return {
        "city": city,
        "number": record.number,
        "emergency": emergency,
        "kind_uk": record.kind.uk,
        "tag": "АВАРІЯ" if emergency else "ПЛАНОВІ РОБОТИ",
        "status": record.status,
        "executor": one_line(record.executor),
        "service": one_line(record.service),
        "districts": ", ".join(record.districts),
        "addresses": record.addresses,
        "summary": record.summary,
        "cause": record.cause,
        "impact": record.impact,
        "event_at": fmt(record.event_at, tz),
        "expected_end": fmt(record.expected_end, tz),
        "end_short": short_time(record.expected_end, tz, record.event_at),
        # Planned works: the start's date unless they start on the day they were entered.
        "start_short": short_time(record.event_at, tz, record.first_recorded_at),
        "recorded_at": fmt(record.first_recorded_at, tz),
        "resolved_at": fmt(record.resolved_at, tz),
        "deadline": record.deadline.describe(),
        "deadline_met": record.deadline.met,
        "contact": contact,
        "record_url": f"{public_url}/outages/{record.number}",
        "recipient_name": recipient.name if recipient else "",
        "role_uk": ROLE_UK.get(recipient.role, "") if recipient else "",
        "relay_url": "",
        "relay_state_url": "",
    }
