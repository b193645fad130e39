"""The HTTP side: routes checked against the discovery document, auth, faults, hooks, the OAuth token endpoint."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

from .discovery import Discovery
from .model import (
    FakeSheet,
    FakeSpreadsheet,
    Fault,
    _ApiError,
    _batch_update,
    _filled,
    _merge,
    _metadata,
    _render,
    _shown,
    _sort_key,
    _value_range,
    _values_batch_update,
)

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                408: "DEADLINE_EXCEEDED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
# Methods this fake serves (discovery ids without the "sheets." prefix).
SERVED = ("spreadsheets.get", "spreadsheets.batchUpdate", "spreadsheets.values.get",
          "spreadsheets.values.batchGet", "spreadsheets.values.batchUpdate")




class FakeSheets:
    """Start with `with FakeSheets() as fake:`; `fake.base_url` is what OUTAGES_SHEETS_API_URL should be."""

    def __init__(self, *, check_responses: bool = True) -> None:
        self.discovery = Discovery()
        # Tests hold the fake's own answers to the discovery document too; a benchmark turns that off, since
        # checking a 10k-row answer value by value is the fake's work, not Google's and not the hub's.
        self.check_responses = check_responses
        self.books: dict[str, FakeSpreadsheet] = {}
        self.keys: dict[str, str] = {}  # private_key_id -> public key PEM
        self.tokens: dict[str, str] = {}  # access token -> who
        self.counts: Counter[tuple[str, str]] = Counter()
        self.log: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.refused: list[str] = []  # CONNECT requests to other hosts (see _Handler.do_CONNECT)
        self.faults: list[Fault] = []
        self.hooks: list[tuple[str, Callable[[], None], list[int]]] = []
        self.lock = threading.RLock()
        self.closing = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    # lifecycle
    def __enter__(self) -> "FakeSheets":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # set-up
    def add_spreadsheet(self, key: str, grid: list[list[Any]], *, title: str = "Відповіді форми",
                        sheet_title: str = "Відповіді форми (1)", time_zone: str = "Europe/Kyiv",
                        shared_with: set[str] | None = None, column_count: int | None = None,
                        row_count: int = 1000) -> FakeSpreadsheet:
        width = max([len(r) for r in grid] + [1])
        sheet = FakeSheet(sheet_id=int(uuid.uuid4().int % 2_000_000_000), title=sheet_title,
                          rows=[list(r) for r in grid], row_count=max(row_count, len(grid)),
                          column_count=column_count or width)
        book = FakeSpreadsheet(key, title, time_zone, "uk_UA", [sheet], set(shared_with or ()))
        self.books[key] = book
        return book

    def service_account(self, email: str = "hub@outages-test.iam.gserviceaccount.com") -> dict[str, str]:
        """A service-account key (a fresh RSA key) whose token_uri is this fake."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        key_id = uuid.uuid4().hex
        self.keys[key_id] = public
        return {"type": "service_account", "project_id": "outages-test", "private_key_id": key_id,
                "private_key": pem, "client_email": email, "client_id": "1",
                "token_uri": f"{self.base_url}/token"}

    def static_token(self, token: str, who: str) -> str:
        self.tokens[token] = who
        return token

    def fail(self, route: str, status: int | None, times: int = 1, *, delay: float = 0.0,
             who: str | None = None) -> None:
        self.faults.append(Fault(route, status, times, delay, who))

    def after(self, route: str, hook: Callable[[], None], times: int = 1) -> None:
        """Run `hook` after the next `times` answers to `route` were composed (before they are sent)."""
        self.hooks.append((route, hook, [times]))

    # what the log tells
    def calls(self, who: str | None = None) -> list[str]:
        with self.lock:
            return [e["route"] for e in self.log if who is None or e["who"] == who]

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()
            self.counts.clear()

    # the sheet as a person sees and changes it
    def sheet(self, key: str, index: int = 0) -> FakeSheet:
        return self.books[key].sheets[index]

    def header(self, key: str) -> list[str]:
        return [str(v) for v in self.sheet(key).rows[0]]

    def column(self, key: str, header: str) -> list[Any]:
        """A column's cells below the header, as shown (dates formatted), "" where empty."""
        sheet = self.sheet(key)
        col = self.header(key).index(header)
        return [_shown(r[col]) if col < len(r) else "" for r in sheet.rows[1:]]

    def row(self, key: str, number: int) -> dict[str, Any]:
        sheet = self.sheet(key)
        cells = sheet.rows[number - 1] if number - 1 < len(sheet.rows) else []
        return {h: (_shown(cells[i]) if i < len(cells) else "") for i, h in enumerate(self.header(key)) if h}

    def append_form_row(self, key: str, values: dict[str, Any]) -> int:
        """What Google Forms does on a submission: the first empty row after the last response."""
        with self.lock:
            sheet = self.sheet(key)
            headers = self.header(key)
            last = max((i for i, r in enumerate(sheet.rows) if any(_filled(c) for c in r)), default=0)
            cells = [values.get(h, "") for h in headers]
            while len(sheet.rows) <= last + 1:
                sheet.rows.append([])
            sheet.rows[last + 1] = _merge(sheet.rows[last + 1], cells)
            sheet.row_count = max(sheet.row_count, len(sheet.rows))
            return last + 2

    def set_cell(self, key: str, row: int, header: str, value: Any) -> None:
        with self.lock:
            sheet = self.sheet(key)
            col = self.header(key).index(header)
            cells = sheet.rows[row - 1]
            cells.extend([""] * (col + 1 - len(cells)))
            cells[col] = value

    def sort_rows(self, key: str, header: str, reverse: bool = False) -> None:
        """Data → Sort range (A2:end) by one column: whole rows move, hub columns with them."""
        with self.lock:
            sheet = self.sheet(key)
            col = self.header(key).index(header)
            body = sheet.rows[1:]
            body.sort(key=lambda r: _sort_key(r[col] if col < len(r) else ""), reverse=reverse)
            sheet.rows[1:] = body

    def delete_row(self, key: str, number: int) -> None:
        with self.lock:
            del self.sheet(key).rows[number - 1]

    def insert_row(self, key: str, number: int, cells: list[Any] | None = None) -> None:
        with self.lock:
            self.sheet(key).rows.insert(number - 1, list(cells or []))



