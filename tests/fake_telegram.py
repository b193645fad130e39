"""A fake Telegram Bot API on 127.0.0.1: getUpdates, sendMessage, editMessageText, with Telegram's limits.

It answers `{base}/bot{TOKEN}/{method}` with the Bot API's envelope (`{"ok": true, "result": …}` or
`{"ok": false, "error_code": N, "description": …, "parameters": {"retry_after": S}}`), keeps every chat's messages
as a user would see them (text, edits, which post a reply answers), and queues residents' messages for
getUpdates. Failures can be injected per method (`fail(method, 429, retry_after=3)`, `fail(method, 400, …)`), and
the flood limits (messages per minute to one channel, per second to one private chat) answer 429 as Telegram does.

Hostile modes (issue 22), each for the next call(s) of one method, after the call has taken effect (the post is
made, as when Telegram accepted it and the answer is what goes wrong):
- `trickle(method, every=1.0)`: the answer is written one byte every `every` seconds;
- `hold(method)`: the answer waits until `release()` (a worker can be killed inside the call; `reached` is set
  when the call has arrived);
- `drop(method)`: the connection is closed with no answer (the peer died mid-answer);
- `down(code)` / `up()`: every call fails with `code` until `up()` (a long outage); `fail(…)` for single errors.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-token"


@dataclass
class Message:
    chat_id: str
    message_id: int
    text: str
    parse_mode: str | None
    reply_to: int | None
    edits: int = 0


@dataclass
class FakeBotApi:
    token: str = TOKEN
    # Telegram's flood limits: (messages, seconds) per channel/group (ids starting with "@" or "-") and per chat.
    channel_limit: tuple[int, float] | None = (20, 60.0)
    chat_limit: tuple[int, float] | None = (1, 1.0)
    messages: list[Message] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic  # the flood limits' seconds; a test moves it with its drains
    floods: int = 0  # 429s answered because a flood limit was hit (a client keeping the limits causes none)
    sent_at: list[tuple[str, float]] = field(default_factory=list)  # (chat, clock) of every new message

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._failures: dict[str, list[dict[str, Any]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1000
        self._next_message = 1
        self._sent_at: dict[str, list[float]] = {}
        self._modes: dict[str, list[tuple[str, float]]] = {}
        self._down: int | None = None
        self.released = threading.Event()
        self.reached = threading.Event()  # a held call has arrived
        self.closing = threading.Event()  # the server is shutting down: trickles and holds end
        self.server: ThreadingHTTPServer | None = None

    # --- control ---------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, method: str, code: int, description: str = "", retry_after: int | None = None,
             times: int = 1) -> None:
        """The next `times` calls of `method` answer this error instead of doing anything."""
        if not description:
            description = {429: f"Too Many Requests: retry after {retry_after}",
                           400: "Bad Request: chat not found", 403: "Forbidden: bot was blocked by the user"
                           }.get(code, "error")
        with self._lock:
            self._failures.setdefault(method, []).extend(
                [{"code": code, "description": description, "retry_after": retry_after}] * times)

    def trickle(self, method: str, every: float = 1.0, times: int = 1) -> None:
        """The next `times` answers of `method` are written one byte every `every` seconds (`reached` is set
        when such a call has arrived)."""
        self.reached.clear()
        with self._lock:
            self._modes.setdefault(method, []).extend([("trickle", every)] * times)

    def hold(self, method: str, times: int = 1) -> None:
        """The next `times` answers of `method` wait until `release()`."""
        self.released.clear()
        self.reached.clear()
        with self._lock:
            self._modes.setdefault(method, []).extend([("hold", 0.0)] * times)

    def release(self) -> None:
        self.released.set()

    def drop(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` take effect and their connection is closed with no answer."""
        with self._lock:
            self._modes.setdefault(method, []).extend([("drop", 0.0)] * times)

    def down(self, code: int = 502) -> None:
        """Every call answers `code` (with a 429, retry_after 60) until `up()`."""
        with self._lock:
            self._down = code

    def up(self) -> None:
        with self._lock:
            self._down = None

    def posts(self, chat_id: int | str) -> int:
        """How many new messages (not edits) `chat_id` received."""
        return len(self.chat(chat_id))

    def say(self, chat_id: int | str, text: str, *, first_name: str = "Олена") -> None:
        """A resident writes to the bot in a private chat."""
        with self._lock:
            self._next_update += 1
            self._updates.append({"update_id": self._next_update, "message": {
                "message_id": self._next_update, "date": int(time.time()), "text": text,
                "chat": {"id": int(chat_id), "type": "private", "first_name": first_name},
                "from": {"id": int(chat_id), "is_bot": False, "first_name": first_name},
            }})

    def chat(self, chat_id: int | str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.chat_id == str(chat_id)]

    def texts(self, chat_id: int | str) -> list[str]:
        return [m.text for m in self.chat(chat_id)]

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    # --- the API -----------------------------------------------------------------------------------------------------
    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self.answer(method, params)[:2]

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], tuple[str, float] | None]:
        """(status, body, how the answer is written: None for at once, or a hostile mode)."""
        with self._lock:
            modes = self._modes.get(method)
            mode = modes.pop(0) if modes else None
            return (*self._handle(method, params), mode)

    def _handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append((method, params))
            if self._down is not None:
                code = self._down
                return self._error(code, "Too Many Requests: retry after 60" if code == 429 else "Bad Gateway",
                                   60 if code == 429 else None)
            queued = self._failures.get(method)
            if queued:
                failure = queued.pop(0)
                return self._error(failure["code"], failure["description"], failure["retry_after"])
            if method == "getUpdates":
                return self._get_updates(params)
            if method == "sendMessage":
                return self._send(params)
            if method == "editMessageText":
                return self._edit(params)
            if method == "getMe":
                return 200, {"ok": True, "result": {"id": 123456, "is_bot": True, "username": "city_outages_bot"}}
            return self._error(404, "Not Found")

    @staticmethod
    def _error(code: int, description: str, retry_after: int | None = None) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return code, body

    def _get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:  # confirming: everything below the offset is forgotten, as Telegram does
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        return 200, {"ok": True, "result": self._updates[:limit]}

    def _flooded(self, chat_id: str) -> int | None:
        limit = self.channel_limit if chat_id.startswith(("@", "-")) else self.chat_limit
        if limit is None:
            return None
        count, seconds = limit
        now = self.clock()
        recent = [t for t in self._sent_at.get(chat_id, []) if now - t < seconds]
        self._sent_at[chat_id] = recent
        if len(recent) >= count:
            return max(1, int(seconds - (now - recent[0])) + 1)
        recent.append(now)
        return None

    def _send(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = str(params.get("chat_id", ""))
        text = str(params.get("text", ""))
        if not chat_id or not text:
            return self._error(400, "Bad Request: message text is empty" if chat_id else "Bad Request: chat not found")
        wait = self._flooded(chat_id)
        if wait is not None:
            self.floods += 1
            return self._error(429, f"Too Many Requests: retry after {wait}", wait)
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            reply = json.loads(reply)
        reply_to = int(reply["message_id"]) if reply else None
        if reply_to is not None and not any(m.chat_id == chat_id and m.message_id == reply_to for m in self.messages):
            return self._error(400, "Bad Request: message to be replied not found")
        message = Message(chat_id, self._next_message, text, params.get("parse_mode"), reply_to)
        self._next_message += 1
        self.messages.append(message)
        self.sent_at.append((chat_id, self.clock()))
        self._lock.notify_all()
        return 200, {"ok": True, "result": self._as_result(message)}

    def _edit(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = str(params.get("chat_id", ""))
        message_id = int(params.get("message_id") or 0)
        for message in self.messages:
            if message.chat_id == chat_id and message.message_id == message_id:
                if message.text == params.get("text"):
                    return self._error(400, "Bad Request: message is not modified: specified new message content "
                                            "and reply markup are exactly the same as a current content")
                message.text = str(params.get("text", ""))
                message.parse_mode = params.get("parse_mode")
                message.edits += 1
                return 200, {"ok": True, "result": self._as_result(message)}
        return self._error(400, "Bad Request: message to edit not found")

    @staticmethod
    def _as_result(message: Message) -> dict[str, Any]:
        return {"message_id": message.message_id, "date": int(time.time()), "text": message.text,
                "chat": {"id": message.chat_id}}


def _handler(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _answer(self) -> None:
            prefix = f"/bot{api.token}/"
            if not self.path.startswith(prefix):
                code, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            else:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                method, _, query = self.path[len(prefix):].partition("?")
                kind = self.headers.get("Content-Type", "")
                if raw and kind.startswith("application/json"):
                    params = json.loads(raw)
                else:
                    params = dict(parse_qsl(raw or query))
                code, body, mode = api.answer(method, params)
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            if mode and mode[0] == "drop":
                self.close_connection = True
                return
            if mode and mode[0] == "hold":
                api.reached.set()
                while not (api.released.wait(0.05) or api.closing.is_set()):
                    pass
            head = (f"HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                    "\r\n").encode("ascii")
            if mode and mode[0] == "trickle":
                api.reached.set()
                self.close_connection = True
                try:
                    for i in range(len(head + data)):
                        self.wfile.write((head + data)[i:i + 1])
                        self.wfile.flush()
                        if api.closing.wait(mode[1]):
                            return
                except OSError:  # the client gave up (its deadline): what a real peer sees too
                    pass
                return
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _answer  # noqa: N815
        do_POST = _answer  # noqa: N815

    return Handler


def fake_bot_api(**kwargs: Any) -> Iterator[FakeBotApi]:
    api = FakeBotApi(**kwargs)
    api.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=api.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.closing.set()
        api.server.shutdown()
        api.server.server_close()
