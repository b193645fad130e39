"""The bot's /report (issue 20): a resident reports a problem in a few messages, and the report goes through the
same intake as the site's form and Open311 (outages.reports.intake.submit).

`/report` → the services, numbered → the resident writes a number (or the code) → «Адреса (вулиця і будинок)?» →
«Опишіть коротко, що сталося (або /skip)» → the intake's answer: a known record (its number, until when), or the
waiting notice. `/report water Соборна 14 нема води` says it all in one line (code, address, text). A field the
intake refuses is asked again with its message; `/cancel` leaves the conversation.

The conversation is a row of `bot_dialogs` written in the update's transaction (outages/residents/bot.py claims the
update in the same one), so a worker restart resumes it and a replayed update neither moves it twice nor makes a
second report. The reporter's statuses come back to the chat from outages/reports/tell.py (outbox rows, drained by
the residents' lane).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import Connection, delete, select, update

from outages.db import insert_or_skip
from outages.officials.options import mail_options
from outages.places.search import Filters
from outages.reports import tell
from outages.reports.intake import Intake, Refused, TooMany, address_refusal, submit
from outages.reports.options import Service, report_options
from outages.schema import bot_dialogs
from outages.settings import Settings

DIALOG_IDLE = timedelta(hours=1)  # a conversation left this long is forgotten: the next text is an address again
SERVICE, ADDRESS, DESCRIPTION = "service", "address", "description"
STEP_OF_FIELD = {"service_code": SERVICE, "address_string": ADDRESS, "description": DESCRIPTION}
COMMANDS = ("/report", "/cancel", "/skip")

ASK_ADDRESS = "Адреса (вулиця і будинок)?"
ASK_DESCRIPTION = "Опишіть коротко, що сталося (або /skip)"
CANCEL_HINT = "/cancel — скасувати."
CANCELLED = "Повідомлення скасовано. /report — почати знову."
NOTHING = "Зараз ви нічого не повідомляєте. /report — повідомити про проблему."


def in_dialog(conn: Connection, chat_id: str, now: datetime) -> bool:
    return _current(conn, chat_id, now) is not None


def leave(conn: Connection, chat_id: str) -> bool:
    """End the chat's conversation (another command came); whether there was one."""
    return bool(conn.execute(delete(bot_dialogs).where(bot_dialogs.c.chat_id == chat_id)).rowcount)


def answer(conn: Connection, chat_id: str, text: str, settings: Settings, now: datetime) -> str:
    """The bot's answer (Telegram HTML) to /report, /cancel, /skip, or a text in the middle of a report."""
    first, _, rest = text.partition(" ")
    command = first.split("@")[0].lower() if first.startswith("/") else ""
    if command == "/cancel":
        return CANCELLED if leave(conn, chat_id) else NOTHING
    if command == "/report":
        leave(conn, chat_id)
        return _one_line(conn, chat_id, rest.strip(), settings, now) if rest.strip() else \
            _ask(conn, chat_id, SERVICE, now, settings)
    dialog = _current(conn, chat_id, now)
    if dialog is None:
        return NOTHING
    skip = command == "/skip"
    if dialog.step == SERVICE:
        if skip:
            return _ask(conn, chat_id, SERVICE, now, settings, error="Послугу не можна пропустити.")
        return _pick(conn, chat_id, text, settings, now)
    if dialog.step == ADDRESS:
        if skip:
            return _ask(conn, chat_id, ADDRESS, now, settings, service=dialog.service_code,
                        error="Без адреси повідомлення не прийняти.")
        return _address(conn, chat_id, dialog.service_code, text, settings, now)
    return _submit(conn, chat_id, dialog.service_code, dialog.address, "" if skip else text, settings, now)


def _pick(conn: Connection, chat_id: str, text: str, settings: Settings, now: datetime) -> str:
    service = _service(text, settings)
    if service is None:
        return _ask(conn, chat_id, SERVICE, now, settings, error=f"Послуги «{text[:60]}» немає в списку.")
    return _ask(conn, chat_id, ADDRESS, now, settings, service=service.code)


def _address(conn: Connection, chat_id: str, service_code: str, text: str, settings: Settings,
             now: datetime) -> str:
    refusal = address_refusal(conn, settings, text)
    if refusal:
        return _ask(conn, chat_id, ADDRESS, now, settings, service=service_code, error=refusal)
    return _ask(conn, chat_id, DESCRIPTION, now, settings, service=service_code, address=text)


