"""Who is told of what (regulation 7.5–7.7), overridable per message kind in the TOML `[routing]`.

Pure functions over the directory and a record, so routing is tested without a mail server.
"""

from __future__ import annotations

from typing import Iterable

from outages.officials.directory import ROLES, Recipient, load
from outages.places.addresses import parse_addresses
from outages.places.streets import Streets
from outages.records.views import RecordView
from outages.settings import Settings, SettingsError
from outages.text import fold

# Regulation 7.5 (deputies, press, heads of executive bodies), 7.6 (district duty officers), 7.7 (the HOA
# department); ОСББ heads in the directory are told directly.
AUDIENCE = ("deputy", "press", "executive_head", "district_duty", "hoa_department", "hoa_head")
DEFAULT_ROUTING: dict[str, tuple[str, ...]] = {
    "created": AUDIENCE,
    "edited": AUDIENCE,
    "updated": AUDIENCE,
    "resolved": AUDIENCE,
    # The console's corrections and cancellations (issue 19). A cancellation goes to everyone told of the record
    # whatever their role (event_mail.told): these roles are those told besides.
    "corrected": AUDIENCE,
    "cancelled": AUDIENCE,
    "planned_reminder": AUDIENCE,
    "breach": ("control", "executor"),
    "overdue": ("control", "executor"),
    "overdue_reminder": ("control", "executor"),
    "breach_digest": ("control", "executor"),
    "monthly_report": ("control", "executor"),
    "relay_escalation": ("control",),
    "rejected_emergency": ("control",),  # a rejected emergency row (officials/rejected_mail.py)
    # Residents' reports (outages/reports/): forwarded to the utility's executor, at night an SOS one also to the
    # district's duty officer; a report not taken in time, and a crowd of reports with no record, to control.
    "report_forward": ("executor",),
    "report_night": ("district_duty",),
    "report_late": ("control",),
    "report_signal": ("executor", "control"),
}
# Those who must relay emergencies within the hour and confirm it: the district duty officer to the КСН heads
# (7.6), the HOA department to the ОСББ heads the hub does not reach (7.7). An ОСББ head is told, not asked.
RELAY_ROLES = ("district_duty", "hoa_department")
# Officials may see the utility's contact person and phone; HOA heads are residents, not officials.
CONTACT_ROLES = ("deputy", "press", "executive_head", "district_duty", "hoa_department", "control", "executor")



def routing(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Message kind -> roles told, the defaults overridden by `[routing]`; built once per loaded settings."""
    return settings.built(_routing)


def _routing(settings: Settings) -> dict[str, tuple[str, ...]]:
    table = dict(DEFAULT_ROUTING)
    raw = settings.data.get("routing", {})
    if not isinstance(raw, dict):
        raise SettingsError("routing: expected a [routing] table of kind = [roles]")
    for kind, roles in raw.items():
        if kind not in DEFAULT_ROUTING:
            raise SettingsError(f"routing.{kind}: unknown message kind; known: {', '.join(DEFAULT_ROUTING)}")
        if not isinstance(roles, list) or any(role not in ROLES for role in roles):
            raise SettingsError(f"routing.{kind}: expected a list of roles from {', '.join(ROLES)}")
        table[kind] = tuple(roles)
    return table


def street_keys(text: str, streets: Streets) -> frozenset[str]:
    """The streets a text names, as the city's one street matcher keys them (outages/places/addresses.py, the
    site's search uses it too): «ул. Соборная, 12» and «вул. Собрна, 14» both name вул. Соборна."""
    return frozenset(item.street_key for item in parse_addresses(text, streets).items)


def mentions_street(addresses: str, street: str, streets: Streets) -> bool:
    """Whether a street of the directory is among a record's addresses, found as search finds it (aliases,
    Russian spellings and typos of the catalogue's streets; case, quotes and «вул.» do not matter)."""
    return bool(street_keys(street, streets) & street_keys(addresses, streets))


def in_portfolio(recipient: Recipient, service: str, districts: Iterable[str] = ()) -> bool:
    """Whether a record of this service in these districts is within the recipient's `services` / `districts`
    (empty: all). Honoured by every message, reports and digests included."""
    if recipient.services and service not in recipient.services:
        return False
    districts = tuple(districts)
    return not (recipient.districts and districts and not set(recipient.districts) & set(districts))


def matches(recipient: Recipient, record: RecordView, districts: Iterable[str], named: frozenset[str],
            streets: Streets) -> bool:
    """Whether the record concerns this recipient, whatever the role (roles are chosen by `routing`)."""
    if recipient.services and record.service not in recipient.services:
        return False
    if recipient.role == "executor" and fold(recipient.executor) != fold(record.executor):
        return False
    if recipient.districts and not set(recipient.districts) & set(districts):
        return False
    if recipient.role == "hoa_head" and recipient.streets and record.addresses.strip():
        # Buildings known: only the HOA heads of the named streets. No addresses: the whole district is affected.
        return any(street_keys(street, streets) & named for street in recipient.streets)
    return True


def recipients_for(kind: str, record: RecordView, settings: Settings,
                   districts: Iterable[str] | None = None) -> list[Recipient]:
    """The recipients of one message kind about one record, one per address. When one person holds several
    roles, the role that must confirm the relay wins, so the message carries the link."""
    roles = routing(settings)[kind]
    affected = tuple(districts) if districts is not None else record.districts
    named = street_keys(record.addresses, settings.streets)  # the record's streets, read once for everyone
    chosen: dict[str, Recipient] = {}
    for recipient in sorted(load(settings), key=lambda r: (r.role not in RELAY_ROLES, ROLES.index(r.role))):
        if recipient.role in roles and matches(recipient, record, affected, named, settings.streets):
            chosen.setdefault(recipient.email.lower(), recipient)
    return list(chosen.values())


def by_role(kind: str, settings: Settings, roles: Iterable[str] | None = None,
            executor: str | None = None) -> list[Recipient]:
    """Recipients not tied to one record (digests, reports, escalations): by role, and by utility for
    role executor when `executor` is given."""
    wanted = set(roles if roles is not None else routing(settings)[kind])
    chosen: dict[str, Recipient] = {}
    for recipient in load(settings):
        if recipient.role not in wanted:
            continue
        if executor is not None and recipient.role == "executor" and fold(recipient.executor) != fold(executor):
            continue
        chosen.setdefault(recipient.email.lower(), recipient)
    return list(chosen.values())
