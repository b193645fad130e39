"""The response cache that keeps the site fast when half the city opens it at once.

Public GET responses (pages, feeds, calendar, API, CAP) are kept per (path, query, language) together with
the data version they were made from: `max(events.id)`, because every change of a record writes an event.
A request whose version still matches is answered from memory without rendering. What a page shows also moves
with the clock (planned works start, a term passes), so an entry lives at most `cache_seconds` (TOML, default
30) even when nothing changed. Nothing on a page depends on the worker or the moment it rendered, so every
worker makes the same bytes, the same ETag, and Last-Modified is when the data last changed.

Two doors lead to an entry. A WSGI layer in front of Flask answers repeat requests (same path, query string
and Accept-Language as an earlier one) straight from memory: no request context, no routing, no template.
That is what holds a surge. Everything else goes through Flask, where hooks look up or fill the cache.
The data version is read from the database at most every `cache_check_seconds` (TOML, default 1) per
process, so a change shows within a second while a surge costs the database one query a second per worker.

Every cached answer carries a strong ETag and Last-Modified (conditional requests get 304), a Cache-Control
a CDN can act on, and gzip when the client accepts it (compressed once per entry, not per request).
When the database does not answer, the last good copy is served (stale-if-error) rather than an error page.

Each gunicorn worker has its own cache; that costs one render per worker per change, which is nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Callable, Iterable

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.datastructures import ETags
from werkzeug.http import parse_date, parse_etags

from outages.records.views import data_state
from web.formats import PUBLIC_BLUEPRINTS, TEXT_TYPES
from web.houses import canonical_query
from web.i18n import language

bp = Blueprint("cache", __name__)

# Blueprints whose GET answers are public and the same for everyone (per language). Anything else (health
# checks, duty officers' confirmation links) is never cached.
MAX_ENTRIES = 2000  # query strings come from anyone: keep the memory bounded
MAX_BODY = 4 * 1024 * 1024
_SEARCH_PAGES = ("pages", "pages_en")  # their `q` is keyed by the house it names (see _key)
RENDER_WAIT = 0.1  # seconds; see Store.render_wait
RENDERS = 2  # pages a worker renders at once; its other threads answer from memory (see answer_from_cache)
ENTRY_OVERHEAD = 1024  # the key, headers and bookkeeping of an entry, counted against the byte budget
# Headers of the original response that are recomputed for every answer.
_DROP = {"content-length", "content-encoding", "date", "set-cookie", "etag", "last-modified", "cache-control", "vary"}


@dataclass
class Entry:
    version: tuple  # (max event id, when the data last changed)
    born: float  # monotonic
    body: bytes
    headers: list[tuple[str, str]]
    etag: str
    last_modified: datetime
    compressible: bool
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def weight(self) -> int:
        """What the entry may come to hold, counted when it is stored: its body, the gzip copy it may make later
        (never larger than the body and a few bytes), and its bookkeeping. An upper bound, so the budget holds."""
        return len(self.body) * (2 if self.compressible else 1) + ENTRY_OVERHEAD

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            # mtime=0: the same body always compresses to the same bytes (publish and CDNs compare them).
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped

    def answer(self, ttl: int, accept_encoding: str, if_none_match: str | None, if_modified_since: str | None,
               stale: bool = False) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) for a client with these request headers."""
        gz = self.compressible and _accepts_gzip(accept_encoding)
        etag = self.etag + ("-gz" if gz else "")
        headers = [*self.headers, ("ETag", f'"{etag}"'),
                   ("Last-Modified", format_datetime(self.last_modified, usegmt=True)),
                   ("Cache-Control", f"public, max-age={ttl}, stale-while-revalidate={ttl}, stale-if-error=86400"),
                   ("Vary", "Accept-Encoding, Accept-Language")]
        if stale:
            headers.append(("Warning", '110 - "Response is stale"'))
        if _not_modified(self, etag, if_none_match, if_modified_since):
            return 304, [h for h in headers if h[0].lower() != "content-type"], b""
        body = self.gzipped() if gz else self.body
        if gz:
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        return 200, headers, body


def _accepts_gzip(header: str) -> bool:
    # The common forms («gzip, deflate, br», «gzip;q=1.0») without a full parse; «gzip;q=0» refuses.
    if "gzip" not in header:
        return False
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _not_modified(entry: Entry, etag: str, if_none_match: str | None, if_modified_since: str | None) -> bool:
    if if_none_match:
        tags: ETags = parse_etags(if_none_match)
        # Either encoding's tag means the client holds this very content.
        return tags.contains(etag) or tags.contains(entry.etag)
    since = parse_date(if_modified_since) if if_modified_since else None
    return since is not None and entry.last_modified <= since


