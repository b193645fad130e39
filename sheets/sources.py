"""Where rows come from: a file export (CSV/XLSX), the sheet's published CSV URL, or the live sheet.

`--source` accepts `gsheet:KEY[#WORKSHEET]`, an http(s) CSV URL or a file path; without it the configured source
is used (OUTAGES_SOURCE, else gsheet:OUTAGES_SHEETS_KEY). Every source yields the same SheetTable, so rows from
any of them go through exactly the same path in the core.
"""

from __future__ import annotations

import threading
from typing import Protocol

from outages.records.parse import UnusableInput
from outages.settings import Settings
from outages.worker import Batch
from sheets.files import read_file


class Source(Protocol):
    label: str

    def pull(self) -> Batch: ...


class FileSource:
    def __init__(self, path: str) -> None:
        self.path = path
        self.label = f"file:{path}"

    def pull(self) -> Batch:
        return Batch(read_file(self.path))


def configured_spec(settings: Settings) -> str:
    """The configured source, or UnusableInput saying how to configure one."""
    spec = str(settings.data.get("source") or "").strip()
    if spec:
        return spec
    key = str(settings.data.get("sheets_key") or "").strip()
    if key:
        return f"gsheet:{key}"
    raise UnusableInput(
        "Джерело не задано: вкажіть --source, або OUTAGES_SHEETS_KEY (таблиця відповідей форми), або OUTAGES_SOURCE"
        " (посилання на опублікований CSV чи файл). / No source: pass --source or set OUTAGES_SHEETS_KEY.")


def open_source(spec: str | None, settings: Settings, *, stop: threading.Event | None = None) -> Source:
    spec = (spec or "").strip() or configured_spec(settings)
    if spec.startswith("gsheet:"):
        from sheets.gsheet import GSheetSource  # gspread is loaded only for the live sheet

        key, _, worksheet = spec[len("gsheet:"):].partition("#")
        key = key.strip() or str(settings.data.get("sheets_key") or "").strip()
        if not key:
            raise UnusableInput("gsheet: не вказано ключ таблиці (gsheet:KEY або OUTAGES_SHEETS_KEY) / no key")
        worksheet = worksheet.strip() or str(settings.data.get("sheets_worksheet") or "").strip() or None
        return GSheetSource(settings, key, worksheet, stop=stop)
    if spec.lower().startswith(("http://", "https://")):
        from sheets.published import PublishedCSV

        return PublishedCSV(settings, spec, stop=stop)
    return FileSource(spec)
