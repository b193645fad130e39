"""From a sheet row (header -> value) to a Submission, with every problem explained in Ukrainian."""

from __future__ import annotations

import hashlib
import marshal
import re
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from outages.records.model import Action, Kind, RowValues, SheetRow, SheetTable, Submission
from outages.records.verdict import quote, suggest
from outages.settings import FIELDS, REQUIRED_COLUMNS, Settings
from outages.text import clean, fold, one_line
from outages.times import TimeError, parse_datetime, wall_time


class UnusableInput(Exception):
    """The input as a whole cannot be processed (wrong columns, not a table). Nothing is written."""


KINDS = {
    "аварійна ситуація": Kind.EMERGENCY, "аварійні роботи": Kind.EMERGENCY, "аварія": Kind.EMERGENCY,
    "аварійна": Kind.EMERGENCY, "надзвичайна ситуація": Kind.EMERGENCY, "emergency": Kind.EMERGENCY,
    "планові роботи": Kind.PLANNED, "планова робота": Kind.PLANNED, "планові": Kind.PLANNED,
    "планове відключення": Kind.PLANNED, "planned": Kind.PLANNED, "planned works": Kind.PLANNED,
}
ACTIONS = {
    "": Action.NEW, "нове повідомлення": Action.NEW, "нове": Action.NEW, "new": Action.NEW,
    "оновлення": Action.UPDATE, "оновити": Action.UPDATE, "зміна терміну": Action.UPDATE, "update": Action.UPDATE,
    "ліквідовано": Action.RESOLVE, "ліквідація": Action.RESOLVE, "завершено": Action.RESOLVE,
    "усунуто": Action.RESOLVE, "resolved": Action.RESOLVE, "resolve": Action.RESOLVE,
}
# The fields as the form's questions name them: a verdict tells the dispatcher which question to fix. (Officials'
# mail labels changes in words of its own: event_mail.NEWS_FIELD_UK.)
FORM_FIELD_UK = {
    "recorded_at": "позначка часу", "executor": "виконавець", "kind": "тип", "action": "дія",
    "reference": "номер повідомлення", "service": "послуга", "districts": "район", "addresses": "адреси",
    "summary": "коротка інформація", "cause": "причини виникнення", "impact": "наслідки для мешканців",
    "expected_end": "термін ліквідації", "event_at": "час настання події",
    "contact_name": "відповідальна особа", "contact_phone": "контактний телефон",
    "reporter_email": "адреса електронної пошти",
}
# Google Sheets holds at most 50,000 characters in a cell: anything longer did not come from the form.
MAX_CELL_CHARS = 50_000
# What a mistyped kind or action is compared against: every accepted spelling, offered by its form name.
_KIND_NAMES = {spelling: kind.uk for spelling, kind in KINDS.items()}
_ACTION_NAMES = {spelling: action.uk for spelling, action in ACTIONS.items() if spelling}
_REFERENCE = re.compile(r"^(?:№|n|no\.?|#)?\s*(\d{1,9})(?:\.0+)?$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Districts come comma-separated from Google Forms checkboxes; people also use ';' and new lines.
_LIST_SPLIT = re.compile(r"[,;\n]+")


class HeaderMap:
    """Which column holds which field, found by header text (case and spacing forgiven)."""

    def __init__(self, table_headers: tuple[str, ...], settings: Settings) -> None:
        self.tz = settings.tz
        by_fold: dict[str, str] = {}
        columns: dict[str, list[int]] = {}  # folded header -> its column indexes
        for index, header in enumerate(table_headers):
            by_fold.setdefault(fold(header), header)
            columns.setdefault(fold(header), []).append(index)
        self.header_of: dict[str, str] = {}
        self.column_of: dict[str, int] = {}
        missing, doubled = [], []
        for field_name in FIELDS:
            wanted = settings.columns[field_name]
            found = by_fold.get(fold(wanted))
            if found is not None:
                self.header_of[field_name] = found
                self.column_of[field_name] = columns[fold(wanted)][0]
                if len(columns[fold(wanted)]) > 1:
                    # Which one would the dispatcher mean? Reading the first and dropping the second loses data.
                    letters = " і ".join(column_letter(i) for i in columns[fold(wanted)])
                    doubled.append(f"стовпці {letters} мають однаковий заголовок «{found}», який відповідає"
                                   f" налаштуванню columns.{field_name}")
            elif field_name in REQUIRED_COLUMNS:
                missing.append(f"«{wanted}» (setting columns.{field_name})")
        if doubled:
            raise UnusableInput(
                "Таблицю не прийнято: " + "; ".join(doubled)
                + ". Перейменуйте або видаліть зайвий стовпець. / Two columns map to the same setting;"
                + " rename or remove one of them."
            )
        # The fingerprint covers the columns the content hash reads; the mapping and the zone are its key, so a
        # change of either makes every row be hashed afresh.
        self._mapped = tuple(self.header_of.values())
        self.fingerprinted = tuple(self.header_of.get(name, "\x00" + name) for name in _HASHED)
        self.fingerprint_key = hashlib.blake2b(
            "\x1f".join((str(self.tz), *self.fingerprinted)).encode("utf-8", "surrogatepass"), digest_size=32,
        ).digest()
        self.fingerprint_hasher = hashlib.blake2b(digest_size=16, key=self.fingerprint_key)
        if missing:
            raise UnusableInput(
                "У таблиці немає обов'язкових стовпців: " + ", ".join(missing)
                + ". Перейменуйте стовпці або вкажіть свої заголовки в секції [columns] конфігурації."
                + " / Missing required columns; map your headers in the [columns] settings."
            )

    def letter_of(self, field_name: str) -> str:
        """The field's column as the sheet names it: A, B, …, AA."""
        return column_letter(self.column_of[field_name])

    def get(self, values: Mapping[str, Any], field_name: str) -> Any:
        header = self.header_of.get(field_name)
        return None if header is None else values.get(header)

    def fields(self, row: SheetRow) -> dict[str, Any]:
        """The row's value of every mapped field, looked up once (hashing and parsing a row both read them all)."""
        values = row.values
        if type(values) is RowValues:
            return dict(zip(self.header_of, values.pick(self._mapped)))
        get = values.get
        return {name: get(header) for name, header in self.header_of.items()}


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def is_blank(row: SheetRow, headers: HeaderMap, fields: Mapping[str, Any] | None = None) -> bool:
    values = headers.fields(row) if fields is None else fields
    return all(map(_blank, values.values()))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def content_hash(row: SheetRow, headers: HeaderMap, fields: Mapping[str, Any] | None = None) -> str:
    """What the dispatcher said, without the form's timestamp (which Google rewrites on every edit).

    Times count by the instant they name, not how they are written: the same sheet read as a CSV export
    («22.11.2026 20:00») and through the API (a serial number, a datetime) is the same content."""
    get = (headers.fields(row) if fields is None else fields).get
    tz = headers.tz
    parts = [_canon_time(get(name), tz) if name in _TIMES else _canon(get(name)) for name in _HASHED]
    payload = "\x1f".join(parts)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


_HASHED = tuple(name for name in FIELDS if name != "recorded_at")


def raw_fingerprint(row: SheetRow, headers: HeaderMap) -> str:
    """A cheap digest of the row's raw cells, taken before any parsing.

    Equal fingerprints mean equal content hashes (the same cells, read through the same columns in the same zone),
    so a row whose fingerprint the store already holds skips parsing and canonical hashing altogether. Different
    fingerprints prove nothing (the same time may be written two ways): such a row is hashed as before. A value's
    type is part of it, since «46348.5» as text and as a serial number are different times. None and "" differ
    here, though they are the same content: that only costs a hash."""
    values = row.values
    memo = type(values) is RowValues
    if memo:
        kept = values.fingerprint
        if kept is not None and kept[0] == headers.fingerprint_key:
            return kept[1]
        cells = values.pick(headers.fingerprinted)
    else:
        cells = tuple(map(values.get, headers.fingerprinted))
    digest = headers.fingerprint_hasher.copy()  # keyed once per table, copied per row
    # Three kinds of payload, each with its own first byte, so that no two kinds can ever be equal.
    try:
        payload = "\x1f".join(cells).encode("utf-8", "surrogatepass")  # an export: text only
        if payload.count(b"\x1f") != len(cells) - 1:  # a cell holds the separator: the join would be ambiguous
            raise TypeError
        digest.update(b"t")
    except TypeError:
        # Numbers or empty cells (the Sheets API, XLSX): marshal (version 2: no back-references, so the same
        # values always give the same bytes) keeps each value's type, telling 46348.5 from «46348.5» and None
        # from "", at a third of repr's cost.
        try:
            payload = marshal.dumps(cells, 2)
            digest.update(b"m")
        except ValueError:  # datetimes (XLSX)
            payload = repr(cells).encode("utf-8", "surrogatepass")
            digest.update(b"r")
    digest.update(payload)
    printed = digest.hexdigest()
    if memo:
        values.fingerprint = (headers.fingerprint_key, printed)
    return printed
_TIMES = ("event_at", "expected_end")


def _canon_time(value: Any, tz: ZoneInfo) -> str:
    if _blank(value):
        return ""
    try:
        return wall_time(value, tz).isoformat()
    except (TimeError, OverflowError, ValueError):
        return _canon(value)


def _canon(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def parse_row(row: SheetRow, headers: HeaderMap, settings: Settings,
              fields: Mapping[str, Any] | None = None) -> Submission:
    """Every field is tried, so the dispatcher learns of all problems at once."""
    tz = settings.tz
    sub = Submission(row=row.number, key=row.identity)
    values = headers.fields(row) if fields is None else fields
    too_long = set()
    for name, value in values.items():
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            too_long.add(name)
            sub.invalid.add(name)
            sub.errors.append(f"Поле «{FORM_FIELD_UK[name]}» ({headers.letter_of(name)}) має {_count(len(value))}"
                              f" символів — більше за межу Google Таблиць у {_count(MAX_CELL_CHARS)}:"
                              " рядок не прийнято")
    # An oversized cell is not read any further: its row is refused, and its text goes nowhere.
    get = values.get if not too_long else lambda name: None if name in too_long else values.get(name)

    raw_kind = fold(get("kind"))
    if raw_kind:
        sub.kind = KINDS.get(raw_kind)
        if sub.kind is None:
            sub.invalid.add("kind")
            sub.errors.append(f"Невідомий тип {quote(get('kind'))}: {suggest(get('kind'), _KIND_NAMES)}")
    raw_action = fold(get("action"))
    sub.action = ACTIONS.get(raw_action)
    if sub.action is None:
        sub.errors.append(f"Невідома дія {quote(get('action'))}: {suggest(get('action'), _ACTION_NAMES)}")

    raw_ref = one_line(get("reference"))
    if raw_ref:
        match = _REFERENCE.match(raw_ref)
        if match and int(match[1]) > 0:
            sub.reference = int(match[1])
        else:
            sub.invalid.add("reference")
            sub.errors.append(f"Номер повідомлення {quote(raw_ref)} має бути цілим числом, наприклад 42")

    sub.executor = one_line(get("executor"))
    if sub.executor and settings.utilities:
        known = settings.utilities.lookup(sub.executor)
        if known is None:
            sub.invalid.add("executor")
            sub.errors.append(f"Невідомий виконавець {quote(sub.executor)} (немає в довіднику міста):"
                              f" {suggest(sub.executor, settings.utilities.spellings)}")
        else:
            sub.executor = known
    sub.service = one_line(get("service"))
    if sub.service:
        known = settings.services.lookup(sub.service)
        if known is None:
            sub.invalid.add("service")
            sub.errors.append(f"Невідома послуга {quote(sub.service)}: "
                              f"{suggest(sub.service, settings.services.spellings)}")
        else:
            sub.service = known
    districts = []
    for part in _LIST_SPLIT.split(clean(get("districts"))):
        if not part.strip():
            continue
        known = settings.districts.lookup(part)
        if known is None:
            sub.invalid.add("districts")
            sub.errors.append(f"Невідомий район {quote(part)}: {suggest(part, settings.districts.spellings)}")
        elif known not in districts:
            districts.append(known)
    sub.districts = tuple(districts)

    for name in ("addresses", "summary", "cause", "impact"):
        setattr(sub, name, clean(get(name)))
    sub.contact_name = one_line(get("contact_name"))
    sub.contact_phone = one_line(get("contact_phone"))
    email = one_line(get("reporter_email"))
    sub.reporter_email = email if _EMAIL.match(email) else ""

    for name, end in (("recorded_at", False), ("event_at", False), ("expected_end", True)):
        value = get(name)
        if _blank(value):
            continue
        try:
            setattr(sub, name, parse_datetime(value, tz, date_only_end=end))
        except TimeError as exc:
            sub.invalid.add(name)
            sub.errors.append(f"{FORM_FIELD_UK[name].capitalize()}: {exc}")
    if sub.recorded_at is None and _blank(get("recorded_at")):
        sub.errors.append("Немає позначки часу внесення (стовпець Google Forms)")
    if not sub.invalid:
        sub.invalid = _NOTHING_INVALID  # an empty set weighs 216 bytes; a first sync holds 100k submissions
    return sub


_NOTHING_INVALID: frozenset[str] = frozenset()


def _count(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")  # 50 000, as Ukrainian writes it


def read_table(table: SheetTable, settings: Settings) -> HeaderMap:
    """Check that a table can be processed at all; raise UnusableInput naming what is missing."""
    if not table.headers or not any(h.strip() for h in table.headers):
        raise UnusableInput("Таблиця порожня: немає рядка заголовків / The table has no header row")
    return HeaderMap(table.headers, settings)
