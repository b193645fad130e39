"""Messages from named templates: `<kind>.subject.txt`, `<kind>.txt` and `<kind>.html` in templates/, Ukrainian.

Dispatcher text reaches a message only through these templates: escaped in HTML, never in a header (subjects are
folded to one line), never an attachment (the transport hands yagmail finished text, not paths).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from outages.display import clip, current_cap, shorten_all
from outages.officials.directory import ROLE_UK, Recipient
from outages.officials.routing import CONTACT_ROLES
from outages.officials.words import reader_day, reader_time, span, tel
from outages.records.model import Kind
from outages.records.views import RecordView
from outages.text import clean, one_line, plural_word

SUBJECT_MAX = 200
KINDS = (
    "created", "edited", "updated", "resolved", "corrected", "cancelled", "breach", "overdue", "planned_reminder",
    "relay_reminder",
    "relay_escalation", "breach_digest", "monthly_report", "reporter_accepted", "reporter_rejected",
    "overdue_reminder", "digest", "rejected_emergency", "report_forward", "report_night", "report_late",
    "report_signal",
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
def environments() -> tuple[Environment, Environment]:
    """The one pair of Jinja environments of every message (text, and HTML escaped), over outages/templates/:
    officials' kinds at the top, residents' under subscriber/."""
    loader = PackageLoader("outages", "templates")
    text = Environment(loader=loader, autoescape=False, undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=True)
    html = Environment(loader=loader, autoescape=select_autoescape(["html"], default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    for env in (text, html):
        env.filters["nl2br"] = _nl2br
        env.filters["clean"] = clean
        env.filters["one_line"] = one_line
        env.filters["plural"] = plural
    return text, html


def plural(count: int, one: str, few: str, many: str) -> str:
    """«1 запис», «2 записи», «5 записів»: Ukrainian plural forms."""
    return f"{count} {plural_word(count, one, few, many)}"


def render(kind: str, context: dict[str, Any], *, limit: int | None = None) -> Rendered:
    """`limit`: settings.display_max_chars; every text in the context (record fields, update texts, changes) is
    shortened to it here, the one place every message passes (the store keeps the full text)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    context = shorten_all(context, limit if limit is not None else current_cap())
    text_env, html_env = environments()
    context = {"hotline": "", "hotline_tel": "", "role": "", **context}  # reports and verdicts name no role
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
    """«20:00» on the reference day, «23.11 20:00» on another day, «23.11.2027 20:00» in another year. Only for a
    time next to another one that already names the day («до завтра 23:00 (було 20:00)»)."""
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    ref = (reference or moment).astimezone(tz)
    if local.date() == ref.date():
        return local.strftime("%H:%M")
    if local.year == ref.year:
        return local.strftime("%d.%m %H:%M")
    return local.strftime("%d.%m.%Y %H:%M")


def place(record: RecordView) -> str:
    """Where, for a subject line: the first of the record's addresses («вул. Соборна, 12, 14»), or «увесь район»
    for a whole-district record (no «Адреси»)."""
    first = one_line(re.split(r"[;\n]", record.addresses.strip(), maxsplit=1)[0]) if record.addresses.strip() else ""
    if not first:
        return "увесь район"
    more = "…" if len(first) > 48 or len(one_line(record.addresses)) > len(first) else ""
    return clip(first, 48).rstrip("…") + more


def record_context(record: RecordView, tz: ZoneInfo, recipient: Recipient | None, public_url: str,
                   city: str, *, now: datetime, hotline: str = "") -> dict[str, Any]:
    """What every message about a record may show, every time named relative to the reader's day (`now`). The
    utility's contact person and phone go to officials only; the reporter's e-mail never does."""
    emergency = record.kind is Kind.EMERGENCY
    today = reader_day(now, tz)
    contact = {}
    if recipient is not None and recipient.role in CONTACT_ROLES:
        phone = one_line(record.contact.get("phone", ""))
        contact = {"name": one_line(record.contact.get("name", "")), "phone": phone, "tel": tel(phone)}
    role = recipient.role if recipient else ""
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
        "place": place(record),
        "summary": record.summary,
        "cause": record.cause,
        "impact": record.impact,
        "event_at": reader_time(record.event_at, tz, today),
        "expected_end": reader_time(record.expected_end, tz, today),
        "end_short": reader_time(record.expected_end, tz, today, "до") if record.expected_end else "—",
        "start_short": reader_time(record.event_at, tz, today, "з") if record.event_at else "—",
        "span": span(record.event_at, record.expected_end, tz, today),
        "recorded_at": reader_time(record.first_recorded_at, tz, today),
        "resolved_at": reader_time(record.resolved_at, tz, today),
        "deadline": record.deadline.describe(),
        "deadline_met": record.deadline.met,
        "contact": contact,
        "hotline": one_line(hotline),
        "hotline_tel": tel(hotline),
        "record_url": f"{public_url}/outages/{record.number}",
        "recipient_name": recipient.name if recipient else "",
        "role": role,
        "role_uk": ROLE_UK.get(role, "") if recipient else "",
        "relay_url": "",
        "relay_state_url": "",
        "told_directly": [],
    }
