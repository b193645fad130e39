"""The directory's problems, one line each: what `outages directory check` and `outages doctor` list.

Apart from directory.py because it also checks the cadences (cadence.py), which are built on the directory.
"""

from __future__ import annotations

from outages.officials.cadence import role_cadences
from outages.officials.directory import ROLE_UK, entries
from outages.settings import Settings, SettingsError


def check(settings: Settings) -> list[str]:
    """Problems of the directory, one line each (empty: all good)."""
    problems = [f"recipients[{i}]: {p}" for i, r, p in entries(settings) if r is None]
    try:
        role_cadences(settings)
    except SettingsError as exc:
        problems.append(f"{exc} (листи йдуть одразу / mail goes at once)")
    usable = [r for _, r, _ in entries(settings) if r is not None]
    seen: dict[tuple[str, str, str], int] = {}
    for recipient in usable:
        key = (recipient.email.lower(), recipient.role, recipient.executor)
        seen[key] = seen.get(key, 0) + 1
    for (email, role, executor), count in seen.items():
        if count > 1:
            extra = f" ({executor})" if executor else ""
            problems.append(f"дублікат / duplicate: {email} як {role}{extra} — {count} записи / entries")
    for role in ("deputy", "press", "executive_head", "control"):
        if not any(r.role == role for r in usable):
            problems.append(f"немає жодного адресата з роллю / nobody has role {role} ({ROLE_UK[role]})")
    for role in ("district_duty", "hoa_department"):
        for district in settings.districts.names:
            if not any(r.role == role and (not r.districts or district in r.districts) for r in usable):
                problems.append(f"район «{district}»: немає адресата з роллю / nobody covers it as {role} "
                                f"({ROLE_UK[role]})")
    for utility in settings.utilities.names:
        if not any(r.role == "executor" and r.executor == utility for r in usable):
            problems.append(f"виконавець «{utility}»: немає адреси виконавця / no executor address")
    return problems