# --- the HTTP side ------------------------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeSheets/1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_CONNECT(self) -> None:
        # Tests point HTTPS_PROXY here, so a library reaching for any other Google host (google-auth's
        # background regional-access-boundary lookup) is refused on loopback instead of leaving the machine.
        fake: FakeSheets = self.server.fake  # type: ignore[attr-defined]
        with fake.lock:
            fake.refused.append(self.path)
        self.send_response(403, "Refused by the fake Sheets server")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, verb: str) -> None:
        fake: FakeSheets = self.server.fake  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parts.path == "/token" and verb == "POST":
            self._token(fake, raw)
            return
        if parts.path.startswith("/published/") and verb == "GET":
            self._published(fake, parts.path)
            return
        matched = fake.discovery.match(verb, parts.path)
        if matched is None:
            fake.violations.append(f"{verb} {parts.path}: no such method in the Sheets v4 discovery document")
            self._send(404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})
            return
        mid, path_params = matched
        route = mid
        params = parse_qs(parts.query, keep_blank_values=True)
        problems = fake.discovery.check_params(mid, params)
        method = fake.discovery.methods[mid]
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                problems.append(f"{mid}: body is not JSON")
        if body is not None and "request" in method:
            problems += fake.discovery.check(body, method["request"], mid + ".body")
        who = fake.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer ").strip())
        with fake.lock:
            fake.counts[(who or "?", route)] += 1
            fake.log.append({"who": who, "route": route, "verb": verb, "path": parts.path, "params": params,
                             "body": body})
        if problems:
            fake.violations.extend(problems)
            self._error(400, "; ".join(problems))
            return
        if mid not in SERVED:
            fake.violations.append(f"{mid}: real Sheets method, not served by the fake")
            self._error(501, f"fake does not serve {mid}")
            return
        if who is None:
            self._error(401, "Request had invalid authentication credentials.")
            return
        if self._fault(fake, route, who):
            return
        try:
            with fake.lock:
                answer = self._answer(fake, mid, path_params, params, body, who)
                if "response" in method and fake.check_responses:
                    fake.violations.extend(fake.discovery.check(answer, method["response"], mid + ".response"))
                self._hooks(fake, route)
        except _ApiError as exc:
            self._error(exc.code, exc.message)
            return
        self._send(200, answer)

    def _fault(self, fake: FakeSheets, route: str, who: str | None) -> bool:
        with fake.lock:
            fault = next((f for f in fake.faults if f.route == route and f.times > 0 and f.who in (None, who)), None)
            if fault:
                fault.times -= 1
        if fault is None:
            return False
        if fault.delay:
            fake.closing.wait(fault.delay)
        if fault.status is None:
            return False
        self._error(fault.status, {429: "Quota exceeded for quota metric 'Read requests' per minute per user.",
                                   500: "Internal error encountered.", 503: "The service is currently unavailable."
                                   }.get(fault.status, "Injected fault"))
        return True

    def _hooks(self, fake: FakeSheets, route: str) -> None:
        for hook_route, hook, left in fake.hooks:
            if hook_route == route and left[0] > 0:
                left[0] -= 1
                hook()

    def _answer(self, fake: FakeSheets, mid: str, path_params: dict[str, str], params: dict[str, list[str]],
                body: Any, who: str) -> dict[str, Any]:
        book = fake.books.get(path_params.get("spreadsheetId", ""))
        if book is None:
            raise _ApiError(404, "Requested entity was not found.")
        if who not in book.shared_with and "*" not in book.shared_with:
            raise _ApiError(403, "The caller does not have permission")
        one = lambda name, default=None: params.get(name, [default])[0]  # noqa: E731
        if mid == "spreadsheets.get":
            return _metadata(book)
        if mid == "spreadsheets.values.get":
            return _value_range(book, path_params["range"], one("valueRenderOption", "FORMATTED_VALUE"),
                                one("dateTimeRenderOption", "SERIAL_NUMBER"))
        if mid == "spreadsheets.values.batchGet":
            return {"spreadsheetId": book.key, "valueRanges": [
                _value_range(book, r, one("valueRenderOption", "FORMATTED_VALUE"),
                             one("dateTimeRenderOption", "SERIAL_NUMBER")) for r in params.get("ranges", [])]}
        if mid == "spreadsheets.values.batchUpdate":
            return _values_batch_update(book, body or {})
        if mid == "spreadsheets.batchUpdate":
            return _batch_update(book, body or {})
        raise _ApiError(501, mid)

    def _token(self, fake: FakeSheets, raw: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        with fake.lock:
            fake.counts[("?", "token")] += 1
            fake.log.append({"who": None, "route": "token", "verb": "POST", "path": "/token", "params": {},
                             "body": None})
        if self._fault(fake, "token", None):
            return
        try:
            # google-auth addresses the assertion to Google's token endpoint whatever token_uri says.
            # A few seconds of skew, as between two real machines: a worker under libfaketime and this server
            # under time-machine start their clocks apart by the worker's start-up (tests/clocks.py).
            claims = jwt.decode(form.get("assertion", ""), certs=fake.keys,
                                audience="https://oauth2.googleapis.com/token", clock_skew_in_seconds=30)
        except Exception as exc:  # noqa: BLE001  (any bad assertion: what Google says for it)
            self._send(400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"})
            return
        token = uuid.uuid4().hex
        fake.tokens[token] = str(claims["iss"])
        self._send(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _published(self, fake: FakeSheets, path: str) -> None:
        """"Publish to the web" (docs.google.com/…/pub?output=csv): the first sheet as shown, as CSV."""
        import csv
        import io

        name, _, kind = path.removeprefix("/published/").rpartition(".")
        with fake.lock:
            fake.log.append({"who": None, "route": "published", "verb": "GET", "path": path, "params": {},
                             "body": None})
        if self._fault(fake, "published", None):
            return
        book = fake.books.get(name)
        if book is None:
            self._send_raw(404, b"Not found", "text/html; charset=utf-8")
            return
        if kind == "html":
            self._send_raw(200, "<html><body>Таблиця</body></html>".encode(), "text/html; charset=utf-8")
            return
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        with fake.lock:
            for cells in book.sheets[0].rows:
                writer.writerow([_render(v, "FORMATTED_VALUE", "FORMATTED_STRING") for v in cells])
        self._send_raw(200, out.getvalue().encode(), "text/csv; charset=utf-8")

    def _send_raw(self, code: int, data: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, message: str) -> None:
        if self.path.startswith("/token"):
            self._send(code, {"error": "unauthorized_client" if code == 401 else "internal_failure",
                              "error_description": message})
            return
        self._send(code, {"error": {"code": code, "message": message, "status": STATUS_NAMES.get(code, "UNKNOWN")}})

    def _send(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass


