"""What a city configures for residents' reports: the service codes (`[[services]] code`, `sos`, `group`), which
utility runs each (`[[utilities]] services`) and the `[reports]` table. Built once per loaded settings and checked
at load (outages/options.py), so a code no utility runs or a bad «hours» stops the command, naming it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from outages.settings import Settings, SettingsError

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Service:
    code: str  # Open311's service_code: power, water, …
    name: str  # the catalogue's name, as records carry it: «Водопостачання»
    en: str
    sos: bool  # taken within 30 minutes, at any hour (4.7.1, 5.1, 4.9.1)
    group: str
    keywords: tuple[str, ...]  # the catalogue's aliases
    utility: str  # the utility that runs it («КП «Водоканал»»), "" when none is named


@dataclass(frozen=True)
class ReportOptions:
    services: tuple[Service, ...]
    hours: tuple[time, time] | None  # office hours, city time; None: always
    sos_take: timedelta
    take: timedelta
    follow: timedelta
    crowd_min: int
    crowd_window: timedelta
    keep_contacts: timedelta
    limit_per_hour: int
    open311_keys: tuple[str, ...]
    jurisdiction: str

    def service(self, code: str) -> Service | None:
        for service in self.services:
            if service.code == code:
                return service
        return None

    def by_name(self, name: str) -> Service | None:
        for service in self.services:
            if service.name == name:
                return service
        return None

    def take_within(self, service: Service) -> timedelta:
        return self.sos_take if service.sos else self.take

    def in_hours(self, now: datetime, tz: ZoneInfo) -> bool:
        return self.opens(now, tz) == now

    def opens(self, now: datetime, tz: ZoneInfo) -> datetime:
        """Now, within office hours; else when they next open (city time, so a DST night is no different)."""
        if self.hours is None:
            return now
        start, end = self.hours
        local = now.astimezone(tz)
        clock = local.time()
        inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
        if inside:
            return now
        day = local.date() if clock < start else local.date() + timedelta(days=1)
        return datetime.combine(day, start, tzinfo=tz)


def report_options(settings: Settings) -> ReportOptions:
    return settings.built(_build)


def _build(settings: Settings) -> ReportOptions:
    raw = settings.data.get("reports", {})
    runs: dict[str, str] = {}
    for item in settings.data.get("utilities", []):
        if not isinstance(item, dict):
            continue
        codes = item.get("services", [])
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise SettingsError(f"utilities «{item.get('name')}».services: expected a list of service codes")
        for code in codes:
            if code in runs:
                raise SettingsError(f"utilities: service «{code}» is run by both «{runs[code]}» and «{item['name']}»")
            runs[code] = str(item["name"]).strip()
    services = []
    for item in settings.data.get("services", []):
        entry = item if isinstance(item, dict) else {"name": item}
        name = str(entry.get("name", "")).strip()
        code = str(entry.get("code", "")).strip()
        if not code:
            continue  # a service residents cannot report (a city may keep some to dispatchers)
        if not CODE.match(code):
            raise SettingsError(f"services «{name}».code: expected lower-case letters, digits and «-», got {code!r}")
        if any(s.code == code for s in services):
            raise SettingsError(f"services: code «{code}» is given twice")
        services.append(Service(code=code, name=name, en=str(entry.get("en", "")) or name,
                                sos=bool(entry.get("sos", False)), group=str(entry.get("group", "")),
                                keywords=tuple(entry.get("aliases", [])), utility=runs.pop(code, "")))
    if runs:
        raise SettingsError(f"utilities.services: unknown service code «{next(iter(runs))}»; known: "
                            + ", ".join(s.code for s in services))

    def minutes(key: str) -> timedelta:
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise SettingsError(f"reports.{key}: expected a positive number, got {value!r}")
        return timedelta(minutes=value)

    def count(key: str) -> int:
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError(f"reports.{key}: expected a whole number ≥ 1, got {value!r}")
        return value

    keys = raw.get("open311_keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        raise SettingsError("reports.open311_keys: expected a list of keys")
    return ReportOptions(
        services=tuple(services), hours=_hours(str(raw.get("hours", "") or "")),
        sos_take=minutes("sos_take_minutes"), take=minutes("take_minutes"),
        follow=minutes("follow_hours") * 60, crowd_min=count("crowd_min"),
        crowd_window=minutes("crowd_window_minutes"), keep_contacts=minutes("keep_contacts_days") * 60 * 24,
        limit_per_hour=count("limit_per_hour"), open311_keys=tuple(keys),
        jurisdiction=str(raw.get("open311_jurisdiction", "") or ""),
    )


def _hours(raw: str) -> tuple[time, time] | None:
    if not raw.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in raw.split("-"))
    except ValueError:
        raise SettingsError(f"reports.hours: expected HH:MM-HH:MM, got {raw!r}") from None
    if start == end:
        raise SettingsError(f"reports.hours: the hours open and close at once: {raw!r}")
    return start, end
