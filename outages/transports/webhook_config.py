"""The [[webhooks]] tables of the settings, checked when the settings load.

Checked there, not when a change is first queued: a bad entry would otherwise surface in the middle of a sync
(whose transaction queues the webhooks) and stop every sync until someone fixed the file. No HTTP here, so
loading the settings never imports a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from outages.records.model import RECORD_KINDS


class WebhookSettingError(ValueError):
    """A bad [[webhooks]] entry; the message names it (Settings raises it as a SettingsError)."""


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str
    secret: str
    kinds: tuple[str, ...] = RECORD_KINDS


def parse_webhooks(raw: Any) -> dict[str, Webhook]:
    """The [[webhooks]] tables by name; a bad entry raises WebhookSettingError naming it."""
    if not isinstance(raw, list):
        raise WebhookSettingError("webhooks: expected a list of [[webhooks]] tables")
    out: dict[str, Webhook] = {}
    for index, item in enumerate(raw):
        where = f"webhooks[{index}]"
        if not isinstance(item, dict):
            raise WebhookSettingError(f"{where}: expected a table with name, url, secret")
        name, url, secret = (str(item.get(k) or "").strip() for k in ("name", "url", "secret"))
        if not name or name in out:
            raise WebhookSettingError(f"{where}.name: every webhook needs its own name, got {name!r}")
        if not url.startswith(("https://", "http://")):
            raise WebhookSettingError(f"{where}.url: expected an http(s) URL, got {url!r}")
        if len(secret) < 16:
            raise WebhookSettingError(f"{where}.secret: expected a shared secret of at least 16 characters")
        kinds = item.get("kinds", list(RECORD_KINDS))
        bad = [k for k in kinds if k not in RECORD_KINDS] if isinstance(kinds, list) else [kinds]
        if bad:
            raise WebhookSettingError(f"{where}.kinds: unknown kind(s) {bad}; known: {', '.join(RECORD_KINDS)}")
        out[name] = Webhook(name=name, url=url, secret=secret, kinds=tuple(kinds))
    return out
