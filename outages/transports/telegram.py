"""The Telegram Bot API: a small client, and the transport that delivers the channel's and the bot's rows.

The Bot API is plain HTTPS + JSON (`{API_URL}/bot{TOKEN}/{method}`), three methods of it here (sendMessage,
editMessageText, getUpdates). python-telegram-bot would bring an asyncio application loop into a threaded worker
for that; one POST with a total deadline (http_call.py) is the smaller thing to trust. The deadline is for the
whole call, not per read: an answer trickled a byte a second is cut at DEADLINE like any other.

Every answer is classified here and nowhere else: 429 waits `retry_after`; "message is not modified" on an edit
means the post already shows this text (a retry after a lost answer), so it counts as sent; a blocked bot or a
chat that is gone is permanent and ends the subscription; other 4xx are permanent; 5xx and network errors are
temporary. Nothing here sleeps or retries: the outbox does.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from outages.delivery.peer import PeerError, anchor, payload
from outages.delivery.protocol import Delivery, RetryPolicy, Sent, peer_seconds
from outages.settings import Settings
from outages.transports.http_call import Caller, CallFailed

# Telegram's limits (its FAQ): about 20 messages a minute to one channel or group, about one a second to a chat.
CHANNEL_RATE = (20, 60.0)
CHAT_RATE = (1, 1.0)
OVERALL_RATE = (30, 1.0)  # about 30 messages a second from one bot, all chats together
# One call ends within 9 s in all (connecting at most 3 of them), however the answer comes: a stopping worker can
# let it finish and still exit within 10 s, and the claim lease (2 min) is far longer than any one delivery.
CONNECT = 3.0
DEADLINE = 9.0
# Long polling for getUpdates: Telegram holds the request open this long when nothing is pending.
POLL_SECONDS = 20

# The outbox retries a temporary failure after 30 s, 1, 2, 4 … min (at most 10), and gives up after a day.
POLICY = RetryPolicy(retry_first=timedelta(seconds=30), retry_max=timedelta(minutes=10), give_up=timedelta(hours=24),
                     claim_lease=timedelta(minutes=2), in_order=True)

GONE = ("bot was blocked by the user", "chat not found", "user is deactivated", "bot was kicked",
        "not enough rights", "need administrator rights", "have no rights to send")


@dataclass(frozen=True)
class TelegramOptions:
    token: str
    channel: str
    api_url: str


def telegram_options(settings: Settings) -> TelegramOptions:
    """The Telegram options, built once per loaded settings."""
    return settings.built(_telegram_options)


def _telegram_options(settings: Settings) -> TelegramOptions:
    data = settings.data
    return TelegramOptions(token=str(data.get("telegram_bot_token") or "").strip(),
                           channel=str(data.get("telegram_channel") or "").strip(),
                           api_url=str(data["telegram_api_url"]).rstrip("/"))


class BotApi:
    """One method call = one HTTP request within DEADLINE in all; the answer's `result`, or PeerError."""

    def __init__(self, options: TelegramOptions, caller: Caller | None = None) -> None:
        self.options = options
        self.caller = caller or Caller(connect=CONNECT, deadline=DEADLINE)

    def call(self, method: str, params: dict[str, Any], *, deadline: float | None = None) -> Any:
        """`deadline`: longer than DEADLINE for getUpdates' long polling (Telegram holds that request open)."""
        url = f"{self.options.api_url}/bot{self.options.token}/{method}"
        body = json.dumps(params, ensure_ascii=False).encode("utf-8")
        try:
            answer = self.caller.post(url, body, {"Content-Type": "application/json"}, deadline=deadline)
        except CallFailed as exc:
            # The token is part of the URL: never let it reach a log or the outbox's error column.
            # `unanswered`: Telegram had the request, so a new message may be in the chat although no answer came.
            raise PeerError(f"Telegram: no answer ({exc})", unreachable=True, unanswered=exc.sent) from None
        try:
            reply = json.loads(answer.body)
        except ValueError:
            reply = {}
        reply = reply if isinstance(reply, dict) else {}
        if answer.ok and reply.get("ok"):
            return reply.get("result")
        raise classify(answer.status, reply)

    def close(self) -> None:
        self.caller.abort()


