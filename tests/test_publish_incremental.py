"""`outages publish` lists every address it writes (no crawl, no limit on links) and reuses the last release: what
did not change is hard-linked, and the result is the very bytes a full publish makes."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rows import emergency, update
from web_demo import NOW, make_app, sync_demo

from web.publish import _prune, publish

_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"'<>\s]+)["']""")
QUIET = {"log": lambda line: None}


def files(release: Path) -> dict[str, Path]:
    return {str(p.relative_to(release)): p for p in release.rglob("*")
            if p.is_file() and p.name != "publish.json"}


def resolves(release: Path, path: str) -> bool:
    """As nginx's try_files in docs/web.md: $uri $uri.html $uri.json $uri/index.html."""
    local = path.strip("/")
    candidates = [local, f"{local}.html", f"{local}.json", f"{local}/index.html"] if local else ["index.html"]
    return any((release / name).is_file() for name in candidates)


def dead_links(release: Path) -> tuple[list[str], set[str]]:
    dead, seen = [], set()
    for page in release.rglob("*.html"):
        for raw in _LINK.findall(page.read_text("utf-8")):
            parts = urlsplit(raw.replace("&amp;", "&"))
            if parts.scheme in ("mailto", "tel") or (parts.scheme and parts.netloc not in ("localhost", "")):
                continue  # another site (the live site's search, a utility's page)
            if not parts.path:
                continue  # "#main"
            seen.add(parts.path)
            if not resolves(release, parts.path):
                dead.append(f"{page.relative_to(release)} → {raw}")
    return dead, seen


def many_emergencies(count: int) -> list[dict]:
    return [emergency(recorded_at=f"22.11.2026 19:{i % 60:02d}", event_at="22.11.2026 18:50",
                      expected_end="23.11.2026 08:00", addresses=f"вул. Соборна, {i + 1}",
                      districts="Заводський" if i % 2 else "Центральний") for i in range(count)]


def test_every_link_of_every_published_page_leads_to_a_file_of_the_release(engine, settings, tmp_path):
    # More active emergencies than a list page holds (PAGE_SIZE 50): the section's second page exists. Nothing is
    # found by following links any more (MAX_URLS is gone): the addresses are listed from the routes and the store.
    sync_demo(engine, settings, *many_emergencies(60))
    done = publish(make_app(engine, settings), tmp_path / "site", **QUIET)
    assert not done.skipped, done.skipped
    dead, seen = dead_links(done.release)
    assert not dead, dead[:20]
    assert {"/static/site.css", "/districts/zavodskyi", "/services/water-supply", "/sections/emergencies/2",
            "/en/sections/emergencies/2", "/districts/zavodskyi/emergencies", "/outages/77", "/en/outages/77",
            "/api/v1/outages/77", "/feed.atom", "/cap/index.atom"} <= seen
    # The CAP messages the CAP index lists are there too.
    listed = set(re.findall(r"/cap/([^\"'<>/]+\.xml)", (done.release / "cap/index.atom").read_text("utf-8")))
    assert len(listed) > 60 and all((done.release / "cap" / name).is_file() for name in listed)


def _change_a_record(engine, settings) -> tuple[object, str]:
    sync_demo(engine, settings, update(13, executor="КП «Водоканал»", summary="Бригада на місці",
                                       recorded_at="22.11.2026 19:30", expected_end="23.11.2026 01:00"))
    return make_app(engine, settings), "outages/13.html"


def _let_the_clock_run(engine, settings) -> tuple[object, str]:
    # No new data; a day later terms have passed: states moved with the clock alone.
    return make_app(engine, settings, now=NOW + timedelta(days=1)), "outages/13.html"


