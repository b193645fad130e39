"""The gspread client of the hub: service-account credentials, a timeout on every request, a bounded retry.

gspread's own BackOffHTTPClient retries by recursion without end; a worker must instead give up after a few
tries, leave the store unchanged and try again next cycle. Google's base URL is swapped for
OUTAGES_SHEETS_API_URL here, so a test server on 127.0.0.1 can stand in for Google with the real client.
"""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import gspread
import requests
from google.auth import exceptions as auth_errors
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from outages.redact import redact
from outages.settings import Settings

GOOGLE_SHEETS = "https://sheets.googleapis.com"
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
CONNECT_TIMEOUT_MAX = 10.0
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
# A 403 that only says "slow down" (older quota errors) is retried; any other 403 means no access.
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}


class SheetsError(Exception):
    """A Sheets request failed. The message says (Ukrainian, then English) what is wrong and what to do.

    permanent: retrying cannot help (no access, wrong key, bad credentials) — fix the setting first.
    """

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter: waits of about backoff·2ⁿ (half fixed, half random), at most `cap`."""

    retries: int = 5
    backoff: float = 1.0
    cap: float = 32.0
    stop: threading.Event = field(default_factory=threading.Event)

    def wait(self, attempt: int, hint: float | None = None) -> None:
        ceiling = min(self.cap, self.backoff * (2 ** attempt))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if hint is not None:  # Retry-After from Google, bounded by our cap
            delay = max(delay, min(self.cap, hint))
        if self.stop.wait(delay):
            raise SheetsError("Зупинено під час очікування повтору / stopped while waiting to retry")


class HubHTTPClient(HTTPClient):
    """gspread's HTTP client with the hub's base URL, timeout and bounded retry."""

    base_url: str = GOOGLE_SHEETS
    policy: RetryPolicy
    account: str = ""

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        if endpoint.startswith(GOOGLE_SHEETS) and self.base_url != GOOGLE_SHEETS:
            endpoint = self.base_url + endpoint[len(GOOGLE_SHEETS):]
        policy = getattr(self, "policy", None) or RetryPolicy()
        attempt = 0
        while True:
            try:
                return HTTPClient.request(self, method, endpoint, *args, **kwargs)
            except Exception as exc:  # classified below; anything unknown is re-raised as is
                retry, hint, error = self._classify(exc, endpoint)
                if not retry or attempt >= policy.retries:
                    if retry:
                        error = SheetsError(
                            f"Google Sheets: {error} Спроб: {attempt + 1}; наступна — у наступному циклі."
                            f" / Failed {attempt + 1} times; the next cycle retries.", status=error.status)
                    raise error from exc
                policy.wait(attempt, hint)
                attempt += 1

    def _classify(self, exc: Exception, endpoint: str) -> tuple[bool, float | None, SheetsError]:
        key = _key_of(endpoint)
        if isinstance(exc, APIError):
            status = exc.response.status_code
            message = str(exc.error.get("message", "")).strip()[:300]
            if status in RETRY_STATUS or status >= 500 or (status == 403 and _rate_limited(exc.error)):
                return True, _retry_after(exc.response), SheetsError(f"HTTP {status} {message}.", status=status)
            return False, None, _permanent(status, message, key, self.account)
        if isinstance(exc, requests.Timeout):
            return True, None, SheetsError(f"немає відповіді за {self.timeout} с (timeout).")
        if isinstance(exc, requests.ConnectionError):
            return True, None, SheetsError(f"немає з'єднання (connection failed: {_first_line(exc)}).")
        if isinstance(exc, auth_errors.RefreshError):
            return True, None, SheetsError(
                f"Google не видав токен доступу ({_first_line(exc)}): перевірте ключ сервісного акаунта"
                " (OUTAGES_GOOGLE_CREDENTIALS_FILE) — чи його не видалено — і годинник сервера. / token refresh"
                " failed: check the service account key and the server clock.")
        if isinstance(exc, auth_errors.TransportError):
            return True, None, SheetsError(f"немає зв'язку з сервером токенів ({_first_line(exc)}).")
        raise exc


def _permanent(status: int, message: str, key: str, account: str) -> SheetsError:
    if status == 403:
        who = f" {account}" if account else ""
        text = (f"Немає доступу до таблиці {key}: відкрийте її для сервісного акаунта{who} з правом редагування"
                f" (Поділитися → Редактор). / The service account{who} cannot open the spreadsheet: share it with"
                " the account as Editor.")
    elif status == 404:
        text = (f"Таблицю {key} не знайдено: перевірте OUTAGES_SHEETS_KEY (частина адреси таблиці між /d/ і /edit)."
                " / Spreadsheet not found: check OUTAGES_SHEETS_KEY.")
    elif status == 401:
        text = ("Google не приймає облікові дані сервісного акаунта: створіть новий ключ і вкажіть його в"
                " OUTAGES_GOOGLE_CREDENTIALS_FILE. / Credentials rejected: create a new key.")
    else:
        text = f"Google відхилив запит (HTTP {status}): {message} / Google rejected the request."
    return SheetsError(text, permanent=True, status=status)


def _rate_limited(error: Any) -> bool:
    reasons = {e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)}
    reasons |= {d.get("reason") for d in error.get("details", []) if isinstance(d, dict)}
    return bool(reasons & RATE_LIMIT_REASONS)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _key_of(endpoint: str) -> str:
    match = re.search(r"/spreadsheets/([^/:?]+)", endpoint)
    return match[1] if match else "?"


def _first_line(exc: Exception) -> str:
    # requests and urllib3 quote the URL they failed on: a published sheet's token must not reach the message.
    text = redact(str(exc.args[0] if exc.args and isinstance(exc.args[0], str) else exc)).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def credentials_info(settings: Settings) -> dict[str, Any]:
    """The service account's key as a dict; SheetsError(permanent) saying how to fix it when it is unusable."""
    raw = str(settings.data.get("google_credentials") or "").strip()
    if not raw:
        raise SheetsError(
            "Не задано ключ сервісного акаунта Google: вкажіть шлях до JSON-ключа в OUTAGES_GOOGLE_CREDENTIALS_FILE"
            " (див. docs/google-form.md). / No service account key: set OUTAGES_GOOGLE_CREDENTIALS_FILE.",
            permanent=True)
    if not raw.startswith("{"):
        try:
            raw = Path(raw).read_text(encoding="utf-8")
        except OSError as exc:
            raise SheetsError(f"Не вдається прочитати ключ «{raw}»: {exc.strerror} / cannot read the key file",
                              permanent=True) from None
    try:
        info = json.loads(raw)
    except json.JSONDecodeError:
        raise SheetsError("Ключ сервісного акаунта — не JSON: завантажте ключ у форматі JSON з Google Cloud Console."
                          " / The key is not JSON.", permanent=True) from None
    missing = [k for k in ("client_email", "private_key", "token_uri") if not (isinstance(info, dict) and info.get(k))]
    if not isinstance(info, dict) or info.get("type") != "service_account" or missing:
        raise SheetsError(
            "Це не ключ сервісного акаунта (потрібен JSON з type=service_account, client_email, private_key,"
            f" token_uri; бракує: {', '.join(missing) or 'type'}). / Not a service account key.", permanent=True)
    return info