def _one_line(conn: Connection, chat_id: str, rest: str, settings: Settings, now: datetime) -> str:
    """`/report <code> <street> <house> <text>`: the address ends at the first house number that makes one."""
    code, _, said = rest.partition(" ")
    service = _service(code, settings)
    if service is None:
        return _ask(conn, chat_id, SERVICE, now, settings, error=f"Послуги «{code[:60]}» немає в списку.")
    words = said.split()
    if not words:
        return _ask(conn, chat_id, ADDRESS, now, settings, service=service.code)
    for end in range(1, len(words) + 1):
        if not any(c.isdigit() for c in words[end - 1]):
            continue
        address = " ".join(words[:end])
        query = Filters(query=address, streets=settings.streets).address(conn)
        if query is not None and len(query.street_keys) == 1 and query.house is not None:
            return _submit(conn, chat_id, service.code, address, " ".join(words[end:]), settings, now)
    # No house number: what was written is the address (asked again if the intake cannot read it), then the text.
    return _address(conn, chat_id, service.code, said, settings, now)


def _submit(conn: Connection, chat_id: str, service_code: str, address: str, description: str,
            settings: Settings, now: datetime) -> str:
    intake = Intake(service_code=service_code, address=address, description=description, chat_id=chat_id,
                    source="bot", client=f"tg:{chat_id}")
    try:
        received = submit(conn, settings, intake, now)
    except Refused as refused:
        field = next(iter(refused.errors))
        step = STEP_OF_FIELD.get(field, DESCRIPTION)
        return _ask(conn, chat_id, step, now, settings, service=service_code if step != SERVICE else "",
                    address=address if step == DESCRIPTION else "", error=refused.errors[field])
    except TooMany as too_many:
        leave(conn, chat_id)
        minutes = max(1, -(-too_many.retry_after // 60))
        return f"Забагато повідомлень за годину з цього чату. Спробуйте знову через {minutes} хв."
    leave(conn, chat_id)
    report = received.report
    url = tell.status_url(mail_options(settings), report)
    lines = [escape(received.notice, quote=False), "",
             f"Номер вашого повідомлення: №{report.id}. Коли статус зміниться, я напишу сюди "
             f'(<a href="{escape(url)}">статус на сайті</a>).',
             f"/subscribe_{report.id} — стежити за всіма роботами за адресою "
             f"«{escape(report.address, quote=False)}»."]
    return "\n".join(lines)


def _ask(conn: Connection, chat_id: str, step: str, now: datetime, settings: Settings, *, service: str = "",
         address: str = "", error: str = "") -> str:
    """Store the conversation at `step` and ask for it (after `error`, the intake's words on the last answer)."""
    _save(conn, chat_id, step, service, address, now)
    if step == SERVICE:
        prompt = services_prompt(settings)
    elif step == ADDRESS:
        prompt = f"{ASK_ADDRESS} {CANCEL_HINT}"
    else:
        prompt = f"{ASK_DESCRIPTION}. {CANCEL_HINT}"
    return f"{escape(error, quote=False)}\n{prompt}" if error else prompt


def services_prompt(settings: Settings) -> str:
    services = report_options(settings).services
    lines = ["Про що повідомити? Напишіть номер послуги:"]
    lines += [f"{n}. {escape(s.name, quote=False)} ({escape(s.code, quote=False)})"
              for n, s in enumerate(services, start=1)]
    example = services[0].code if services else "water"
    lines.append(f"Або одним рядком: /report {escape(example, quote=False)} Соборна 14 що сталося. {CANCEL_HINT}")
    return "\n".join(lines)


def _service(text: str, settings: Settings) -> Service | None:
    """A service by its number in the list, its code or its name."""
    options = report_options(settings)
    said = text.strip().rstrip(".").casefold()
    if said.isdigit() and 1 <= int(said) <= len(options.services):
        return options.services[int(said) - 1]
    return next((s for s in options.services if said in (s.code.casefold(), s.name.casefold())), None)


def _current(conn: Connection, chat_id: str, now: datetime) -> Any:
    conn.execute(delete(bot_dialogs).where(bot_dialogs.c.updated_at < now - DIALOG_IDLE))
    return conn.execute(select(bot_dialogs).where(bot_dialogs.c.chat_id == chat_id)).first()


def _save(conn: Connection, chat_id: str, step: str, service: str, address: str, now: datetime) -> None:
    values = {"step": step, "service_code": service, "address": address[:300], "updated_at": now}
    if not insert_or_skip(conn, bot_dialogs, {"chat_id": chat_id, **values}).rowcount:
        conn.execute(update(bot_dialogs).where(bot_dialogs.c.chat_id == chat_id).values(**values))
