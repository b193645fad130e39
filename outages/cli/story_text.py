"""The words of `outages records` and `outages record N` (outages/cli/console.py): the console's data
(outages/console/find.py, outages/console/story.py) as lines for a terminal, times in the city's zone with their day.
Staff-only: the record's contact and officials' addresses are shown; residents only as counts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from outages.cli.words import CHANNEL, EVENT_KIND, FIELD, MESSAGE_KIND, OUTBOX_STATUS, ROLE, STATE, word
from outages.console.find import Found
from outages.console.story import Event, FormRow, Message, Moment, Part, Story, Tally
from outages.display import clip
from outages.records.model import Kind
from outages.records.views import RecordView
from outages.tables import text_table
from outages.times import fmt, instant

KIND = {Kind.EMERGENCY: "аварія", Kind.PLANNED: "планові роботи"}
WIDE = 60  # characters of a long cell (addresses, an error) in a table


def count(n: int) -> str:
    """1 240: thousands apart, as Ukrainian writes them."""
    return f"{n:,}".replace(",", " ")


def _one_line(text: str, width: int) -> str:
    return clip(" ".join(str(text).split()), width)


# ---- outages records ----

def found_lines(found: Found, tz: ZoneInfo, state: str) -> list[str]:
    lines = [found.answer, ""] if found.answer else []
    if not found.records:
        lines.append("записів не знайдено (no records)" + (
            "; завершені, ліквідовані й скасовані: --state all" if state == "live" else ""))
        return lines
    lines.append(text_table(
        ["№", "стан (state)", "тип (kind)", "послуга (service)", "райони (districts)", "адреси (addresses)",
         "термін (until)"],
        [[r.number, STATE.get(r.state.value, r.state.value), KIND[r.kind], r.service, ", ".join(r.districts),
          _one_line(r.addresses, WIDE) or "—", fmt(r.expected_end, tz) or "не вказано"] for r in found.records]))
    summary = f"\nзаписів (records): {count(found.total)}"
    if state == "live":
        summary += " · лише діючі (live only; усі / all: --state all)"
    if found.more:
        summary += (f" · показано (shown) {count(len(found.records))} найновіших, ще (more) {count(found.more)}:"
                    " --limit 0 — усі / all")
    lines.append(summary)
    return lines


# ---- outages record N ----

def story_lines(story: Story, tz: ZoneInfo) -> list[str]:
    lines = _record(story.record, tz)
    lines += ["", "Хронологія / timeline"]
    lines += [f"  {fmt(m.at, tz)}  {_moment(m, tz)}" for m in story.timeline] or ["  —"]
    cut = [f"{name} {count(len(p.items))} найновіших з {count(p.total)}"
           for name, p in (("рядків форми", story.rows), ("подій", story.events), ("дій", story.actions))
           if p.more]
    if cut:
        lines.append("  показано / shown: " + "; ".join(cut))
    lines += ["", *_messages(story.messages, tz)]
    lines += ["", "Мешканцям / residents: " + (_residents(story.residents) or "повідомлень не було (none)")]
    return lines


def _record(r: RecordView, tz: ZoneInfo) -> list[str]:
    state = STATE.get(r.state.value, r.state.value)
    times = [f"подія: {fmt(r.event_at, tz)}", f"термін: {fmt(r.expected_end, tz) or 'не вказано'}"]
    if r.resolved_at:
        times.append(f"ліквідовано: {fmt(r.resolved_at, tz)}")
    times += [f"внесено: {fmt(r.first_recorded_at, tz)}", f"змінено: {fmt(r.last_changed_at, tz)}",
              f"редакція {r.revision}"]
    contact = " · ".join(v for v in (r.contact.get("name"), r.contact.get("phone"), r.contact.get("email")) if v)
    lines = [f"Запис №{r.number} · {KIND[r.kind]} · {state} ({r.state.value})",
             f"{r.executor} · {r.service} · {', '.join(r.districts) or 'район не вказано'}",
             f"Адреси: {r.addresses or '—'}",
             f"Що сталося: {r.summary or '—'}"]
    if r.cause or r.impact:
        lines.append(f"Причина: {r.cause or '—'} · наслідки: {r.impact or '—'}")
    when = " · ".join(times)
    lines += [when[0].upper() + when[1:],
              f"Строк внесення: {r.deadline.describe()}" + ("" if r.deadline.met else " (порушено / breached)"),
              f"Контакт диспетчера (лише для персоналу / staff only): {contact or 'не вказано'}"]
    if r.source == "phone":
        lines.append("Внесено контакт-центром за телефонним дзвінком (phone report) · телефонував (staff only): "
                     + (r.contact.get("caller") or "не вказано"))
    if r.status_reason:
        lines.append(("Причина скасування" if r.status == "cancelled" else "Повідомлення про завершення")
                     + f" (public): {r.status_reason}")
    return lines


def _moment(m: Moment, tz: ZoneInfo) -> str:
    item = m.item
    if isinstance(item, FormRow):
        gone = " (рядка вже немає в таблиці)" if not item.in_sheet else ""
        return f"рядок форми {item.row}{gone}: {item.verdict}"
    if isinstance(item, Event):
        said = _event_details(item, tz)
        return f"подія: {word(EVENT_KIND, item.kind)}" + (f" · {said}" if said else "")
    if isinstance(item, Message):
        if m.what == "relay" and item.confirmation is not None:
            return f"передачу підтвердив(ла) {item.confirmation.recipient} · {word(MESSAGE_KIND, item.kind)}"
        # Who and how it went; the role, the answer and each try are in the messages' section below. The time of
        # delivery only when it is not the minute the message was queued (a mail server down for hours).
        done = fmt(item.sent_at or item.failed_at, tz)
        who = f"{item.recipient_name} <{item.recipient}>" if item.recipient_name else item.recipient
        return (f"{CHANNEL.get(item.channel, item.channel)}: {word(MESSAGE_KIND, item.kind)} → {who}"
                f" · {word(OUTBOX_STATUS, item.status)}" + (f" {done}" if done and done != fmt(m.at, tz) else ""))
    if isinstance(item, Tally):
        return (f"мешканцям ({CHANNEL.get(item.channel, item.channel)}): {count(item.count)}"
                f" {word(OUTBOX_STATUS, item.status)}, до {fmt(item.last_at, tz)}")
    # a person's action (the audit trail)
    reason = f" · «{_one_line(item.reason, WIDE)}»" if item.reason else ""
    return f"дія: {item.action_uk} ({item.action}) · {item.actor}{reason}"


def _event_details(event: Event, tz: ZoneInfo) -> str:
    """What an event's data says, for the kinds this hub writes; other kinds' data as it is, shortened."""
    data: dict[str, Any] = dict(event.data)
    said: list[str] = []
    if "row" in data:
        said.append(f"рядок {data.pop('row')}")
    if data.get("text"):
        said.append(f"«{_one_line(data.pop('text'), WIDE)}»")
    if data.get("new_expected_end"):
        said.append(f"новий термін {_time(data.pop('new_expected_end'), tz)}")
        data.pop("old_expected_end", None)
    changed = data.pop("changed", None)
    if isinstance(changed, dict) and changed:
        said.append("змінено: " + ", ".join(FIELD.get(name, name) for name in changed))
    if event.kind in ("overdue", "ended") and data.get("expected_end"):
        said.append(f"термін був {_time(data.pop('expected_end'), tz)}")
    if event.kind == "breach" and {"met", "delay_minutes", "lead_hours"} >= set(data):
        minutes, hours = data.get("delay_minutes"), data.get("lead_hours")
        said.append(f"внесено через {round(minutes)} хв після події" if minutes is not None
                    else f"за {round(hours or 0)} год до початку")
        data = {}
    for name in ("reason", "actor", "source", "caller"):  # what a correction or a cancellation may carry
        if data.get(name):
            said.append(f"{name}: {_one_line(data.pop(name), WIDE)}")
    rest = {k: v for k, v in data.items() if v not in (None, "", [], {})}
    if rest:
        said.append(_one_line(json.dumps(rest, ensure_ascii=False, default=str), WIDE))
    return " · ".join(said)


def _time(value: Any, tz: ZoneInfo) -> str:
    moment = instant(value)
    return fmt(moment, tz) if isinstance(moment, datetime) and moment.tzinfo else str(value)


def _to(message: Message) -> str:
    who = f"{message.recipient_name} <{message.recipient}>" if message.recipient_name else message.recipient
    role = ROLE.get(message.role, message.role)
    return f"{who} ({role})" if role and message.role not in ("channel", "webhook") else who


def _messages(messages: Part[Message], tz: ZoneInfo) -> list[str]:
    """Two lines a message (a terminal over SSH is narrow), and every try of those that did not simply go at the
    first one: where delivery went wrong."""
    head = f"Повідомлення посадовцям, у канал і вебхуки / officials, channel, webhooks: {count(messages.total)}"
    if messages.more:
        head += f" (показано {count(len(messages.items))} найновіших / the newest shown)"
    lines = [head]
    for m in messages.items:
        done = m.sent_at or m.failed_at
        state = [word(OUTBOX_STATUS, m.status) + (f" {fmt(done, tz)}" if done else ""), f"спроб {m.attempts}"]
        if m.relay:
            state.append(f"передачу підтверджено {fmt(m.confirmation.confirmed_at, tz)}" if m.confirmation
                         else "передачу не підтверджено")
        if m.last_error or m.last_answer:
            state.append(_one_line(m.last_error or m.last_answer or "", WIDE))
        lines += [f"  #{m.id} {CHANNEL.get(m.channel, m.channel)} · {word(MESSAGE_KIND, m.kind)} · {_to(m)}",
                  f"      {' · '.join(state)}"]
        if m.status != "sent" or len(m.tries) > 1:
            lines += [f"      спроба {fmt(a.started_at, tz)} · {a.result} · {a.worker}"
                      + (f" · {_one_line(a.error or a.answer or '', WIDE)}" if (a.error or a.answer) else "")
                      for a in m.tries]
    return lines


def _residents(tallies: tuple[Tally, ...]) -> str:
    by_channel: dict[str, list[str]] = {}
    for t in tallies:
        by_channel.setdefault(CHANNEL.get(t.channel, t.channel), []).append(
            f"{count(t.count)} {OUTBOX_STATUS.get(t.status, t.status)}")
    return " · ".join(f"{channel}: {', '.join(parts)}" for channel, parts in by_channel.items())