@pytest.mark.parametrize("change", [_change_a_record, _let_the_clock_run], ids=["a record changed", "the clock"])
def test_an_incremental_publish_writes_the_bytes_of_a_full_one_and_links_the_rest(engine, settings, tmp_path,
                                                                                   change):
    sync_demo(engine, settings)
    site = tmp_path / "one" / "site"
    first = publish(make_app(engine, settings), site, **QUIET)
    assert not first.incremental
    app, changed = change(engine, settings)
    second = publish(app, site, **QUIET)
    assert second.incremental and 0 < second.rendered < second.urls
    full = publish(app, tmp_path / "two" / "site", **QUIET)  # the same data and clock, nothing to reuse
    assert not full.incremental and full.rendered == full.urls == second.urls
    made, expected = files(second.release), files(full.release)
    assert made.keys() == expected.keys()
    assert [name for name in made if made[name].read_bytes() != expected[name].read_bytes()] == []
    # The changed record's page is a new file; an unchanged record's pages are the last release's own files.
    before = files(first.release)
    assert made[changed].stat().st_ino != before[changed].stat().st_ino
    assert made[changed].read_bytes() != before[changed].read_bytes()
    for name in ("outages/2.html", "en/outages/2.html", "api/v1/outages/2.json", "static/site.css"):
        assert made[name].stat().st_ino == before[name].stat().st_ino, name
    shared = sum(1 for name, path in made.items()
                 if name in before and path.stat().st_ino == before[name].stat().st_ino)
    assert shared > len(made) // 2
    assert os.path.realpath(site) == str(second.release)


def test_old_releases_are_kept_within_the_size_budget_and_a_publish_under_way_is_never_touched(engine, settings,
                                                                                                tmp_path):
    """`publish_keep_mb`: the newest releases that fit are kept for a rollback, counted from the manifests (a
    file shared by hard links once); the current and the previous always; a stopped publish's folder is removed,
    the folder of one under way (no manifest yet, newer than the current release) is not."""
    import json

    sync_demo(engine, settings, *many_emergencies(3))
    site = tmp_path / "site"
    made = []
    for n in range(4):
        sync_demo(engine, settings, *many_emergencies(3),
                  update(13, summary=f"Оновлення {n}", recorded_at=f"22.11.2026 19:{10 + n}"))
        made.append(publish(make_app(engine, settings), site, **QUIET))
        made[-1].pruning.join(30)

    def kept() -> list[str]:
        return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site.") and p.is_dir())

    assert kept() == sorted(r.release.name for r in made)  # 2 GiB by default: all four fit
    manifests = [json.loads((r.release / "publish.json").read_text("utf-8")) for r in made]
    assert [m["from"] for m in manifests[1:]] == [r.release.name for r in made[:-1]]
    assert all(m["replaced_bytes"] > 0 for m in manifests[1:])  # the changed record's pages, the lists, the feeds
    assert manifests[0]["bytes"] == sum(p.stat().st_size for p in files(made[0].release).values())

    # Room for the current release, the one before it and one more: the oldest goes; so does a stopped publish's
    # folder, not the one of a publish that began after the current release was switched in.
    stopped = tmp_path / ".site.stopped"
    stopped.mkdir()
    (stopped / "index.html").write_text("half")
    os.utime(stopped, (1, 1))  # long before the current release
    under_way = tmp_path / ".site.under-way"
    under_way.mkdir()
    current, previous, before = manifests[3], manifests[2], manifests[1]
    three = current["bytes"] + current["replaced_bytes"] + previous["replaced_bytes"]
    assert before["replaced_bytes"] > 0
    removed = _prune(site, made[3].release, three, **QUIET)
    assert sorted(removed) == sorted([made[0].release, stopped])
    assert kept() == sorted([made[1].release.name, made[2].release.name, made[3].release.name, under_way.name])
    # Beyond the budget even for two: the previous release is kept all the same (a server may be sending it).
    removed = _prune(site, made[3].release, 0, **QUIET)
    assert removed == [made[1].release]
    assert kept() == sorted([made[2].release.name, made[3].release.name, under_way.name])
