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
import threading
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
KEEP = 20  # releases kept at most, the current one included (within publish_keep_mb)
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
    pruning: threading.Thread | None = None  # removing old releases after the switch (join() to wait for it)


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
        self.listings: dict[str, dict[str, tuple[str, bool]]] = {}  # see _listing
        self.urls = self.rendered = self.new_bytes = 0
        self.replaced_bytes = 0  # bytes of the last release's files this one wrote anew (they stay only there)
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

    def _listing(self, folder: str) -> dict[str, tuple[str, bool]]:
        """The last release's files in `folder` by stem: "12" -> ("12.html", has a .gz copy). Read once."""
        found = self.listings.get(folder)
        if found is None:
            names: list[str] = []
            if self.last is not None:
                try:
                    names = os.listdir(self.last / folder)
                except (FileNotFoundError, NotADirectoryError):
                    pass
            packed = {name[:-3] for name in names if name.endswith(".gz")}
            found = self.listings[folder] = {name.partition(".")[0]: (name, name in packed)
                                             for name in names if not name.endswith(".gz")}
        return found

    def link_record(self, route: plan.RecordRoute, number: int) -> bool:
        """Hard-link the last release's file of record `number` on `route`; False if it has none."""
        folder = route.prefix.strip("/")
        known = self._listing(folder).get(str(number))
        if known is None:
            return False
        name, packed = known
        old, new = self._fd(self.last, folder), self._fd(self.folder, folder)
        os.link(name, name, src_dir_fd=old, dst_dir_fd=new, follow_symlinks=False)
        if packed:
            os.link(name + ".gz", name + ".gz", src_dir_fd=old, dst_dir_fd=new, follow_symlinks=False)
        self.urls += 1
        return True

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()

    def render(self, client, path: str, packed: bool = True) -> bool:  # noqa: ANN001
        """Ask the app for `path` and write the answer (with a .gz copy if `packed`); False (and a line in the
        log) if it failed."""
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
        self.write(path, mimetype, body, packed)
        return True

    def write(self, path: str, mimetype: str, body: bytes, packed: bool = True) -> None:
        name = file_for(path, mimetype)
        out = self._parent(name)
        self.urls += 1
        self.rendered += 1
        if self.keep is not None:
            self.keep[path] = (mimetype, body)
        before = _size(self.last / name) if self.last is not None else None
        if before == len(body) and _read(self.last / name) == body:
            os.link(self.last / name, out)  # rendered again, the same bytes: share the last release's file
            try:
                os.link(self.last / (name + ".gz"), self.folder / (name + ".gz"))
            except FileNotFoundError:
                pass
            return
        if before is not None:  # the last release's copy stays only there (see _prune)
            self.replaced_bytes += before + (_size(self.last / (name + ".gz")) or 0)
        out.write_bytes(body)
        self.new_bytes += len(body)
        if packed and mimetype.startswith(TEXT_TYPES) and len(body) >= GZIP_FROM:
            zipped = gzip.compress(body, mtime=0)
            out.with_name(out.name + ".gz").write_bytes(zipped)
            self.new_bytes += len(zipped)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


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
    # Old releases are removed after the lock is let go, in a thread of their own: removing 150,000 links takes
    # seconds, and the new site is already live. (A process that publishes and exits waits for it.)
    budget = int(float(app.extensions["outages"].settings.data.get("publish_keep_mb", 2048)) * 1024 * 1024)
    pruning = threading.Thread(target=_prune, args=(target, release, budget, log), name="publish-prune")
    pruning.start()
    done.target, done.pruning = target, pruning
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
                # What pruning counts (_prune): the size of this release's files, and of the last one's that it
                # replaced (what keeping that one costs beyond this one). Files a release drops are not counted
                # out, so `bytes` can only overstate.
                "from": last.name if reuse else None, "replaced_bytes": out.replaced_bytes,
                "bytes": (before.get("bytes", 0) if reuse else 0) + out.new_bytes - out.replaced_bytes,
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
    routes = plan.record_routes(app)
    for numbers in plan.record_slices(hub.engine):
        for number in numbers:
            for route in routes:
                if changed is None or number in changed or not out.link_record(route, number):
                    # No .gz for a record's files: small pages, and a copy each would double the links of every
                    # publish (300,000 at 50,000 records); nginx compresses them as it sends (deploy/nginx.conf).
                    out.render(client, route.path(number), packed=False)
    for path, number in plan.cap_messages(app):
        if changed is None or number in changed or not out.link(path):
            out.render(client, path)


def render(app: Flask, log: Callable[[str], None] = print) -> tuple[dict[str, tuple[str, bytes]], list, int]:
    """Every address publish writes → (mimetype, body), in memory, rendered afresh: for tests of small stores."""
    outputs: dict[str, tuple[str, bytes]] = {}
    with tempfile.TemporaryDirectory() as folder, _pinned_clock(app) as now:
        done = _fill(app, Path(folder), None, now, log, keep=outputs)
    return outputs, done.skipped, done.version


def _prune(target: Path, current: Path, budget: int, log: Callable[[str], None] = print) -> list[Path]:
    """Keep the newest releases whose files fit in `budget` bytes (`publish_keep_mb`), at most KEEP of them, and
    always the current one and the one before it (a server may still be sending its files); remove the rest, and
    the half-made folders of publishes that stopped. Sizes come from the manifests (no walk over the files): the
    current release's `bytes`, then for each older one what its successor replaced (`replaced_bytes`; files
    shared by hard links are counted once), or all its `bytes` when its successor was not made from it. A
    publish under way is never touched: its folder has no manifest yet and is newer than the current one's.
    Returns the folders removed."""
    try:
        current_made = (current / MANIFEST).stat().st_mtime_ns
    except OSError:
        return []
    releases: list[tuple[int, Path, dict]] = []
    doomed: list[Path] = []
    for folder in target.parent.glob(f".{target.name}.*"):
        if folder == current or folder.is_symlink() or not folder.is_dir():
            continue
        try:
            made = (folder / MANIFEST).stat().st_mtime_ns
        except OSError:
            try:
                if folder.stat().st_mtime_ns < current_made:
                    doomed.append(folder)  # stopped half-way before the current release was made
            except OSError:
                pass
            continue
        if made < current_made:
            releases.append((made, folder, _manifest(folder)))
    releases.sort(key=lambda item: item[0], reverse=True)
    newer = _manifest(current)
    used = int(newer.get("bytes", 0))
    for n, (_made, folder, manifest) in enumerate(releases):
        own = int(newer.get("replaced_bytes", 0)) if newer.get("from") == folder.name else int(manifest.get("bytes", 0))
        if n == 0 or (n + 2 <= KEEP and used + own <= budget):
            used += own
            newer = manifest
            continue
        doomed.extend(folder for _made, folder, _manifest_ in releases[n:])
        break
    if len(releases) and used > budget:
        log(f"увага / warning: поточний і попередній випуски займають {used // 2**20} МБ, більше за "
            f"publish_keep_mb ({budget // 2**20}) / the current and previous releases take more than the budget")
    for folder in doomed:
        shutil.rmtree(folder, ignore_errors=True)
    return doomed


def publish_site(settings, engine, directory: str | os.PathLike,  # noqa: ANN001
                 log: Callable[[str], None] = print) -> Published:
    """For the worker's publishing lane: publish without a running web app."""
    from web import create_app

    return publish(create_app(settings, engine=engine), directory, log)
