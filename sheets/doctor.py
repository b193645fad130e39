"""`outages doctor`, the Google side: credentials, access to the sheet, the header mapping.

Each check says plainly what is wrong and how to fix it. Reading the header row costs one request; nothing is
written to the sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

from outages.records.parse import HeaderMap, UnusableInput
from outages.settings import REQUIRED_COLUMNS, Settings
from outages.text import fold
from sheets.client import SheetsError, credentials_info
from sheets.sources import open_source


@dataclass
class Check:
    ok: bool
    what: str
    detail: str = ""
    warning: bool = False  # worth saying, not a failure


def check_source(settings: Settings, spec: str | None = None) -> list[Check]:
    try:
        source = open_source(spec, settings)
    except UnusableInput as exc:
        return [Check(False, "джерело / source", str(exc))]
    label = getattr(source, "label", spec)
    out = [Check(True, "джерело / source", str(label))]
    from sheets.gsheet import GSheetSource

    if isinstance(source, GSheetSource):
        return out + _check_gsheet(settings, source)
    try:
        table = source.pull().table
    except (UnusableInput, SheetsError) as exc:
        return out + [Check(False, "читання / reading", str(exc))]
    return out + [_check_headers(table.headers, settings, len(table.rows))]


def _check_gsheet(settings: Settings, source) -> list[Check]:  # noqa: ANN001
    out = []
    try:
        info = credentials_info(settings)
    except SheetsError as exc:
        return [Check(False, "ключ сервісного акаунта / service account key", str(exc))]
    out.append(Check(True, "ключ сервісного акаунта / service account key", str(info["client_email"])))
    try:
        meta = source.meta()  # the token, then the metadata: proves the key works and the sheet is shared
        headers = source.client.http_client.values_get(
            source.key, f"'{meta.title.replace(chr(39), chr(39) * 2)}'!1:1",
            params={"valueRenderOption": "FORMATTED_VALUE"}).get("values", [[]])
    except SheetsError as exc:
        return out + [Check(False, "доступ до таблиці / sheet access", str(exc))]
    out.append(Check(True, "доступ до таблиці / sheet access",
                     f"«{meta.title}», часовий пояс / time zone {meta.tz.key}"))
    row = [str(h).strip() for h in (headers[0] if headers else [])]
    out.append(_check_headers(tuple(row), settings, None))
    hub = [settings.sheets_number_header, settings.sheets_status_header]
    absent = [h for h in hub if fold(h) not in {fold(x) for x in row}]
    if absent:
        out.append(Check(True, "стовпці хабу / hub columns",
                         "буде створено під час першої синхронізації / will be created by the first sync: "
                         + ", ".join(f"«{h}»" for h in absent), warning=True))
    else:
        out.append(Check(True, "стовпці хабу / hub columns", ", ".join(f"«{h}»" for h in hub)))
    if meta.tz.key != settings.tz.key:
        out.append(Check(True, "часовий пояс / time zone",
                         f"таблиця в {meta.tz.key}, місто в {settings.tz.key}: дати перераховуються, але краще"
                         " однаковий пояс (Файл → Налаштування) / the sheet's zone differs from the city's",
                         warning=True))
    return out


def _check_headers(headers: tuple[str, ...], settings: Settings, rows: int | None) -> Check:
    try:
        HeaderMap(headers, settings)
    except UnusableInput as exc:
        return Check(False, "заголовки стовпців / column headers", str(exc))
    mapped = sum(1 for name in REQUIRED_COLUMNS if settings.columns[name])
    extra = f", рядків / rows: {rows}" if rows is not None else ""
    return Check(True, "заголовки стовпців / column headers",
                 f"усі {mapped} обов'язкових знайдено / all required found{extra}")