def make_client(settings: Settings, stop: threading.Event | None = None) -> gspread.Client:
    """A gspread client whose every request has a timeout and a bounded retry."""
    info = credentials_info(settings)
    try:
        creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    except ValueError as exc:
        raise SheetsError(f"Ключ сервісного акаунта пошкоджено ({_first_line(exc)}): створіть новий ключ."
                          " / The service account key is malformed.", permanent=True) from None
    client = gspread.Client(auth=creds, http_client=HubHTTPClient)
    http = client.http_client
    assert isinstance(http, HubHTTPClient)
    http.base_url = str(settings.sheets_api_url).rstrip("/")
    http.account = str(info["client_email"])
    http.policy = RetryPolicy(retries=max(0, settings.sheets_retries), backoff=max(0.0, settings.sheets_backoff),
                              stop=stop or threading.Event())
    read = float(settings.sheets_timeout)
    http.set_timeout((min(CONNECT_TIMEOUT_MAX, read), read))
    return client


def plain_retry(fetch: Callable[[], requests.Response], policy: RetryPolicy, what: str) -> requests.Response:
    """The same bounded retry for plain HTTP (the published CSV): 408/429/5xx and timeouts are retried."""
    attempt = 0
    while True:
        try:
            response = fetch()
            if response.status_code not in RETRY_STATUS and response.status_code < 500:
                return response
            problem, hint = f"HTTP {response.status_code}", _retry_after(response)
        except (requests.Timeout, requests.ConnectionError) as exc:
            problem, hint = _first_line(exc), None
        if attempt >= policy.retries:
            raise SheetsError(f"{what} не відповідає після {attempt + 1} спроб ({problem}); наступна спроба — у"
                              f" наступному циклі. / {what} failed {attempt + 1} times.")
        policy.wait(attempt, hint)
        attempt += 1
