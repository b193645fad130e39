"""`outages publish DIR`: the site as static files, so any web server or CDN can serve the city when the app
cannot (a blackout takes the app's host down, or the surge is beyond it).

Every page and feed the app serves without filters (listed in web/publish_plan.py, never found by crawling) is
rendered through the app itself (the Flask test client: the same code, the same bytes), one at a time straight to
its file, into a fresh release folder beside DIR. DIR is then a symlink switched to the new release with one
rename (os.replace), so a server reading DIR sees the old site or the new one, never half.

A publish is incremental: what did not change since the last release is hard-linked from it (os.link: no copy, no
new disk space), and only the rest is rendered. The last release's `publish.json` says which data version, clock
and build (code and settings) it was made from; web/publish_plan.py says which pages depend on what. A page
rendered again whose bytes did not change is hard-linked too. Without a usable last release everything is
rendered.

URL → file: `/` → `index.html`; a path whose last part has an extension is kept (`/feed.atom`); a path ending in
`/` gets an index (`/en/` → `en/index.html`); any other path gets the extension of its type (`/outages/12` →
`outages/12.html`, `/api/v1/outages` → `api/v1/outages.json`): no folder per record, so linking 50,000 records'
pages costs links, not directories. A `.gz` copy sits beside each text file for servers that serve precompressed
files (nginx `gzip_static`). docs/web.md has the nginx configuration.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

from outages.records.views import changed_since, data_version, moved_with_clock
from web import publish_plan as plan
from web.formats import EXTENSIONS, TEXT_TYPES

MANIFEST = "publish.json"
GZIP_FROM = 512  # bytes: smaller text files get no .gz copy
# Where an address without an extension may lie in a release, most likely first (as nginx's try_files looks).
_KNOWN = ("html", "json", *sorted(set(EXTENSIONS.values()) - {"html", "json"}))


class PublishError(Exception):
    """Publishing cannot go on; the message says why (DIR is left as it was)."""


@dataclass
class Published:
    target: Path
    release: Path
    version: int
    urls: int = 0  # addresses in the release
    rendered: int = 0  # of them rendered by the app (the rest hard-linked from the last release)
    new_bytes: int = 0  # bytes of files new in this release (what it costs on disk beyond the last one)
    incremental: bool = False  # the last release was reused
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (URL path, reason)


def file_for(path: str, mimetype: str) -> str:
    """The file (relative to the release) that holds the answer for a URL path."""
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"unsafe path {path!r}")
    extension = EXTENSIONS.get(mimetype, "html")
    if not parts:
        return "index.html"
    if "." in parts[-1]:
        return "/".join(parts)
    if path.endswith("/"):
        return "/".join(parts + [f"index.{extension}"])
    return "/".join(parts[:-1] + [f"{parts[-1]}.{extension}"])


def _public(url_map: Map, path: str) -> bool:
    try:
        endpoint, _args = url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return False
    return plan.public(endpoint)


class _Release:
    """One release folder being filled: each answer written (or linked) as it comes, nothing kept in memory."""

    def __init__(self, folder: Path, last: Path | None, log: Callable[[str], None],
                 keep: dict[str, tuple[str, bytes]] | None = None) -> None:
        self.folder, self.last, self.log = folder, last, log
        self.keep = keep  # render(): every answer in memory too, for tests
        self.folders: set[str] = set()
        self.fds: dict[tuple[str, str], int] = {}
        self.lists: dict[str, str] = {}  # list page path -> fingerprint, for the next publish
        self.urls = self.rendered = self.new_bytes = 0
        self.skipped: list[tuple[str, str]] = []

    def _parent(self, name: str) -> Path:
        out = self.folder / name
        parent = os.path.dirname(name)
        if parent not in self.folders:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(parent)
        return out

    def _fd(self, release: Path, folder: str) -> int:
        """An open descriptor of a folder of a release: links are made relative to it, so for each of 300,000
        links the kernel walks one name, not the whole path, and no Path object is built."""
        key = (str(release), folder)
        fd = self.fds.get(key)
        if fd is None:
            if release == self.folder:
                self._parent(folder + "/x" if folder else "x")
            fd = self.fds[key] = os.open(release / folder if folder else release, os.O_RDONLY | os.O_DIRECTORY)
        return fd

    def link(self, path: str, hint: str = "html") -> str | None:
        """Hard-link the last release's file for `path` (and its .gz); its extension, or None if it has none.
        `hint`: the extension to try first (a route's answers all have one type)."""
        if self.last is None:
            return None
        base = file_for(path, "text/html")
        folder, _, name = base.rpartition("/")
        if "." in path.rsplit("/", 1)[-1]:
            names = [(name, "")]
        else:
            stem = name[:-4]
            names = [(stem + ext, ext) for ext in (hint, *(e for e in _KNOWN if e != hint))]
        try:
            old = self._fd(self.last, folder)
        except FileNotFoundError:
            return None
        new = self._fd(self.folder, folder)
        for name, extension in names:
            try:
                os.link(name, name, src_dir_fd=old, dst_dir_fd=new, follow_symlinks=False)
            except FileNotFoundError:
                continue
            try:
                os.link(name + ".gz", name + ".gz", src_dir_fd=old, dst_dir_fd=new, follow_symlinks=False)
            except FileNotFoundError:
                pass
            self.urls += 1
            return extension or name.rsplit(".", 1)[-1]
        return None

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()

    def render(self, client, path: str) -> bool:  # noqa: ANN001
        """Ask the app for `path` and write the answer; False (and a line in the log) if it failed."""
        try:
            # outages.static: the pages leave out what cannot work in a static copy (the search form).
            response = client.get(path, headers={"Accept-Language": "uk"}, environ_overrides={"outages.static": True})
            status, mimetype, body = response.status_code, response.mimetype or "", response.get_data()
            response.close()
        except Exception as exc:  # noqa: BLE001 — one broken URL must not stop the city's site
            status, mimetype, body = 500, "", f"{type(exc).__name__}: {exc}".encode()
        if status != 200:
            reason = f"HTTP {status}" + (f": {body.decode('utf-8', 'replace')[:200]}" if status == 500 else "")
            if path == "/":
                raise PublishError(f"головна сторінка не відкрилась / the home page failed ({reason})")
            self.skipped.append((path, reason))
            self.log(f"пропущено / skipped {path}: {reason}")
            return False
        self.write(path, mimetype, body)
        return True

    def write(self, path: str, mimetype: str, body: bytes) -> None:
        name = file_for(path, mimetype)
        out = self._parent(name)
        self.urls += 1
        self.rendered += 1
        if self.keep is not None:
            self.keep[path] = (mimetype, body)
        if self.last is not None and _same(self.last / name, body):
            os.link(self.last / name, out)  # rendered again, the same bytes: share the last release's file
            try:
                os.link(self.last / (name + ".gz"), self.folder / (name + ".gz"))
            except FileNotFoundError:
                pass
            return
        out.write_bytes(body)
        self.new_bytes += len(body)
        if mimetype.startswith(TEXT_TYPES) and len(body) >= GZIP_FROM:
            packed = gzip.compress(body, mtime=0)
            out.with_name(out.name + ".gz").write_bytes(packed)
            self.new_bytes += len(packed)


def _same(path: Path, body: bytes) -> bool:
    try:
        return path.stat().st_size == len(body) and path.read_bytes() == body
    except OSError:
        return False


def _manifest(release: Path | None) -> dict:
    if release is None:
        return {}
    try:
        data = json.loads((release / MANIFEST).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


@contextmanager
def _pinned_clock(app: Flask) -> Iterator[datetime]:
    """Every page of a release is rendered at one moment, so they agree with each other and with the manifest."""
    hub = app.extensions["outages"]
    saved = hub.clock
    now = hub.now()
    hub.clock = lambda: now
    try:
        yield now
    finally:
        hub.clock = saved


@contextmanager
def _only_publisher(parent: Path, name: str) -> Iterator[None]:
    """One publish of DIR at a time on this host (the CLI and a worker's lane may meet): the second waits."""
    with open(parent / f".{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(app: Flask, target: str | os.PathLike, log: Callable[[str], None] = print) -> Published:
    target = Path(target).absolute()
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_symlink():
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        else:
            raise PublishError(
                f"{target} вже існує і це не посилання від publish / exists and is not publish's symlink: "
                "publish keeps DIR as a symlink to a release folder; move the existing one away")
    with _only_publisher(parent, target.name), _pinned_clock(app) as now:
        last = Path(os.path.realpath(target)) if target.is_symlink() and target.is_dir() else None
        release = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
        try:
            done = _fill(app, release, last, now, log)
            release.chmod(0o755)  # mkdtemp makes it private; a web server runs as another user
            link = parent / f".{target.name}.link-{os.getpid()}"
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(release.name)
            os.replace(link, target)  # the atomic switch
        except BaseException:
            shutil.rmtree(release, ignore_errors=True)
            raise
        _prune(target, keep={release.name, last.name if last else ""})
    done.target = target
    return done


def _fill(app: Flask, folder: Path, last: Path | None, now: datetime, log: Callable[[str], None],
          keep: dict[str, tuple[str, bytes]] | None = None) -> Published:
    hub = app.extensions["outages"]
    before = _manifest(last)
    key = plan.build_key(hub.settings)
    changed: set[int] = set()
    try:
        with hub.engine.connect() as conn:
            version = data_version(conn)
            made_at = _moment(before.get("now"))
            # The last release is reused only if it was made by this code and these settings, from data and a
            # clock that came before these (a store restored from a backup starts afresh).
            reuse = (before.get("build") == key and isinstance(before.get("version"), int)
                     and before["version"] <= version and made_at is not None and made_at <= now
                     and isinstance(before.get("lists"), dict))
            if reuse:
                changed = changed_since(conn, before["version"]) | moved_with_clock(conn, made_at, now)
            lists = list(plan.list_pages(app, conn, hub.settings, now))
    except Exception as exc:
        raise PublishError(f"база даних недоступна / database unreachable: {type(exc).__name__}") from exc
    out = _Release(folder, last if reuse else None, log, keep)
    try:
        _fill_release(app, out, lists, changed if reuse else None, before.get("lists", {}) if reuse else {})
    finally:
        out.close()
    manifest = {"version": version, "now": now.isoformat(), "build": key,
                "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "urls": out.urls, "rendered": out.rendered, "new_bytes": out.new_bytes, "incremental": reuse,
                "skipped": [path for path, _ in out.skipped], "lists": out.lists}
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=0), "utf-8")
    return Published(target=folder, release=folder, version=version, urls=out.urls, rendered=out.rendered,
                     new_bytes=out.new_bytes, incremental=reuse, skipped=out.skipped)


def _moment(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _fill_release(app: Flask, out: _Release, lists: list[plan.ListPage], changed: set[int] | None,
                  old_lists: dict[str, str]) -> None:
    """Render or link every address; `changed` None: nothing is reused."""
    hub = app.extensions["outages"]
    client = app.test_client()
    for path in plan.fixed(app) + plan.scope_pages(app, hub.settings):
        out.render(client, path)
    for page in lists:
        if changed is not None and old_lists.get(page.path) == page.fingerprint \
                and not changed.intersection(page.numbers) and out.link(page.path):
            out.lists[page.path] = page.fingerprint
        elif out.render(client, page.path):
            out.lists[page.path] = page.fingerprint
    endpoints = plan.record_endpoints(app)
    hints = ["html"] * len(endpoints)  # each route's file extension, learnt from its first link
    for numbers in plan.record_slices(hub.engine):
        for number in numbers:
            for n, path in enumerate(plan.record_paths(app, endpoints, number)):
                linked = None if changed is None or number in changed else out.link(path, hints[n])
                if linked is None:
                    out.render(client, path)
                else:
                    hints[n] = linked
    for path, number in plan.cap_messages(app):
        if changed is None or number in changed or not out.link(path):
            out.render(client, path)


def render(app: Flask, log: Callable[[str], None] = print) -> tuple[dict[str, tuple[str, bytes]], list, int]:
    """Every address publish writes → (mimetype, body), in memory, rendered afresh: for tests of small stores."""
    outputs: dict[str, tuple[str, bytes]] = {}
    with tempfile.TemporaryDirectory() as folder, _pinned_clock(app) as now:
        done = _fill(app, Path(folder), None, now, log, keep=outputs)
    return outputs, done.skipped, done.version


def _prune(target: Path, keep: set[str]) -> None:
    """Keep the new release and the one before it (a server may still be sending its files); drop older ones.
    Hard links make an unchanged file shared: removing a release frees only what no kept release links."""
    for old in target.parent.glob(f".{target.name}.*"):
        if old.is_dir() and not old.is_symlink() and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def publish_site(settings, engine, directory: str | os.PathLike,  # noqa: ANN001
                 log: Callable[[str], None] = print) -> Published:
    """For the worker's publishing lane: publish without a running web app."""
    from web import create_app

    return publish(create_app(settings, engine=engine), directory, log)
