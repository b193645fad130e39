"""The directory of recipients: `[[recipients]]` tables in the city's TOML (or imported from a CSV).

Each entry: email, name, role, optional districts (empty = all), streets, services (empty = all), and for role
`executor` the utility's name. Routing skips an unusable entry rather than stopping a sync; `outages directory
check` names every such entry, the duplicates, and the districts and utilities nobody covers.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from email_validator import EmailNotValidError, validate_email

from outages.settings import Settings
from outages.text import fold, one_line

log = logging.getLogger(__name__)

# hoa_department: the city's department for homeowners' associations (regulation 7.7), which relays to the ОСББ
# heads the hub does not reach itself; hoa_head: an ОСББ head the hub tells directly.
ROLES = ("deputy", "press", "executive_head", "district_duty", "hoa_department", "hoa_head", "control", "executor")
ROLE_UK = {
    "deputy": "заступник міського голови", "press": "управління преси та інформації",
    "executive_head": "керівник виконавчого органу", "district_duty": "черговий районної адміністрації",
    "hoa_department": "управління з питань ОСББ", "hoa_head": "голова ОСББ", "control": "контроль (Контакт-центр)",
    "executor": "виконавець",
}
# How a recipient hears of changes other than a new emergency (which always goes at once): every change at
# once, or one digest an hour or a day listing each record's current state.
CADENCES = ("now", "hourly", "daily")
COLUMNS = ("email", "name", "role", "districts", "streets", "services", "executor", "delivery")
_LIST_SPLIT = re.compile(r"[;\n]+")
_LIST_SPLIT_NAMES = re.compile(r"[,;\n]+")  # district and service names never contain commas


class DirectoryError(ValueError):
    """The CSV or an entry is unusable; the message says where and why (Ukrainian first)."""


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    role: str
    districts: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    executor: str = ""
    delivery: str = ""  # one of CADENCES; empty: the role's choice in [delivery], else at once

    def as_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"email": self.email, "name": self.name, "role": self.role}
        if self.districts:
            out["districts"] = list(self.districts)
        if self.streets:
            out["streets"] = list(self.streets)
        if self.services:
            out["services"] = list(self.services)
        if self.executor:
            out["executor"] = self.executor
        if self.delivery:
            out["delivery"] = self.delivery
        return out


def check_address(text: str) -> str:
    """The normalised address in ASCII (an internationalised domain as punycode: «mykola@пошта.укр» becomes
    «mykola@xn--…», which every SMTP server takes), or ValueError with the reason. A non-ASCII local part needs
    SMTPUTF8 and is refused here, at sign-up or import, where the person can be told."""
    try:
        found = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
        return found.ascii_email or found.normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


def _names(value: Any, split: re.Pattern[str]) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [one_line(v) for v in split.split(value) if one_line(v)]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [one_line(v) for v in value if one_line(v)]
    raise ValueError("очікується список / expected a list of text")


def parse_entry(raw: Mapping[str, Any], settings: Settings) -> Recipient:
    """One entry (a TOML table or a CSV row); ValueError names the field that is wrong."""
    unknown = set(raw) - set(COLUMNS)
    if unknown:
        raise ValueError(f"невідомі поля / unknown fields {sorted(unknown)}; відомі / known: {', '.join(COLUMNS)}")
    email = raw.get("email")
    if not isinstance(email, str) or not email.strip():
        raise ValueError("email: порожня адреса / missing address")
    try:
        email = check_address(email)
    except ValueError as exc:
        raise ValueError(f"email «{one_line(raw['email'])}»: недійсна адреса / bad address: {exc}") from None
    role = one_line(raw.get("role", "")).lower()
    if role not in ROLES:
        raise ValueError(f"role «{role}»: невідома роль / unknown role; відомі / known: {', '.join(ROLES)}")
    districts = _canonical("districts", _names(raw.get("districts"), _LIST_SPLIT_NAMES), settings.districts)
    services = _canonical("services", _names(raw.get("services"), _LIST_SPLIT_NAMES), settings.services)
    streets = _names(raw.get("streets"), _LIST_SPLIT)
    executor = one_line(raw.get("executor") or "")
    if role == "executor":
        if not executor:
            raise ValueError("executor: для ролі executor потрібна назва виконавця / role executor needs the utility")
        if settings.utilities:
            found = settings.utilities.lookup(executor)
            if found is None:
                raise ValueError(f"executor «{executor}»: невідомий виконавець / unknown utility; "
                                 f"відомі / known: {', '.join(settings.utilities.names)}")
            executor = found
    delivery = one_line(raw.get("delivery") or "").lower()
    if delivery and delivery not in CADENCES:
        raise ValueError(f"delivery «{delivery}»: невідомий спосіб доставки / unknown delivery; "
                         f"відомі / known: {', '.join(CADENCES)}")
    name = one_line(raw.get("name") or "") or email
    return Recipient(email=email, name=name, role=role, districts=tuple(districts), streets=tuple(streets),
                     services=tuple(services), executor=executor, delivery=delivery)


def _canonical(what: str, names: list[str], catalog) -> list[str]:  # noqa: ANN001
    out = []
    for name in names:
        found = catalog.lookup(name)
        if found is None:
            raise ValueError(f"{what}: «{name}» — невідома назва / unknown name; відомі / known: "
                             f"{', '.join(catalog.names)}")
        out.append(found)
    return out


def entries(settings: Settings) -> list[tuple[int, Recipient | None, str]]:
    """Every [[recipients]] entry: (index, recipient or None, problem)."""
    raw = settings.data.get("recipients", [])
    if not isinstance(raw, list):
        return [(0, None, "recipients: очікується список [[recipients]] / expected [[recipients]] tables")]
    out: list[tuple[int, Recipient | None, str]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            out.append((index, None, "очікується таблиця / expected a table"))
            continue
        try:
            out.append((index, parse_entry(item, settings), ""))
        except ValueError as exc:
            out.append((index, None, str(exc)))
    return out


def load(settings: Settings) -> list[Recipient]:
    """The usable recipients. An unusable entry is logged and skipped: a typo in one address must not stop the
    sync that tells everybody else (`outages directory check` reports it)."""
    cached = settings.__dict__.get("_recipients")
    if cached is not None:
        return cached
    usable = []
    for index, recipient, problem in entries(settings):
        if recipient is None:
            log.warning("recipients[%s] skipped: %s", index, problem)
        else:
            usable.append(recipient)
    settings.__dict__["_recipients"] = usable
    return usable



def read_csv(path: Path, settings: Settings) -> list[Recipient]:
    """Recipients from a CSV with the directory's columns; DirectoryError lists every bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(f"{path}: не вдалося прочитати / cannot read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    headers = [fold(h) for h in (reader.fieldnames or [])]
    missing = [c for c in ("email", "name", "role") if c not in headers]
    if missing:
        raise DirectoryError(f"{path}: бракує колонок / missing columns {missing}; "
                             f"очікуються / expected: {', '.join(COLUMNS)}")
    unknown = [h for h in headers if h not in COLUMNS]
    if unknown:
        raise DirectoryError(f"{path}: невідомі колонки / unknown columns {unknown}; "
                             f"очікуються / expected: {', '.join(COLUMNS)}")
    recipients, errors = [], []
    for line, row in enumerate(reader, start=2):
        values = {fold(k): v for k, v in row.items() if k is not None and v not in (None, "")}
        if not values:
            continue
        try:
            recipients.append(parse_entry(values, settings))
        except ValueError as exc:
            errors.append(f"рядок / line {line}: {exc}")
    if errors:
        raise DirectoryError("\n".join(errors))
    return recipients


def write_toml(path: Path, recipients: Iterable[Recipient]) -> None:
    """Replace the [[recipients]] of the city's TOML file, keeping everything else in it as it was."""
    import tomlkit

    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    tables = tomlkit.aot()
    for recipient in recipients:
        tables.append(tomlkit.item(recipient.as_toml()))
    if "recipients" in document:
        del document["recipients"]
    document["recipients"] = tables
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


def to_toml(recipients: Iterable[Recipient]) -> str:
    import tomlkit

    document = tomlkit.document()
    tables = tomlkit.aot()
    for recipient in recipients:
        tables.append(tomlkit.item(recipient.as_toml()))
    document["recipients"] = tables
    return tomlkit.dumps(document)
