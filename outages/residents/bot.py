"""The Telegram bot: residents subscribe by address in a private chat.

`poll_once` asks getUpdates for what is pending (offset = the last handled update + 1, which also confirms the
earlier ones to Telegram), and handles each update in its own transaction: the update id goes into `bot_updates`
with its effects (subscriptions changed, reply rows queued in the outbox), so a crash before the commit replays the
update, after it never. Replies are outbox rows like any other message: the Telegram drain sends them, honouring
the flood limits, and a failure is visible in `outages outbox`.

Conversation: `/start` asks for an address; any text is read as an address by the city's street matcher: the bot
answers what is off there now and what is planned, and subscribes the chat. `/list` shows the chat's addresses
with a `/remove_N` command each; `/stop` ends every subscription of the chat. `/report` starts a resident's report
(outages/residents/bot_report.py: while it is being written, a text is its next answer, not an address);
`/subscribe_N` subscribes the chat to the address of its report N.

Hostile input (issue 22): one chat gets at most FLOOD answers a minute, then one «зачекайте» and silence, decided
before any work on the message, so a flood costs a look-up per message, not a search. An update whose data the
store refuses (a NUL character, which PostgreSQL's text cannot hold) is skipped and still confirmed: it can never
wedge the updates behind it.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DataError

from outages.db import insert_or_skip
from outages.delivery.queue import insert_rows, row
from outages.officials.options import mail_options
from outages.places import index as address_index
from outages.places.addresses import parse_query
from outages.places.answer import bounded
from outages.records.model import Kind
from outages.records.views import list_records
from outages.reports.store import get as get_report
from outages.residents import bot_report, posts
from outages.residents import subscriptions as store
from outages.residents.audience import locate
from outages.schema import bot_updates
from outages.settings import Settings
from outages.times import fmt
from outages.transports.telegram import BotApi

log = logging.getLogger(__name__)

MAX_ADDRESSES = 10  # per chat: enough for home, work and parents; a bound on what one chat can make us send
MAX_TEXT = 200
FLOOD = (10, timedelta(minutes=1))  # answers per chat: a person typing addresses and commands never meets it
WAIT = "Забагато повідомлень. Зачекайте хвилину — тоді я відповім знову."

HELLO = ("Вітаю! Я повідомлятиму про аварії та планові роботи за вашою адресою.\n"
         "Напишіть адресу: вулицю і номер будинку, наприклад «Соборна 14».\n"
         "/list — ваші адреси, /stop — відписатися від усіх.\n"
         "/report — повідомити про аварію чи проблему.")


class ChatLimit:
    """At most `count` answers per chat in any `window`, then one «зачекайте» and silence until the window frees.
    Kept in memory by the bot lane (a restart forgets it: a minute's leniency); the clock is the poll's `now`."""

    def __init__(self, count: int = FLOOD[0], window: timedelta = FLOOD[1]) -> None:
        self.count, self.window = count, window
        self._answered: dict[str, deque[datetime]] = {}
        self._warned: set[str] = set()

    def verdict(self, chat: str, now: datetime) -> str:
        """"answer" (counted), "wait" (the one warning) or "silent"."""
        if len(self._answered) > 10_000:  # forget chats that went quiet, so the memory stays bounded
            self._answered = {c: d for c, d in self._answered.items() if d and now - d[-1] < self.window}
            self._warned &= set(self._answered)
        recent = self._answered.setdefault(chat, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) < self.count:
            recent.append(now)
            self._warned.discard(chat)
            return "answer"
        if chat in self._warned:
            return "silent"
        self._warned.add(chat)
        return "wait"


def poll_once(engine: Engine, settings: Settings, api: BotApi, now: datetime, *, wait: int = 0,
              limit: ChatLimit | None = None) -> int:
    """Handle the updates pending at Telegram; `wait` seconds of long polling. Returns how many were handled.
    `limit`: the bot lane's per-chat limit, kept across polls (a fresh one limits this batch alone)."""
    limit = limit or ChatLimit()
    with engine.connect() as conn:
        last = conn.execute(select(func.max(bot_updates.c.update_id))).scalar()
    params: dict[str, Any] = {"timeout": wait, "allowed_updates": ["message"]}
    if last is not None:
        params["offset"] = int(last) + 1
    updates = api.call("getUpdates", params, deadline=wait + 10) or []
    handled = 0
    for update in updates:
        try:
            with engine.begin() as conn:
                if _claim(conn, update, now):
                    insert_rows(conn, replies(conn, update, settings, now, limit))
                    handled += 1
        except DataError:
            # The store refused something in this update: it is confirmed with no effects, or every poll would
            # fetch it again and no update after it would ever be handled.
            log.warning("bot update %s skipped: the store refused its data", update.get("update_id"), exc_info=True)
            with engine.begin() as conn:
                _claim(conn, update, now)
    return handled


def _claim(conn: Connection, update: dict[str, Any], now: datetime) -> bool:
    chat = str(((update.get("message") or {}).get("chat") or {}).get("id", ""))
    result = insert_or_skip(conn, bot_updates,
                            {"update_id": int(update["update_id"]), "chat_id": chat, "handled_at": now})
    return bool(result.rowcount)


def replies(conn: Connection, update: dict[str, Any], settings: Settings, now: datetime,
            limit: ChatLimit | None = None) -> list[dict[str, Any]]:
    message = update.get("message") or {}
    chat = message.get("chat") or {}
    text = " ".join(str(message.get("text") or "").split())
    if chat.get("type") != "private" or not text:
        return []  # the bot talks to residents one to one; groups and stickers get no answer
    if "\x00" in text:
        return []  # no person types U+0000, and PostgreSQL's text cannot hold it: skipped (and confirmed)
    chat_id = str(chat["id"])
    verdict = limit.verdict(chat_id, now) if limit is not None else "answer"
    if verdict == "silent":
        return []
    answer = WAIT if verdict == "wait" else _answer(conn, chat_id, text, settings, now)
    return [row(channel="telegram", dedup_key=f"bot:u{update['update_id']}", kind="bot_reply", recipient=chat_id,
                role="bot", text=answer, payload={"method": "send", "text": answer}, now=now,
                subject="Відповідь бота")]


def _answer(conn: Connection, chat_id: str, text: str, settings: Settings, now: datetime) -> str:
    command = text.split()[0].split("@")[0].lower() if text.startswith("/") else ""
    if command in bot_report.COMMANDS or not command and bot_report.in_dialog(conn, chat_id, now):
        return bot_report.answer(conn, chat_id, text, settings, now)
    if command:
        bot_report.leave(conn, chat_id)  # another command ends a report being written: a text is an address again
    if command.startswith("/subscribe_"):
        return _subscribe_report(conn, chat_id, command, settings, now)
    if command in ("/start", "/help"):
        return HELLO
    if command == "/list":
        return _list(conn, chat_id)
    if command == "/stop":
        count = store.stop_all(conn, "telegram", chat_id, now)
        if not count:
            return "У вас немає підписок. Напишіть адресу, щоб підписатися."
        return (f"Ви відписалися від усіх адрес ({count}). Більше повідомлень не буде.\n"
                "Щоб підписатися знову, напишіть адресу.")
    if command.startswith("/remove"):
        return _remove(conn, chat_id, command, now)
    if command:
        return "Не знаю такої команди.\n" + HELLO
    return _subscribe(conn, chat_id, text[:MAX_TEXT], settings, now)


def _list(conn: Connection, chat_id: str) -> str:
    mine = store.active(conn, "telegram", chat_id)
    if not mine:
        return "У вас немає підписок. Напишіть адресу, щоб підписатися."
    lines = ["Ваші адреси:"]
    for index, sub in enumerate(mine, start=1):
        # The command names the subscription, not its place in the list: an old /remove_N from an earlier list
        # still removes the address it was shown beside (or nothing), never the one that moved into its place.
        lines.append(f"{index}. {escape(sub.address, quote=False)} — прибрати: /remove_{sub.id}")
    lines.append("/stop — відписатися від усіх")
    return "\n".join(lines)


def _remove(conn: Connection, chat_id: str, command: str, now: datetime) -> str:
    mine = store.active(conn, "telegram", chat_id)
    number = command.removeprefix("/remove").lstrip("_")
    sub = next((s for s in mine if number.isdigit() and s.id == int(number)), None)
    if sub is None:
        return "Такої адреси у списку немає. /list — ваші адреси."
    store.unsubscribe(conn, sub.id, now)
    return f"Адресу «{escape(sub.address, quote=False)}» прибрано. /list — ваші адреси."


def _subscribe_report(conn: Connection, chat_id: str, command: str, settings: Settings, now: datetime) -> str:
    """`/subscribe_N` under the answer to a report: the address of this chat's report N."""
    number = command.removeprefix("/subscribe_")
    report = get_report(conn, int(number)) if number.isdigit() and len(number) < 10 else None
    if report is None or report.chat_id != chat_id or report.erased_at is not None:
        return "Такого повідомлення у цьому чаті немає. Напишіть адресу, щоб підписатися."
    return _subscribe(conn, chat_id, report.address[:MAX_TEXT], settings, now)


def _subscribe(conn: Connection, chat_id: str, text: str, settings: Settings, now: datetime) -> str:
    where = locate(text, settings)
    if where is None:
        return (f"Вулицю «{escape(text, quote=False)}» не знайдено в довіднику міста.\n"
                "Напишіть вулицю і номер будинку, наприклад «Соборна 14».")
    mine = store.active(conn, "telegram", chat_id)
    if len(mine) >= MAX_ADDRESSES and all(s.address != text for s in mine):
        return f"У вас уже {MAX_ADDRESSES} адрес — це найбільше. /list — прибрати зайву."
    store.sign_up(conn, medium="telegram", target=chat_id, address=text, where=where, services=[],
                  client=f"tg:{chat_id}", now=now)
    status = status_text(conn, text, settings, now)
    return (f"{status}\n\n✅ Підписано на «{escape(text, quote=False)}»: напишу, коли тут щось почнеться, "
            "зміниться термін або відновлять.\n/list — ваші адреси, /stop — відписатися.")


def status_text(conn: Connection, address: str, settings: Settings, now: datetime) -> str:
    """What is off at this address now, and what is planned (Telegram HTML)."""
    query = parse_query(address, settings.streets, address_index.unknown_streets(conn))
    tz = settings.tz
    public_url = mail_options(settings).public_url
    now_off, planned = [], []
    # The same search as the site's answer line (outages.places.index): the house test in SQL, whole-district
    # records included, and only what is live by the records' one computed state.
    found = list_records(conn, now, active_only=True, where=address_index.condition(query, settings.streets)) \
        if query.street_keys and query.house is not None else []
    for record in found:
        link = f'<a href="{escape(posts.record_url(public_url, record.number))}">№{record.number}</a>'
        service = escape(record.service, quote=False)
        if record.kind is Kind.PLANNED and record.event_at > now:
            planned.append(f"🗓 {service}: {fmt(record.event_at, tz)} – {fmt(record.expected_end, tz)} ({link})")
        else:
            icon = "🚨" if record.kind is Kind.EMERGENCY else "🛠"
            now_off.append(f"{icon} {service}: {posts.term_words(record, tz)} ({link})")
    label = escape(query.label, quote=False)
    if not now_off and not planned:
        return f"За адресою «{label}» зараз усе працює, планових робіт не заплановано."
    # A busy house in a blackout has dozens of records: a reply past Telegram's 4,096 units is refused. Each list
    # names its first ITEMS (outages.places.answer) and links the site's search for the rest.
    more = f'{public_url}/?{urlencode({"q": query.label})}'
    lines = [f"За адресою «{label}»:"]
    lines += (["Зараз:"] + _bounded(now_off, more)) if now_off else ["Зараз усе працює."]
    if planned:
        lines += ["Заплановано:"] + _bounded(planned, more)
    return "\n".join(lines)


def _bounded(items: list[str], more: str) -> list[str]:
    shown, rest = bounded(items)  # the site's answer line names as many (outages/places/answer.py)
    return shown + ([f'…і ще {rest} — <a href="{escape(more)}">усі на сайті</a>'] if rest else [])