class Turns:
    """At most `slots` holders at once, the others served in the order they came. threading.Semaphore is not fair:
    a freed slot goes to whichever thread asks first, often a newcomer rather than the waiter it woke, which then
    queues again; under a surge of unique searches (25 threads a worker) some residents waited seconds while
    others were answered in milliseconds (bench/houses_bench.py: p99 1.5 s at a mean of 0.15 s). Here a freed
    slot is handed to the oldest waiter directly."""

    def __init__(self, slots: int) -> None:
        self._lock = threading.Lock()
        self._free = slots
        self._waiting: deque[threading.Lock] = deque()

    def acquire(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder that hands its slot over

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1


class Store:
    """An LRU of entries and the data version, safe for gunicorn's threaded workers."""

    def __init__(self, ttl: float, check_interval: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 max_bytes: int = 64 * 1024 * 1024) -> None:
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._bytes = 0
        # Seen by /healthz (this worker's): lookups that found an entry, answers rendered and stored, evictions.
        self.found = self.rendered = self.evicted = 0
        self.check_interval = check_interval
        self.clock = clock
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        # (path, raw query string, raw Accept-Language) -> key, so the WSGI door need not parse anything.
        self._raw: dict[tuple, tuple] = {}
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._version: tuple[float, int] | None = None  # (checked at, version)
        self._reading = threading.Lock()  # held by the one thread reading the version
        self._refreshing: dict[tuple, float] = {}  # raw key -> when a thread began re-rendering it
        # How long a request that found its copy expired waits for the new one before it is answered with the
        # current copy (FastDoor._render_within); None: as long as the render takes (tests that look at once).
        self.render_wait: float | None = RENDER_WAIT
        self.renders = Turns(RENDERS)

    def get(self, key: tuple) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.found += 1
            return entry

    def get_raw(self, raw: tuple) -> Entry | None:
        key = self._raw.get(raw)
        return None if key is None else self.get(key)

    def put(self, key: tuple, entry: Entry, raw: tuple | None = None) -> None:
        with self._lock:
            if entry.weight > self.max_bytes:
                return  # larger than the whole budget: answered, never kept
            old = self._entries.get(key)
            if old is not entry:
                if old is not None:
                    self._bytes -= old.weight
                self._bytes += entry.weight
                self.rendered += 1
            self._entries[key] = entry
            self._entries.move_to_end(key)
            # The least recently used go first, until both bounds hold.
            while len(self._entries) > MAX_ENTRIES or self._bytes > self.max_bytes:
                _, gone = self._entries.popitem(last=False)
                self._bytes -= gone.weight
                self.evicted += 1
            if raw is not None:
                if len(self._raw) >= 2 * MAX_ENTRIES:
                    self._raw.clear()
                self._raw[raw] = key

    def version(self, read: Callable[[], int]) -> int:
        """The data version, read again once `check_interval` has passed (raises if the database fails).

        One thread reads; the others answer with the version it is replacing meanwhile. Every thread reading
        at once (25 per worker under a surge) made one read a second into dozens, each slowed by the others
        past the interval, so the next request found it expired again and the reads never stopped."""
        known = self._version
        if known is not None and self.clock() - known[0] < self.check_interval:
            return known[1]
        if not self._reading.acquire(blocking=known is None):
            return known[1]  # another thread is reading it: a version a second old is what the interval allows
        try:
            known = self._version
            if known is not None and self.clock() - known[0] < self.check_interval:
                return known[1]  # read by another thread while this one waited for the first read
            value = read()
            # Stamped after the read: a slow read must not leave the version already due again.
            self._version = (self.clock(), value)
            return value
        finally:
            self._reading.release()

    def claim(self, raw: tuple) -> bool:
        """True for the one thread that may re-render this entry now (a claim older than 30 s is void)."""
        now = self.clock()
        with self._lock:
            since = self._refreshing.get(raw)
            if since is not None and now - since < 30:
                return False
            self._refreshing[raw] = now
            return True

    def release(self, raw: tuple) -> None:
        with self._lock:
            self._refreshing.pop(raw, None)
            self._done.notify_all()

    def wait(self, raw: tuple, timeout: float) -> None:
        """Until the thread that claimed `raw` has released it (or `timeout` seconds)."""
        with self._lock:
            self._done.wait_for(lambda: raw not in self._refreshing, timeout)

    def fresh(self, entry: Entry, version: int | None) -> bool:
        return (version is None or entry.version == version) and self.clock() - entry.born < self.ttl

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._entries), "bytes": self._bytes, "max_bytes": self.max_bytes,
                    "found": self.found, "rendered": self.rendered, "evicted": self.evicted}

    def clear(self) -> None:
        with self._lock:
            self._bytes = 0
            self._entries.clear()
            self._raw.clear()
            self._version = None


