"""Texts for residents: the channel's post about a record, the short replies under it, and the messages a subscriber
gets. Telegram HTML (only `<`, `>` and `&` need escaping there); every piece of dispatcher text is escaped and cut
to a length, and nothing of the dispatcher's contacts is ever used.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from outages.display import MARKER
from outages.officials.messages import short_time
from outages.records.model import Kind
from outages.records.state import State
from outages.records.views import RecordView
from outages.text import clean, one_line
from outages.times import fmt

# Telegram allows 4096 characters; dispatcher texts are cut well below so a post always fits.
PIECE = 700


def _t(value: object, limit: int = PIECE) -> str:
    return escape(clip_units(clean(value), limit), quote=False)


def units(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (a character outside the basic plane, an emoji, is two)."""
    return len(text.encode("utf-16-le")) // 2


def clip_units(text: str, limit: int) -> str:
    """Cut to `limit` UTF-16 units (with «…»): 2,000 characters of emoji are 4,000 units, and Telegram refused
    the post that held them."""
    if units(text) <= limit:
        return text
    kept, used = [], 1  # room for the marker
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            break
        kept.append(char)
    return "".join(kept).rstrip() + MARKER


def record_url(public_url: str, number: int) -> str:
    return f"{public_url.rstrip('/')}/outages/{number}"


def headline(record: RecordView) -> str:
    icon = "🚨" if record.kind is Kind.EMERGENCY else "🛠"
    return f"{icon} <b>{escape(record.kind.uk.capitalize(), quote=False)}</b> · {_t(one_line(record.service), 100)}"


def term_words(record: RecordView, tz: ZoneInfo) -> str:
    """How long something is off, in the words of the record's computed state (outages.records.state)."""
    if record.state is State.OVERDUE:
        return f"термін минув {fmt(record.expected_end, tz)}, новий не повідомлено"
    if record.state is State.ENDED:
        return f"завершено за планом {fmt(record.expected_end, tz)}"
    return f"до {fmt(record.expected_end, tz)}" if record.expected_end else "термін не вказано"


def term(record: RecordView, tz: ZoneInfo) -> str:
    if record.state is State.ENDED:
        return f"✅ Роботи завершено за планом: {fmt(record.expected_end, tz)}"
    if record.state is State.OVERDUE:
        return f"⚠️ Термін ліквідації {fmt(record.expected_end, tz)} минув, новий не повідомлено"
    if record.kind is Kind.PLANNED:
        return f"🗓 Роботи: {fmt(record.event_at, tz)} – {short_time(record.expected_end, tz, record.event_at)}"
    return f"⏱ Термін ліквідації: {fmt(record.expected_end, tz) or '—'}"


def post_text(record: RecordView, tz: ZoneInfo, public_url: str) -> str:
    """The channel's post: always the record's current state (an update edits it to this)."""
    lines = []
    if record.status == "resolved":
        lines.append(f"✅ <b>Ліквідовано</b> {fmt(record.resolved_at, tz)}")
    elif record.status == "cancelled":
        lines.append(cancelled_text(record))
    lines.append(headline(record))
    if record.addresses.strip():
        lines.append(f"📍 {_t(record.addresses, 500)}")
    elif record.districts:  # no «Адреси»: the whole district
        lines.append(f"📍 Увесь район: {_t(', '.join(record.districts), 200)}")
    if record.districts:
        lines.append(f"Район: {_t(', '.join(record.districts), 200)}")
    lines.append("")
    lines.append(_t(record.summary))
    if record.impact.strip():
        lines.append(f"Наслідки: {_t(record.impact)}")
    if record.status == "active":
        lines.append(term(record, tz))
    lines.append(f"Виконавець: {_t(one_line(record.executor), 200)}")
    lines.append(f'<a href="{escape(record_url(public_url, record.number))}">Запис №{record.number}</a>')
    return "\n".join(lines).strip()


def moved_text(record: RecordView, tz: ZoneInfo, old: datetime | None, new: datetime | None) -> str:
    what = "Завершення робіт" if record.kind is Kind.PLANNED else "Термін ліквідації"
    return (f"⏱ {what} перенесено: {short_time(old, tz, new)} → {short_time(new, tz, old)}"
            f" ({fmt(new, tz)})")


def said_text(said: str) -> str:
    """An update's or resolution's own words, as a line of a post, reply or message."""
    return f"💬 {_t(said)}"


def cancelled_text(record: RecordView) -> str:
    """A false alarm withdrawn by the contact centre, with its reason."""
    reason = _t(record.status_reason, 300) if record.status_reason.strip() else ""
    return "❌ <b>Скасовано</b>" + (f": {reason}" if reason else "")


def resolved_text(record: RecordView, tz: ZoneInfo) -> str:
    return f"✅ Ліквідовано о {short_time(record.resolved_at, tz, record.event_at)}"


def subscriber_text(kind: str, record: RecordView, tz: ZoneInfo, public_url: str, address: str,
                    old: datetime | None = None, said: str = "") -> str:
    """A subscriber's message (Telegram HTML): which of their addresses, what happened, the record's state."""
    opening = {
        "created": "Новий запис за вашою адресою",
        "updated": "Оновлення за вашою адресою",
        "resolved": "Ліквідовано за вашою адресою",
        "cancelled": "СКАСОВАНО: помилковий запис за вашою адресою",
        "corrected": "Контакт-центр виправив запис за вашою адресою",
        "planned_eve": "Завтра планові роботи за вашою адресою",
    }[kind]
    lines = [f"<b>{opening}</b> «{_t(address, 200)}»", ""]
    if kind == "updated" and old != record.expected_end:
        lines.append(moved_text(record, tz, old, record.expected_end))
    if said:
        lines.append(said_text(said))
    lines.append(post_text(record, tz, public_url))
    return "\n".join(lines)


def subject(kind: str, record: RecordView, address: str) -> str:
    what = {"created": "Новий запис", "updated": "Оновлення", "resolved": "Ліквідовано", "cancelled": "СКАСОВАНО",
            "corrected": "Виправлено",
            "planned_eve": "Завтра планові роботи"}[kind]
    return one_line(f"{what}: {record.kind.uk}, {record.service} — {address}")[:200]
