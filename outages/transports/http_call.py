"""One HTTP POST that ends within a total deadline, whatever the peer does (Telegram and webhooks use it).

`requests` and `http.client` time out per socket read: a peer that answers one byte a second restarts the wait
with every byte, and an answer trickled that way ran 650 s (issue 22), far past the claim lease that assumes one
delivery ends in seconds, so a second drain took the row over and posted it again. Here a watchdog shuts the
socket down when the deadline passes, in whichever phase the call is (name lookup aside, which runs on its own
thread and is waited for at most the time left): connecting, the TLS handshake, sending, the status line,
the headers or the body. The connection is used once and closed (`Connection: close`): nothing half-read is
ever reused.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from time import monotonic
from urllib.parse import urlsplit

from requests.certs import where as ca_bundle

BIGGEST = 8 << 20  # an answer longer than this is refused: getUpdates' 100 updates are far less


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class CallFailed(Exception):
    """No whole answer. `sent`: the request had been written, so the peer may have acted on it (a Telegram post
    may be in the channel although its answer never came)."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class Caller:
    """POSTs from one thread, each within `deadline` seconds in all (`connect` of them at most for connecting);
    `abort()` from another thread ends the call in progress at once."""

    def __init__(self, *, connect: float, deadline: float) -> None:
        self.connect = connect
        self.deadline = deadline
        self._socket: socket.socket | None = None  # a duplicate of the call's socket: shutting it ends the call
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def post(self, url: str, body: bytes, headers: dict[str, str], *, deadline: float | None = None) -> Answer:
        limit = self.deadline if deadline is None else deadline
        start = monotonic()

        def left() -> float:
            return max(0.001, limit - (monotonic() - start))

        parts = urlsplit(url)
        https = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            self.abort()

        watchdog = threading.Timer(limit, expire)
        watchdog.daemon = True
        watchdog.start()
        sent = False
        sock = conn = response = None
        try:
            sock = _connect(host, port, min(self.connect, left()))
            with self._lock:
                self._socket = sock.dup()
            if expired.is_set():
                raise TimeoutError("deadline")
            sock.settimeout(left())
            if https:
                sock = self._context().wrap_socket(sock, server_hostname=host)
            conn = (http.client.HTTPSConnection if https else http.client.HTTPConnection)(host, port)
            conn.sock = sock  # connected and within the deadline: http.client only writes and reads it
            conn.request("POST", path, body=body, headers=headers | {"Connection": "close"})
            sent = True
            response = conn.getresponse()
            chunks, size = [], 0
            while chunk := response.read(65536):
                size += len(chunk)
                if size > BIGGEST:
                    raise CallFailed(f"answer longer than {BIGGEST >> 20} MiB", sent=True)
                chunks.append(chunk)
            if expired.is_set():  # a close-delimited answer cut by the watchdog reads as a short one
                raise TimeoutError("deadline")
            return Answer(response.status, response.reason or "", response.headers, b"".join(chunks))
        except CallFailed:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if expired.is_set():
                raise CallFailed(f"no whole answer within {limit:g} s", sent=sent) from None
            raise CallFailed(_describe(exc), sent=sent) from None
        finally:
            watchdog.cancel()
            with self._lock:
                dup, self._socket = self._socket, None
            # The answer holds the socket's file; each is closed, so the descriptor goes with the call.
            for each in (response, conn, sock, dup):
                if each is not None:
                    each.close()

    def abort(self) -> None:
        """From another thread: end the call in progress (its read fails at once)."""
        with self._lock:
            sock = self._socket
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            # The CA bundle requests used before (certifi), so the peers trusted stay the same.
            self._tls = ssl.create_default_context(cafile=ca_bundle())
        return self._tls


def _connect(host: str, port: int, seconds: float) -> socket.socket:
    """A connected socket within `seconds`. The name lookup cannot be interrupted, so it runs on a thread of its
    own and is waited for at most `seconds` (the resolver ends it by itself later)."""
    start = monotonic()
    found: list = []
    done = threading.Event()

    def look_up() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            found.append(exc)
        done.set()

    threading.Thread(target=look_up, daemon=True).start()
    if not done.wait(seconds):
        raise TimeoutError(f"name lookup of {host} took over {seconds:g} s")
    if isinstance(found[0], OSError):
        raise found[0]
    error: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _name, address in found[0]:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(max(0.001, seconds - (monotonic() - start)))
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
