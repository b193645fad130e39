"""The credential-free source: the sheet's "Publish to the web" CSV link (read only: no verdicts written back).

Google serves the published CSV as the sheet shows it (dates formatted in the spreadsheet's locale), so the
rows go through the same day-first parsing as a file export.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import requests

from outages.records.parse import UnusableInput
from outages.settings import Settings
from outages.worker import Batch
from sheets.client import CONNECT_TIMEOUT_MAX, RetryPolicy, SheetsError, plain_retry
from sheets.files import table_from_csv


class PublishedCSV:
    def __init__(self, settings: Settings, url: str, *, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.url = url
        self.policy = RetryPolicy(retries=max(0, settings.sheets_retries), backoff=max(0.0, settings.sheets_backoff),
                                  stop=stop or threading.Event())
        self.session = requests.Session()

    @property
    def label(self) -> str:
        # The path of a published link is its only secret: show where it points, not all of it.
        parts = urlsplit(self.url)
        tail = parts.path[-12:] if len(parts.path) > 12 else parts.path
        return f"csv:{parts.scheme}://{parts.netloc}/…{tail}"

    def pull(self) -> Batch:
        read = float(self.settings.sheets_timeout)
        response = plain_retry(
            lambda: self.session.get(self.url, timeout=(min(CONNECT_TIMEOUT_MAX, read), read)),
            self.policy, "Опублікована таблиця / the published sheet")
        if response.status_code in (401, 403, 404):
            raise SheetsError(
                f"Опубліковану таблицю не знайдено або її закрито (HTTP {response.status_code}): опублікуйте аркуш"
                " відповідей як CSV (Файл → Поділитися → Опублікувати в інтернеті) і вкажіть нове посилання."
                " / The published CSV link does not work.", permanent=True, status=response.status_code)
        if response.status_code >= 400:
            raise SheetsError(f"Опублікована таблиця: HTTP {response.status_code} / the published sheet failed",
                              permanent=True, status=response.status_code)
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind == "text/html":
            raise UnusableInput(
                "За посиланням веб-сторінка, а не CSV: опублікуйте аркуш у форматі «Значення, розділені комами"
                " (.csv)». / The link gives a web page, not CSV.")
        return Batch(table_from_csv(response.content, self.label))