class FastDoor:
    """WSGI layer in front of Flask: a repeat request for a fresh entry is answered from memory."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        # The static copy (web/publish.py) asks for each address once: keeping its answers would only cost memory.
        if (method == "GET" or method == "HEAD") and not environ.get("outages.static"):
            store: Store = self.app.extensions["outages_cache"]
            raw = _raw_key(environ)
            entry = store.get_raw(raw)
            if entry is None:
                # Cold (a fresh worker in the middle of a surge): one thread renders, the others wait for
                # its copy instead of all rendering at once and starving each other of the CPU.
                if not store.claim(raw):
                    store.wait(raw, timeout=10)
                    entry = store.get_raw(raw)
                else:
                    try:
                        return self.wsgi_app(environ, start_response)
                    finally:
                        store.release(raw)
            if entry is not None:
                try:
                    version = store.version(lambda: _read_version(self.app))
                except Exception:  # noqa: BLE001 — let the Flask door decide (it serves stale copies)
                    version = -1
                if store.fresh(entry, version) or not store.claim(raw):
                    # Fresh, or another thread is already making the new copy: the current one is
                    # served meanwhile (stale-while-revalidate), so a change or an expiry under a surge
                    # costs one render, not one per waiting request.
                    return _serve(entry, store, environ, start_response)
                return self._render_within(environ, start_response, raw, entry, store)
        return self.wsgi_app(environ, start_response)

    def _render_within(self, environ: dict, start_response: Callable, raw: tuple, current: Entry,
                       store: "Store") -> Iterable[bytes]:
        """Render the new copy of an entry (it stores itself, see `remember`) and answer with it, unless it takes
        longer than `store.render_wait`: then the current copy answers (with `Warning: 110`) and the render
        finishes on its own thread. Under a surge a thread of a worker gets a small share of the CPU, and a feed's
        50 ms render took seconds, so the resident who happened to ask when the copy expired waited that long."""
        if store.render_wait is None:
            try:
                return self.wsgi_app(environ, start_response)
            finally:
                store.release(raw)
        done = threading.Event()
        said: dict = {}

        def capture(status: str, headers: list, exc_info=None) -> Callable:  # noqa: ANN001
            said["status"], said["headers"] = status, headers
            return said.setdefault("written", []).append

        def render() -> None:
            try:
                body = self.wsgi_app(own, capture)
                try:
                    said["body"] = b"".join(body)
                finally:
                    getattr(body, "close", lambda: None)()
            except BaseException as exc:  # noqa: BLE001 — raised again in the request's thread, if it waits
                said["error"] = exc
            finally:
                store.release(raw)
                done.set()

        # The request's own environ stays with its server thread; the render gets a copy with no body to read.
        own = dict(environ, **{"wsgi.input": io.BytesIO()})
        threading.Thread(target=render, name="outages-render", daemon=True).start()
        if done.wait(store.render_wait):
            if "error" in said:
                raise said["error"]
            start_response(said["status"], said["headers"])
            return [b"".join(said.get("written", [])) + said["body"]]
        return _serve(current, store, environ, start_response, stale=True)


def _serve(entry: Entry, store: "Store", environ: dict, start_response: Callable,
           stale: bool = False) -> Iterable[bytes]:
    status, headers, body = entry.answer(
        int(store.ttl), environ.get("HTTP_ACCEPT_ENCODING", ""), environ.get("HTTP_IF_NONE_MATCH"),
        environ.get("HTTP_IF_MODIFIED_SINCE"), stale=stale)
    start_response("200 OK" if status == 200 else "304 Not Modified", headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def _raw_key(environ: dict) -> tuple:
    return (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            bool(environ.get("outages.static")))


def _read_version(app: Flask) -> tuple[int, datetime | None]:
    # (max event id, when it was written): the version keys entries, the time is their Last-Modified.
    with app.extensions["outages"].engine.connect() as conn:
        return data_state(conn)


@bp.record_once
def _setup(state) -> None:  # noqa: ANN001
    app: Flask = state.app
    data = app.extensions["outages"].settings.data
    app.extensions["outages_cache"] = Store(ttl=float(data["cache_seconds"]),
                                            check_interval=float(data["cache_check_seconds"]),
                                            max_bytes=int(float(data["cache_max_mb"]) * 1024 * 1024))
    app.wsgi_app = FastDoor(app, app.wsgi_app)


def store() -> Store:
    return current_app.extensions["outages_cache"]


def _key() -> tuple:
    # ?lang= stays in the query part too: a page asked for with it carries it on in its links.
    args = request.args.items(multi=True)
    if request.blueprint in _SEARCH_PAGES and request.args.get("q"):
        # A page searching for a house is keyed by the house, not by how it was typed: the page names it in one
        # spelling (web/houses.py), so «Соборна 14» and «вул. Соборна, 14» share an entry.
        now = current_app.extensions["outages"].now()
        args = [(k, canonical_query(current_app, v, now) if k == "q" else v) for k, v in args]
    query = tuple(sorted(args))
    # The static copy's pages differ (no search form): never the live site's entries.
    return request.path, query, language(), bool(request.environ.get("outages.static"))


def _cacheable() -> bool:
    return (request.method in ("GET", "HEAD") and request.blueprint in PUBLIC_BLUEPRINTS
            and store().ttl > 0 and not request.environ.get("outages.static"))


@bp.before_app_request
def answer_from_cache():  # noqa: ANN201
    if not _cacheable():
        return None
    key = _key()
    cache = store()
    try:
        version = cache.version(lambda: _read_version(current_app))
    except Exception:
        entry = cache.get(key)
        if entry is not None:
            return _answer(entry, stale=True)
        raise
    entry = cache.get(key)
    if entry is not None and cache.fresh(entry, version):
        cache.put(key, entry, raw=_raw_key(request.environ))
        return _answer(entry)
    # Spellings of one house asked at the same moment («Соборна 14», «соборна 14») are one page, but the fast door
    # sees different query strings: one thread renders it, the others wait for that copy (or, if there is an
    # older one, answer with it) instead of rendering it again each.
    claim = ("page", key)
    if cache.claim(claim):
        g.cache_claim = claim
    elif entry is not None:
        return _answer(entry, stale=True)
    else:
        cache.wait(claim, timeout=10)
        entry = cache.get(key)
        if entry is not None and cache.fresh(entry, version):
            cache.put(key, entry, raw=_raw_key(request.environ))
            return _answer(entry)
    g.cache_key, g.cache_version = key, version
    # A render takes milliseconds of CPU, an answer from memory microseconds: a worker renders at most RENDERS
    # pages at once, and the threads answering from memory share the CPU with those few, not with every miss.
    cache.renders.acquire()
    g.cache_rendering = True
    return None


@bp.teardown_app_request
def _rendered(_error) -> None:  # noqa: ANN001
    if g.pop("cache_rendering", False):
        store().renders.release()
    claim = g.pop("cache_claim", None)
    if claim is not None:
        store().release(claim)


@bp.after_app_request
def remember(response: Response) -> Response:
    key = g.pop("cache_key", None)
    if key is None or getattr(response, "_from_cache", False):
        return response
    if response.status_code != 200 or response.direct_passthrough or "Set-Cookie" in response.headers:
        return response
    body = response.get_data()
    if len(body) > MAX_BODY:
        return response
    mimetype = response.mimetype or ""
    entry = Entry(
        version=g.get("cache_version"), born=store().clock() - g.pop("cache_age", 0.0), body=body,
        headers=[(k, v) for k, v in response.headers.items() if k.lower() not in _DROP],
        etag=hashlib.blake2b(body, digest_size=12).hexdigest(),
        # When the data last changed, not when this worker rendered: every worker answers alike. Whole seconds:
        # HTTP dates have no fractions, and If-Modified-Since compares against this.
        last_modified=(_changed_at(g.pop("cache_version")) or _EPOCH).replace(microsecond=0),
        compressible=len(body) >= 512 and mimetype.startswith(TEXT_TYPES),
    )
    store().put(key, entry, raw=_raw_key(request.environ))
    return _answer(entry)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _changed_at(version) -> datetime | None:  # noqa: ANN001
    return version[1] if isinstance(version, tuple) else None


def _answer(entry: Entry, stale: bool = False) -> Response:
    status, headers, body = entry.answer(
        int(store().ttl), request.headers.get("Accept-Encoding", ""), request.headers.get("If-None-Match"),
        request.headers.get("If-Modified-Since"), stale=stale)
    response = Response(body, status=status, headers=headers)
    response._from_cache = True
    return response
