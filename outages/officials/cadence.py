"""Per-recipient delivery choice, so officials are not flooded: a new emergency always goes at once; updates,
resolutions and planned works go at once or into an hourly or daily digest, chosen per role in `[delivery]` and
per recipient (`delivery` of a `[[recipients]]` entry, which wins).

```toml
[delivery]
press = "daily"
deputy = "hourly"
```
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from outages.officials.directory import CADENCES, ROLES, Recipient
from outages.records.model import RECORD_KINDS, Kind
from outages.settings import Settings, SettingsError
from outages.times import UTC, localize

log = logging.getLogger(__name__)

# Messages about one record that a digest may carry instead; everything else (breaches, overdue, relay reminders
# and escalations, reports) is for control and the utilities and goes at once.
DIGESTIBLE = (*RECORD_KINDS, "planned_reminder")


def role_cadences(settings: Settings) -> dict[str, str]:
    """Role -> "now", "hourly" or "daily" from `[delivery]`; built once per loaded settings."""
    return settings.built(_role_cadences)


def _role_cadences(settings: Settings) -> dict[str, str]:
    raw = settings.data.get("delivery", {})
    if not isinstance(raw, dict):
        raise SettingsError("delivery: expected a [delivery] table of role = \"now\" | \"hourly\" | \"daily\"")
    for role, value in raw.items():
        if role not in ROLES:
            raise SettingsError(f"delivery.{role}: unknown role; known: {', '.join(ROLES)}")
        if value not in CADENCES:
            raise SettingsError(f"delivery.{role}: expected one of {', '.join(CADENCES)}, got {value!r}")
    return dict(raw)


def cadence(recipient: Recipient, kind: str, record_kind: Kind, settings: Settings, *, relay: bool = False) -> str:
    """"now", "hourly" or "daily" for this message to this recipient."""
    if kind not in DIGESTIBLE or relay:
        return "now"  # a relay request runs against the hour of regulation 7.6–7.7
    if kind == "created" and record_kind is Kind.EMERGENCY:
        return "now"
    if recipient.delivery:
        return recipient.delivery
    try:
        return role_cadences(settings).get(recipient.role, "now")
    except SettingsError as exc:
        # A typo in [delivery] must not stop the sync that tells everybody: at once loses nothing.
        log.warning("%s; sending at once", exc)
        return "now"


def due_at(cadence_name: str, now: datetime, settings: Settings, digest_hour: int) -> datetime:
    """When the digest that carries a change made at `now` goes out: the next full hour, or the next
    `digest_hour` o'clock (city time, so a DST change does not move it)."""
    local = now.astimezone(settings.tz)
    if cadence_name == "hourly":
        # In UTC: an hour is an hour across a DST change (the city's offsets are whole hours, so the top of a UTC
        # hour is the top of a local one).
        return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    today = localize(datetime.combine(local.date(), time(min(digest_hour, 23))), settings.tz)
    if today > now:
        return today
    return localize(datetime.combine(local.date() + timedelta(days=1), time(min(digest_hour, 23))), settings.tz)