def classify(status: int, body: dict[str, Any]) -> PeerError:
    code = int(body.get("error_code") or status)
    description = str(body.get("description") or f"HTTP {status}")
    answer = f"{code} {description}"
    if code == 429:
        retry_after = peer_seconds((body.get("parameters") or {}).get("retry_after")) or 5.0
        return PeerError(f"Telegram: too many requests, retry after {retry_after:g} s", answer=answer,
                         retry_after=retry_after)
    if code in (502, 503, 504):  # Telegram itself is down: the other rows would fail the same way now
        return PeerError(f"Telegram: server error {code}", answer=answer, unreachable=True)
    if code >= 500 or code in (408,):
        return PeerError(f"Telegram: server error {code}", answer=answer)
    gone = code == 403 or any(marker in description.lower() for marker in GONE)
    return PeerError(f"Telegram: {description}", permanent=True, answer=answer, disable_target=gone)


class RateLimit:
    """Telegram's flood limits kept locally, per target, so the drain defers a row instead of earning a 429.
    A 429 that comes anyway (another process, another bot) is still honoured through `retry_after`."""

    def __init__(self, channel: tuple[int, float] = CHANNEL_RATE, chat: tuple[int, float] = CHAT_RATE,
                 overall: tuple[int, float] = OVERALL_RATE, clock: Callable[[], float] = time.monotonic) -> None:
        self.channel, self.chat, self.overall = channel, chat, overall
        self.clock = clock  # seconds; a test moves it with the drains' clock
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_for(self, target: str) -> float:
        """0 and the send is counted, or the seconds until `target` may receive again."""
        limit = self.channel if target.startswith(("@", "-")) else self.chat
        now = self.clock()
        with self._lock:
            wait = max(self._wait(target, limit, now), self._wait("", self.overall, now))
            if wait > 0:
                return wait
            self._sent[target].append(now)
            self._sent[""].append(now)
            return 0.0

    def _wait(self, key: str, limit: tuple[int, float], now: float) -> float:
        count, seconds = limit
        recent = self._sent.setdefault(key, deque())
        while recent and now - recent[0] >= seconds:
            recent.popleft()
        return seconds - (now - recent[0]) if len(recent) >= count else 0.0


class TelegramTransport:
    """Delivers outbox rows of channel "telegram". Payload: `method` (send | edit | reply) and `text` (HTML).

    `peer_ref` of every row of a thread is the post's message id, so a row that depends on any earlier one (an
    edit after an edit, a reply after the edit of the same change) finds the post it is about."""

    channel = "telegram"
    policy = POLICY

    def __init__(self, options: TelegramOptions, *, api: BotApi | None = None, limit: RateLimit | None = None) -> None:
        self.options = options
        self.api = api or BotApi(options)
        self.limit = limit or RateLimit()

    def longest(self) -> timedelta:
        # Every send is one call (an edit or a post), and a call ends within DEADLINE whatever Telegram does.
        return timedelta(seconds=DEADLINE)

    def send(self, delivery: Delivery) -> Sent:
        data = payload(delivery)
        method = data.get("method", "send")
        post = anchor(delivery)
        params: dict[str, Any] = {"chat_id": delivery.target, "text": data["text"], "parse_mode": "HTML",
                                  "link_preview_options": {"is_disabled": True}}
        if method in ("edit", "reply") and not post:
            raise PeerError("Telegram: the post this row refers to was never made", permanent=True)
        if method == "edit":
            # An edit notifies nobody; it changes the post to the record's state after this change.
            try:
                self.api.call("editMessageText", params | {"message_id": int(post or 0)})
            except PeerError as exc:
                if "message is not modified" in exc.answer:
                    # The post already shows this text: our earlier try got through and its answer was lost.
                    return Sent(answer=f"message {post} already shows this text", peer_ref=post)
                raise
            return Sent(answer=f"edited message {post}", peer_ref=post)
        wait = self.limit.wait_for(delivery.target)
        if wait > 0:
            raise PeerError(f"Telegram: flood limit (20 a minute to a channel, 1 a second to a chat, 30 a second"
                            f" in all), next in {wait:.1f} s", retry_after=wait, answer="local rate limit")
        if method == "reply":
            params["reply_parameters"] = {"message_id": int(post or 0), "allow_sending_without_reply": True}
        result = self.api.call("sendMessage", params)
        message_id = str((result or {}).get("message_id", ""))
        if method == "reply":
            return Sent(answer=f"reply {message_id} to message {post}", peer_ref=post)
        return Sent(answer=f"message {message_id}", peer_ref=message_id or None)

    def close(self) -> None:
        self.api.close()

    def abort(self) -> None:
        # Deliberately nothing: a post cut short after Telegram accepted it would be posted again at the next
        # start (the Bot API has no idempotency key). A call ends within DEADLINE; the lane waits that long.
        pass


def from_settings(settings: Settings) -> TelegramTransport | None:
    """The bot's transport (the channel's posts, the bot's answers, subscribers' messages); None without a token."""
    options = telegram_options(settings)
    return TelegramTransport(options) if options.token else None
