"""What the residents' channels (Telegram, webhooks) add to the drain's TransportError."""

from __future__ import annotations

from outages.delivery.protocol import Delivery, TransportError


class PeerError(TransportError):
    """`disable_target`: the target is gone for good (a blocked bot, a deleted chat), so its subscription ends."""

    def __init__(self, message: str, *, permanent: bool = False, answer: str = "", unreachable: bool = False,
                 retry_after: float | None = None, disable_target: bool = False, unanswered: bool = False) -> None:
        super().__init__(message, permanent=permanent, answer=answer, unreachable=unreachable,
                         retry_after=retry_after, unanswered=unanswered)
        self.disable_target = disable_target


def payload(delivery: Delivery) -> dict:
    return dict(delivery.row.get("payload") or {})


def anchor(delivery: Delivery) -> str | None:
    """The peer's reference of the row this one depends on (the channel post's message id)."""
    return delivery.row.get("anchor_ref") or None
