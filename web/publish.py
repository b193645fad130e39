"""`outages publish DIR`: the site as static files, so any web server or CDN can serve the city when the app
cannot (a blackout takes the app's host down, or the surge is beyond it).

Every page and feed the app serves without filters is rendered through the app itself (the Flask test client:
the same code, the same bytes), into a fresh release folder beside DIR. DIR is then a symlink switched to the
new release with one rename (os.replace), so a server reading DIR sees the old site or the new one, never half.

URL → file: `/` → `index.html`; a path whose last part has an extension is kept (`/feed.atom`); any other path
becomes a folder with an index named for its type (`/outages/12/index.html`, `/api/v1/outages/index.json`),
because `/api/v1/outages` and `/api/v1/outages/12` must both exist. A `.gz` copy sits beside each text file
for servers that serve precompressed files (nginx `gzip_static`). docs/web.md has the nginx configuration.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

from outages.records.views import data_version, record_numbers
from web.formats import EXTENSIONS, PUBLIC_BLUEPRINTS, TEXT_TYPES

MAX_URLS = 50_000
_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"'<>\s]+)["']""")


class PublishError(Exception):
    """Publishing cannot go on; the message says why (DIR is left as it was)."""


@dataclass
class Published:
    target: Path
    release: Path
    version: int
    files: dict[str, str] = field(default_factory=dict)  # URL path -> file path inside the release
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (URL path, reason)


def file_for(path: str, mimetype: str) -> str:
    """The file (relative to the release) that holds the answer for a URL path."""
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"unsafe path {path!r}")
    if not parts:
        return "index.html"
    if "." in parts[-1]:
        return "/".join(parts)
    return "/".join(parts + [f"index.{EXTENSIONS.get(mimetype, 'html')}"])


def _public(url_map: Map, path: str) -> bool:
    try:
        endpoint, _args = url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return False
    return endpoint == "static" or endpoint.split(".", 1)[0] in PUBLIC_BLUEPRINTS


def seeds(app: Flask) -> list[str]:
    """Argument-free public GET routes, and every record's page for routes taking only a record number."""
    out: list[str] = []
    numbered = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint.split(".", 1)[0] not in PUBLIC_BLUEPRINTS:
            continue
        if not rule.arguments:
            out.append(rule.rule)
        elif rule.arguments == {"number"}:
            numbered.append(rule)
    hub = app.extensions["outages"]
    with hub.engine.connect() as conn:
        numbers = record_numbers(conn)
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        for rule in numbered:
            out.extend(adapter.build(rule.endpoint, {"number": n}) for n in numbers)
    # "/" first: if the home page cannot be rendered nothing is published.
    return sorted(set(out), key=lambda p: (p != "/", p))


def links(body: bytes, url_map: Map) -> list[str]:
    """Same-site paths a document links to (absolute links too: feeds carry the public URL), without queries."""
    found = []
    for raw in _LINK.findall(body.decode("utf-8", "replace")):
        parts = urlsplit(raw.replace("&amp;", "&"))
        if parts.scheme not in ("", "http", "https") or parts.query or not parts.path.startswith("/"):
            continue
        if _public(url_map, parts.path):
            found.append(parts.path)
    return found


def render(app: Flask, log: Callable[[str], None] = print) -> tuple[dict[str, tuple[str, bytes]], list, int]:
    """Every public URL → (mimetype, body); skipped URLs with reasons; the data version rendered."""
    hub = app.extensions["outages"]
    try:
        with hub.engine.connect() as conn:
            version = data_version(conn)
        queue = seeds(app)
    except Exception as exc:
        raise PublishError(f"база даних недоступна / database unreachable: {type(exc).__name__}") from exc
    client = app.test_client()
    seen = set(queue)
    done: dict[str, tuple[str, bytes]] = {}
    skipped: list[tuple[str, str]] = []
    while queue:
        path = queue.pop(0)
        try:
            # outages.static: the pages leave out what cannot work in a static copy (the search form).
            response = client.get(path, headers={"Accept-Language": "uk"}, environ_overrides={"outages.static": True})
            status, mimetype, body = response.status_code, response.mimetype or "", response.get_data()
        except Exception as exc:  # noqa: BLE001 — one broken URL must not stop the city's site
            status, mimetype, body = 500, "", f"{type(exc).__name__}: {exc}".encode()
        if status != 200:
            reason = f"HTTP {status}" + (f": {body.decode('utf-8', 'replace')[:200]}" if status == 500 else "")
            if path == "/":
                raise PublishError(f"головна сторінка не відкрилась / the home page failed ({reason})")
            skipped.append((path, reason))
            log(f"пропущено / skipped {path}: {reason}")
            continue
        done[path] = (mimetype, body)
        if mimetype.startswith(TEXT_TYPES):
            for found in links(body, app.url_map):
                if found not in seen and len(seen) < MAX_URLS:
                    seen.add(found)
                    queue.append(found)
    return done, skipped, version


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
    done, skipped, version = render(app, log)
    release = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        files = _write(release, done)
        manifest = {"version": version, "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "files": len(files), "skipped": [path for path, _ in skipped]}
        (release / "publish.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
        release.chmod(0o755)  # mkdtemp makes it private; a web server runs as another user
        link = parent / f".{target.name}.link-{os.getpid()}"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(release.name)
        os.replace(link, target)  # the atomic switch
    except BaseException:
        shutil.rmtree(release, ignore_errors=True)
        raise
    _prune(target, release)
    return Published(target=target, release=release, version=version, files=files, skipped=skipped)


def _write(release: Path, done: dict[str, tuple[str, bytes]]) -> dict[str, str]:
    files = {}
    for path, (mimetype, body) in done.items():
        name = file_for(path, mimetype)
        out = release / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(body)
        if mimetype.startswith(TEXT_TYPES) and len(body) >= 512:
            out.with_name(out.name + ".gz").write_bytes(gzip.compress(body, mtime=0))
        files[path] = name
    return files


def _prune(target: Path, current: Path) -> None:
    """Keep the new release and the one before it (a server may still be sending its files); drop older ones."""
    releases = sorted((p for p in target.parent.glob(f".{target.name}.*")
                       if p.is_dir() and not p.is_symlink() and p != current),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    for old in releases[1:]:
        shutil.rmtree(old, ignore_errors=True)


def publish_site(settings, engine, directory: str | os.PathLike,  # noqa: ANN001
                 log: Callable[[str], None] = print) -> Published:
    """For the sync worker: publish after a sync, without a running web app."""
    from web import create_app

    return publish(create_app(settings, engine=engine), directory, log)
