"""Signed webhooks: one JSON POST per change to each of the city's other systems ([[webhooks]] in the settings).

The receiver checks `X-Outages-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the shared
secret>` (the time inside the signature lets it refuse old replays) and de-duplicates by `X-Outages-Delivery`,
which stays the same across retries of one delivery. 2xx is delivered; 408, 429, 5xx and network errors are
retried by the outbox; any other 4xx is permanent (the receiver will not change its mind).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

from outages.delivery.peer import PeerError, payload
from outages.delivery.protocol import Delivery, RetryPolicy, Sent, peer_seconds
from outages.settings import Settings
from outages.transports.http_call import Caller, CallFailed
from outages.transports.webhook_config import Webhook

# One POST ends within 15 s in all (connecting at most 5 of them), however slowly the receiver answers: a total,
# not a wait per read (http_call.py), so the claim lease (2 min) always outlasts a delivery in progress.
CONNECT = 5.0
DEADLINE = 15.0
POLICY = RetryPolicy(retry_first=timedelta(minutes=1), retry_max=timedelta(hours=1), give_up=timedelta(hours=24),
                     claim_lease=timedelta(minutes=2), in_order=True)


def sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, now: float | None = None, tolerance: float = 300) -> bool:
    """What a receiver does (the tests use it, and so can a Python receiver)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        at = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - at) > tolerance:
        return False
    # Bytes: compare_digest raises TypeError on a str with non-ASCII characters, and a forged header may have them.
    return hmac.compare_digest(sign(secret, body, at).encode(), header.encode("utf-8", "replace"))


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


class WebhookTransport:
    channel = "webhook"
    policy = POLICY

    def __init__(self, hooks: dict[str, Webhook], caller: Caller | None = None) -> None:
        self.hooks = hooks
        self.caller = caller or Caller(connect=CONNECT, deadline=DEADLINE)

    def longest(self) -> timedelta:
        return timedelta(seconds=DEADLINE)

    def send(self, delivery: Delivery) -> Sent:
        hook = self.hooks.get(delivery.target)
        if hook is None:
            raise PeerError(f"webhook {delivery.target!r} is no longer configured", permanent=True)
        body = body_of(payload(delivery))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Outages-Signature": sign(hook.secret, body, int(time.time())),
            "X-Outages-Delivery": delivery.idempotency_key,
            "X-Outages-Event": str(delivery.row.get("kind", "")),
        }
        try:
            # Redirects are not followed (a 3xx is an answer like any other 4xx: permanent).
            response = self.caller.post(hook.url, body, headers)
        except CallFailed as exc:
            # `unanswered`: the receiver may have it. A repeat is harmless: it de-duplicates by X-Outages-Delivery.
            raise PeerError(f"webhook {hook.name}: no answer ({exc})", unanswered=exc.sent) from None
        answer = f"{response.status} {response.reason}".strip()
        if response.ok:
            return Sent(answer=answer)
        temporary = response.status in (408, 429) or response.status >= 500
        retry_after = _seconds(response.headers.get("Retry-After")) if response.status == 429 else None
        raise PeerError(f"webhook {hook.name}: {answer}", permanent=not temporary, answer=answer,
                        retry_after=retry_after)

    def close(self) -> None:
        self.caller.abort()

    def abort(self) -> None:
        self.caller.abort()


def _seconds(value: str | None) -> float | None:
    return peer_seconds(value) if value else None


def from_settings(settings: Settings) -> WebhookTransport | None:
    """The transport of the city's [[webhooks]] (checked when the settings loaded); None when there are none."""
    return WebhookTransport(settings.webhooks) if settings.webhooks else None
