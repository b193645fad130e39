"""Reading one scalar setting: each type's reader (text from an environment variable, or a TOML value) and the
check of its range, with a message that says what was expected. The settings themselves: outages/settings.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


def yes_no(text: str) -> bool:
    folded = str(text).strip().lower()
    if folded in {"1", "true", "yes", "on"}:
        return True
    if folded in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {text!r}")


def whole_number(text: str) -> int:
    return int(str(text).strip())


def display_chars(text: str) -> int:
    """A field's longest shown text: long enough for a real summary, no longer than a sheet cell can be."""
    value = whole_number(text)
    if not 100 <= value <= 50_000:
        raise ValueError(f"expected 100…50000 characters, got {value}")
    return value


def db_timeout(text: str) -> float:
    """Long enough for a year's first sync (its longest statement takes a few seconds), short enough that a held
    lock or a hung server frees the worker, the pages and the CLI within minutes."""
    value = float(str(text).strip())
    if value != 0 and not 5 <= value <= 3600:
        raise ValueError(f"expected 0 (no limit) or 5…3600 seconds, got {text!r}")
    return value


def session_minutes(text: str) -> int:
    """Minutes a console session lasts without a request: long enough for a phone call, at most a working day."""
    value = whole_number(text)
    if not 1 <= value <= 1440:
        raise ValueError(f"expected 1…1440 minutes, got {value}")
    return value


def number(text: str) -> float:
    return float(str(text).strip())


def interval(text: str) -> float:
    """Seconds between two rounds of a loop: at least one, or the worker spins (0 made 206 syncs in 8 s)."""
    value = number(text)
    if not value >= 1:  # also refuses NaN
        raise ValueError(f"expected at least 1 second, got {text}")
    return value


def text(value: str) -> str:
    return str(value)


def smtp_tls(text: str) -> str:
    folded = str(text).strip().lower()
    if folded not in ("none", "starttls", "ssl"):
        raise ValueError(f"expected none, starttls or ssl, got {text!r}")
    return folded


_BOT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,28}bot", re.IGNORECASE)


def bot_name(text: str) -> str:
    """A Telegram bot's public user name, `@city_outages_bot` (the @ may be left out): 5 to 32 letters, digits and
    underscores ending in «bot», as BotFather allows; empty: none. Kept with its @."""
    name = str(text).strip().removeprefix("@")
    if not name:
        return ""
    if not _BOT_NAME.fullmatch(name):
        raise ValueError(f"expected the bot's user name, such as @city_outages_bot, got {text!r}")
    return "@" + name


def duration_hours(text: str) -> float:
    """A duration in hours: `24h`, `90m`, `2d`, `3600s`, or a bare number of hours."""
    folded = str(text).strip().lower().replace(" ", "")
    units = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "d": 24.0}
    scale = units.get(folded[-1:], None)
    number = folded[:-1] if scale is not None else folded
    try:
        hours = float(number) * (scale or 1.0)
    except ValueError:
        raise ValueError(f"expected a duration such as 24h, 90m or 2d, got {text!r}") from None
    if hours <= 0:
        raise ValueError(f"expected a positive duration, got {text!r}")
    return hours


# The number-reading types, and how a wrong value is described; the whole-number ones refuse a fraction.
_NUMBERS = {whole_number: "a whole number", display_chars: "a whole number", number: "a number",
            db_timeout: "a number of seconds", interval: "a number of seconds (at least 1)",
            session_minutes: "a whole number of minutes"}


def coerce(reader: Callable[[str], Any], raw: Any) -> Any:
    """`raw` (text, or a TOML value) read by `reader`; ValueError says what was expected."""
    if isinstance(raw, str):
        return reader(raw)
    if reader is yes_no and isinstance(raw, bool):
        return raw
    numeric = isinstance(raw, (int, float)) and not isinstance(raw, bool)
    whole = reader in (whole_number, display_chars, session_minutes)
    if reader in _NUMBERS and numeric and (not whole or float(raw).is_integer()):
        return reader(str(int(raw)) if whole else str(raw))  # TOML numbers go through the same checks
    expected = {yes_no: "true/false", **_NUMBERS}.get(reader, "text")
    raise ValueError(f"expected {expected}, got {raw!r}")
