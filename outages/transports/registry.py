"""The media the hub delivers through, one line each: the outbox's `channel` value, the lane of `outages run` that
drains it, and how its transport is made from the settings (None: not set up in this city).

The drain (outages/delivery/drain.py) knows nothing of any medium: it claims a medium's queued rows and hands each
to that medium's transport. Adding a medium (SMS, Viber) is a transport module in this folder with a
`from_settings`, one line in MEDIA, its settings, and its tests; docs/architecture.md walks through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from outages.delivery.protocol import Transport
from outages.settings import Settings
from outages.transports import smtp, telegram, webhook

MAIL, RESIDENTS = "mail", "residents"


@dataclass(frozen=True)
class Medium:
    channel: str  # the outbox's `channel` column
    # MAIL: the worker's mail lane, which drains e-mail (officials' and subscribers'); RESIDENTS: the residents'
    # lane, which drains each of its media in turn. A new medium joins RESIDENTS: its peer then never holds up mail.
    lane: str
    transport: Callable[[Settings], Transport | None]


MEDIA: tuple[Medium, ...] = (
    Medium("email", MAIL, smtp.from_settings),
    Medium("telegram", RESIDENTS, telegram.from_settings),
    Medium("webhook", RESIDENTS, webhook.from_settings),
)


def transports(settings: Settings, lane: str) -> list[Transport]:
    """The transports a lane drains in this city: the media of that lane that the settings set up."""
    made = (medium.transport(settings) for medium in MEDIA if medium.lane == lane)
    return [transport for transport in made if transport is not None]


def transport(settings: Settings, channel: str) -> Transport | None:
    """One medium's transport (None: not set up here)."""
    (medium,) = (medium for medium in MEDIA if medium.channel == channel)
    return medium.transport(settings)
