"""The one place that reads settings: embedded defaults, then a TOML file, then OUTAGES_* variables.

Scalar settings are declared once in SETTINGS, with their type and help text; docs/settings.md lists them all
(a test keeps the two in step). Structured settings (column headers, districts, services, utilities, streets,
rules, recipients) come from TOML only. A secret may also come from a file named by OUTAGES_<NAME>_FILE.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from outages.places import streets
from outages.records.catalog import Catalog, Entry
from outages.setting_types import (
    bot_name,
    coerce,
    db_timeout,
    display_chars,
    duration_hours,
    interval,
    number,
    session_minutes,
    smtp_tls,
    text,
    whole_number,
    yes_no,
)

T = TypeVar("T")

ENV_PREFIX = "OUTAGES_"
CONFIG_ENV = "OUTAGES_CONFIG"
LOCAL_CONFIG = "outages.toml"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Setting:
    key: str
    type: Callable[[str], Any] | type
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.key.upper()


# Every scalar setting the hub knows. Environment variable = OUTAGES_ + KEY in upper case.
SETTINGS: list[Setting] = [
    Setting("timezone", text, "The city's time zone (IANA name). All times are shown and compared in it."),
    Setting("database_url", text, "SQLAlchemy URL of the store; SQLite file by default, postgresql://… for PostgreSQL.",
            secret=True),
    Setting("database_timeout", db_timeout, "Seconds one PostgreSQL statement may run or wait for a lock before it "
            "is given up (statement_timeout, lock_timeout); connecting waits at most 10 s and a dead server is "
            "noticed by TCP keepalives within a minute. 0: no limit. Migrations (`outages init`) are never limited; "
            "SQLite waits at most 30 s for its write lock."),
    Setting("city_name", text, "The city's name, shown on pages and in messages."),
    Setting("city_name_en", text, "The city's name in English, for the English pages (the Ukrainian name if empty)."),
    # Live sync with the Google Form's response sheet (sheets/, outages/worker.py; docs/sheets.md).
    Setting("source", text, "Default source of `outages sync` and `outages run`: gsheet:KEY[#WORKSHEET], a published "
            "CSV URL, or a file. Empty: gsheet:OUTAGES_SHEETS_KEY."),
    Setting("google_credentials", text, "The service account's JSON key (or a path to it); usually given as a file "
            "in OUTAGES_GOOGLE_CREDENTIALS_FILE.", secret=True),
    Setting("sheets_key", text, "Key of the form's response spreadsheet (the part of its URL between /d/ and /edit)."),
    Setting("sheets_worksheet", text, "Title of the responses worksheet; empty: the first sheet."),
    Setting("sheets_api_url", text, "Base URL of the Sheets API (a test server can stand in for Google's)."),
    Setting("sheets_number_header", text, "Header of the hub's column with the record number, written back."),
    Setting("sheets_status_header", text, "Header of the hub's column with each row's verdict, written back."),
    Setting("sheets_timeout", number, "Seconds to wait for the Sheets API (read timeout; connect at most 10)."),
    Setting("sheets_retries", whole_number, "Retries of a Sheets request after 408/429/5xx, a timeout or a token "
            "failure."),
    Setting("sheets_backoff", number, "First wait before a retry, seconds; doubled each time, with jitter."),
    Setting("sync_interval", interval, "Seconds between two syncs of `outages run` (at least 1)."),
    Setting("sync_lock_seconds", number, "How long a worker's sync lock lasts if the worker dies holding it."),
    Setting("publish_dir", text, "`outages run` also writes the static site here after each change (and every 5 min)."),
    Setting("hook_secret", text, "Shared secret of POST /hooks/form-submitted (HMAC-SHA256 of the body).", secret=True),
    # Officials' mail over SMTP (outages/officials, outages/transports/smtp.py; docs/notifications.md).
    Setting("smtp_host", text, "SMTP server the hub sends through (default 127.0.0.1, the demo's "
            "`outages mailcatcher`)."),
    Setting("smtp_port", whole_number, "SMTP port (default 1025 with tls none, 587 with starttls, 465 with ssl)."),
    Setting("smtp_tls", smtp_tls, "Transport security: none, starttls or ssl (default none)."),
    Setting("smtp_user", text, "SMTP login; empty: no login (a local relay)."),
    Setting("smtp_password", text, "SMTP password; usually from OUTAGES_SMTP_PASSWORD_FILE.", secret=True),
    Setting("mail_from", text, "Sender of the hub's e-mail, `Name <address>` or an address."),
    Setting("public_url", text, "Base URL of the hub's site, for links in e-mail (relay confirmation, record pages)."),
    Setting("secret_key", text, "Key that signs links in e-mail (relay confirmation) and the console's sessions; "
            "without it no links are sent and /ops answers 503.",
            secret=True),
    Setting("mail_give_up", duration_hours, "How long a message is retried before it is marked failed: 24h, 90m, "
            "2d or a number of hours (default 24h)."),
    Setting("mail_reporters", yes_no, "Also mail the form's e-mail address: the record number, or why the row was "
            "rejected (default false)."),
    Setting("display_max_chars", display_chars, "Longest text of one field (summary, cause, impact, addresses, an "
            "update) shown on public pages, feeds, the API and in e-mail; longer text is cut at a word with «…». The "
            "store keeps the full text."),
    # Residents' channels (docs/subscriptions.md).
    Setting("telegram_bot_token", text, "The Telegram bot's token from BotFather; empty: no channel posts, no bot.",
            secret=True),
    Setting("telegram_channel", text, "The city's Telegram channel (@name or -100… id) the bot posts every public "
            "record to; empty: no channel posts. An @name is linked from every page."),
    Setting("telegram_bot_name", bot_name, "The bot's public user name (@city_outages_bot), linked from every page "
            "for residents to subscribe in Telegram; empty: no link. The token alone does not say it."),
    Setting("telegram_api_url", text, "Base URL of the Telegram Bot API (a test server can stand in for it)."),
    Setting("quiet_hours", text, "City-time hours when residents get no planned-works news (emergencies still go), "
            "HH:MM-HH:MM; empty: none (default 22:00-07:00)."),
    Setting("subscribe_limit", whole_number, "Sign-ups one client address may make per hour on /subscribe "
            "(default 5)."),
    Setting("behind_proxy", yes_no, "The site runs behind one reverse proxy (deploy/nginx.conf) that sets "
            "X-Forwarded-For and X-Forwarded-Proto: the app takes the client's address from the last hop of them "
            "(default true, as shipped; `outages serve` listens on 127.0.0.1). false when clients reach gunicorn "
            "directly, or one could name any address."),
    Setting("hotline", text, "The contact centre's hotline, shown in every message to officials and on every page "
            "as a tel: link."),
    Setting("ops_session_minutes", session_minutes, "Minutes a console (/ops) session lasts without a request "
            "before its person must sign in again (1–1440, default 30)."),
    Setting("form_url", text, "The dispatchers' Google Form, linked in every mail that asks the utility to enter an "
            "update (a passed term); empty: not linked."),
]

# Settings a city gives only in its TOML file, and the shape of each. Their defaults, where they have any, are in
# defaults.toml with every other default.
STRUCTURED: dict[str, type] = {
    "columns": dict, "rules": dict, "notify": dict, "routing": dict, "delivery": dict,
    "districts": list, "services": list, "utilities": list, "streets": list, "recipients": list, "webhooks": list,
    "reports": dict,
    "cache_seconds": float, "cache_check_seconds": float, "cache_max_mb": float, "publish_keep_mb": float,
}
# Tables whose every key is named in defaults.toml: any other key is a typo, refused when the settings load.
CLOSED_TABLES = ("notify", "rules", "columns", "reports")

# Fields of the record, in sheet order; the keys of [columns].
FIELDS = (
    "recorded_at", "executor", "kind", "action", "reference", "service", "districts", "addresses", "summary",
    "cause", "impact", "expected_end", "event_at", "contact_name", "contact_phone", "reporter_email",
)
# Columns a response sheet must have to be usable at all (action/reference/contacts may be absent).
REQUIRED_COLUMNS = ("recorded_at", "executor", "kind", "service", "districts", "summary", "event_at", "expected_end")


@dataclass(frozen=True)
class Rules:
    emergency_max_delay_minutes: float
    planned_min_lead_hours: float
    clock_skew_minutes: float
    required_fields: tuple[str, ...]
    # Implausible times: an event this many days before its entry, or anything before earliest_date.
    max_event_age_days: float = 31.0
    earliest_date: datetime | None = None


class Settings:
    """Effective settings. Scalars are attributes (settings.timezone); structured parts are typed."""

    def __init__(self, data: Mapping[str, Any], sources: Mapping[str, str], config_file: Path | None = None) -> None:
        self.data = dict(data)
        self.config_file = config_file  # the city's TOML file in force, if any
        self.sources = dict(sources)  # key -> where its value came from (default, file, env, env file)
        try:
            self.tz = ZoneInfo(str(self.data["timezone"]))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"OUTAGES_TIMEZONE / timezone: unknown time zone {self.data['timezone']!r}") from exc
        self.columns = _columns(self.data.get("columns", {}))
        self.rules = _rules(self.data.get("rules", {}), self.tz)
        self.districts = _catalog("districts", self.data.get("districts", []))
        self.services = _catalog("services", self.data.get("services", []))
        self.utilities = _catalog("utilities", self.data.get("utilities", []), required=False)
        try:
            self.streets = streets.load(self.data.get("streets", []))
        except ValueError as exc:
            raise SettingsError(str(exc)) from exc
        if not self.districts:
            raise SettingsError("districts: the city needs at least one [[districts]] entry")
        if not self.services:
            raise SettingsError("services: the city needs at least one [[services]] entry")
        from outages.transports.webhook_config import (  # late: notify imports settings
            WebhookSettingError,
            parse_webhooks,
        )

        try:
            self.webhooks = parse_webhooks(self.data.get("webhooks", []))
        except WebhookSettingError as exc:
            raise SettingsError(str(exc)) from exc

    def with_values(self, **changed: Any) -> Settings:
        """A copy with these scalars changed (the demo's `send --catch` points mail at its catcher); its options
        objects are built anew."""
        return Settings(dict(self.data, **changed), dict(self.sources, **dict.fromkeys(changed, "command")),
                        self.config_file)

    def built(self, build: Callable[[Settings], T]) -> T:
        """What `build` makes of these settings (an options object), made once: settings never change after they
        load, so every caller shares one object instead of reading the tables again."""
        made = self.__dict__.setdefault("_built", {})
        if build not in made:
            made[build] = build(self)
        return made[build]

    def __getattr__(self, key: str) -> Any:
        data = self.__dict__.get("data", {})
        if key in data:
            return data[key]
        raise AttributeError(key)

    def masked(self) -> dict[str, Any]:
        """The effective settings for display, secrets masked."""
        out = {}
        for setting in SETTINGS:
            value = self.data.get(setting.key)
            if setting.secret and value not in (None, ""):
                value = mask(setting.key, value)
            out[setting.key] = value
        for key, value in self.data.items():
            if key not in out:
                out[key] = value
        if isinstance(out.get("webhooks"), list):  # each webhook's shared secret is a secret too
            out["webhooks"] = [dict(item, secret="***") if isinstance(item, dict) and item.get("secret") else item
                               for item in out["webhooks"]]
        return out


def mask(key: str, value: Any) -> str:
    if key.endswith("url"):
        # Keep the URL readable, hide only its password.
        from sqlalchemy.engine import make_url

        try:
            return make_url(str(value)).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001  (not a SQLAlchemy URL: mask all of it)
            return "***"
    return "***"


def _columns(raw: Mapping[str, Any]) -> dict[str, str]:
    columns = {}  # a field the hub does not know was refused by check_file
    for field_name in FIELDS:
        header = raw.get(field_name)
        if not isinstance(header, str) or not header.strip():
            raise SettingsError(f"columns.{field_name}: expected the column header as text")
        columns[field_name] = header.strip()
    return columns


def _rules(raw: Mapping[str, Any], tz: ZoneInfo) -> Rules:
    def positive(key: str) -> float:
        value = raw.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise SettingsError(f"rules.{key}: expected a non-negative number, got {value!r}")
        return float(value)

    required = raw.get("required_fields", [])
    bad = [name for name in required if name not in FIELDS]
    if not isinstance(required, list) or bad:
        raise SettingsError(f"rules.required_fields: unknown field(s) {bad}; known: {', '.join(FIELDS)}")
    return Rules(
        emergency_max_delay_minutes=positive("emergency_max_delay_minutes"),
        planned_min_lead_hours=positive("planned_min_lead_hours"),
        clock_skew_minutes=positive("clock_skew_minutes"),
        required_fields=tuple(required),
        max_event_age_days=positive("max_event_age_days"),
        earliest_date=_earliest(raw.get("earliest_date"), tz),
    )


def _earliest(value: Any, tz: ZoneInfo) -> datetime | None:
    """rules.earliest_date: a TOML date (2020-01-01) or day-first text («01.01.2020»); midnight in the city."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=tz)
    if isinstance(value, str):
        try:
            return datetime.combine(datetime.strptime(value.strip(), "%d.%m.%Y").date(), time(), tzinfo=tz)
        except ValueError:
            pass
    raise SettingsError(f"rules.earliest_date: expected a date such as 2020-01-01 or «01.01.2020», got {value!r}")


def _catalog(what: str, raw: Any, required: bool = True) -> Catalog:
    if not isinstance(raw, list):
        raise SettingsError(f"{what}: expected a list of [[{what}]] tables")
    entries = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            item = {"name": item}
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise SettingsError(f"{what}[{index}]: every entry needs a name")
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise SettingsError(f"{what}[{index}].aliases: expected a list of text")
        entries.append(Entry(name=name.strip(), aliases=tuple(aliases), en=str(item.get("en", ""))))
    try:
        return Catalog(what, tuple(entries))
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (lists included) replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def defaults() -> dict[str, Any]:
    text = resources.files("outages").joinpath("defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def config_path(environ: Mapping[str, str]) -> Path | None:
    named = environ.get(CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsError(f"{CONFIG_ENV}: no such file {named}")
        return path
    local = Path(LOCAL_CONFIG)
    return local if local.is_file() else None


def load(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """Read the effective settings; raise SettingsError naming the bad setting."""
    environ = os.environ if environ is None else environ
    data = defaults()
    sources = {key: "default" for key in data}
    path = path or config_path(environ)
    if path is not None:
        try:
            overrides = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{CONFIG_ENV}: cannot read {path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
        check_file(overrides, data, path)
        data = _merge(data, overrides)
        sources.update({key: str(path) for key in overrides})
    for setting in SETTINGS:
        raw, origin = _from_env(setting, environ)
        if raw is None:
            raw = data.get(setting.key)
            if raw is None:
                continue
            origin = sources.get(setting.key, "default")
        try:
            data[setting.key] = coerce(setting.type, raw)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{setting.env} ({origin}): {exc}") from exc
        sources[setting.key] = origin
    return Settings(data, sources, path)


def check_file(overrides: Mapping[str, Any], base: Mapping[str, Any], path: Path) -> None:
    """Refuse what a city's file says that the hub does not know or cannot use: an unknown key, a table where a
    value belongs (or the reverse), a value of another type than its default. The message names key and file."""
    scalars = {setting.key for setting in SETTINGS}
    for key, value in overrides.items():
        if key not in scalars and key not in STRUCTURED:
            known = ", ".join(sorted(scalars | set(STRUCTURED)))
            raise SettingsError(f"{path}: «{key}»: невідомий ключ / unknown key (known: {known})")
        shape = STRUCTURED.get(key)
        if shape is dict and not isinstance(value, dict):
            raise SettingsError(f"{path}: «{key}»: очікується таблиця / expected a [{key}] table, got {value!r}")
        if shape is list and not isinstance(value, list):
            raise SettingsError(f"{path}: «{key}»: очікується список / expected [[{key}]] tables, got {value!r}")
        if shape is float and not _is_sane(value):
            raise SettingsError(f"{path}: «{key}»: очікується число від 0 до {LARGEST:.0e} / expected a number from 0"
                                f" to {LARGEST:.0e}, got {value!r}")
        if key in CLOSED_TABLES and isinstance(value, dict):
            for name, item in value.items():
                if name not in base[key]:
                    raise SettingsError(f"{path}: [{key}] «{name}»: невідомий ключ / unknown key "
                                        f"(known: {', '.join(base[key])})")
                if _is_number(base[key][name]) and not _is_sane(item):  # other values: their table's parser
                    raise SettingsError(f"{path}: [{key}] «{name}»: очікується число від 0 до {LARGEST:.0e}"
                                        f" / expected a number from 0 to {LARGEST:.0e}, got {item!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# No number of the file needs more (a billion seconds is 31 years); 1e308 overflowed a timedelta deep in the mail
# options and was reported against the wrong setting. Negative waits, counts and limits mean nothing.
LARGEST = 1e9


def _is_sane(value: Any) -> bool:
    return _is_number(value) and 0 <= value <= LARGEST


def _from_env(setting: Setting, environ: Mapping[str, str]) -> tuple[str | None, str]:
    if setting.env in environ:
        return environ[setting.env], setting.env
    file_var = setting.env + "_FILE"
    if setting.secret and file_var in environ:
        try:
            return Path(environ[file_var]).read_text(encoding="utf-8").strip(), file_var
        except OSError as exc:
            raise SettingsError(f"{file_var}: cannot read {environ[file_var]}: {exc.strerror}") from exc
    return None, ""
