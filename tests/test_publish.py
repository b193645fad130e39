"""`outages publish DIR` (the site as static files, switched in atomically) and `outages serve` (gunicorn with
the repo's configuration), as an operator runs them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
import time_machine
from clocks import child_env
from rows import update
from web_demo import NOW, Page, make_app, sync_demo

from web.publish import PublishError, publish


def published_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.endswith(".gz")}


@time_machine.travel(NOW, tick=False)
def test_publish_writes_every_page_and_feed_the_app_serves(engine, settings, run_cli, tmp_path):
    sync_demo(engine, settings)
    site = tmp_path / "www" / "city"
    result = run_cli("publish", str(site))
    assert result.exit_code == 0, result.output
    assert "Опубліковано / published" in result.output
    assert site.is_symlink() and (site / "index.html").is_file()
    files = published_files(site)
    expected = {"index.html", "timeliness.html", "static/site.css", "publish.json"}
    expected |= {f"outages/{n}.html" for n in range(1, 18)}
    app = make_app(engine, settings)
    served = {rule.rule for rule in app.url_map.iter_rules()}
    feeds = {"/feed.atom": "feed.atom", "/feed.rss": "feed.rss", "/planned.ics": "planned.ics",
             "/api/v1/outages": "api/v1/outages.json", "/api/openapi.json": "api/openapi.json",
             "/cap/index.atom": "cap/index.atom"}
    expected |= {name for url, name in feeds.items() if url in served}
    if "/api/v1/outages/<int:number>" in served:
        expected |= {f"api/v1/outages/{n}.json" for n in range(1, 18)}
    assert expected <= files, expected - files
    # Every CAP message the index links to is there too (found by following the links).
    if (site / "cap/index.atom").exists():
        linked = set(re.findall(r"/cap/([^\"'<>/]+\.xml)", (site / "cap/index.atom").read_text("utf-8")))
        assert linked and {f"cap/{name}" for name in linked} <= files
    # The files are the very bytes the app answers with at the same moment.
    client = app.test_client()
    def main(body: bytes) -> bytes:  # the static copy's footer adds that it is a copy
        return body.split(b"<main", 1)[1].split(b"</main>", 1)[0]

    assert main((site / "outages/8.html").read_bytes()) == main(client.get("/outages/8").data)
    assert "статична копія" in Page((site / "outages/8.html").read_text("utf-8")).text
    assert (site / "feed.atom").read_bytes() == client.get("/feed.atom").data
    assert "Порив водогону Ø100" in Page((site / "index.html").read_text("utf-8")).text


def test_the_static_copy_has_district_service_and_english_pages_and_no_dead_controls(engine, settings,
                                                                                    tmp_path):
    sync_demo(engine, settings)
    site = tmp_path / "site"
    publish(make_app(engine, settings), site, log=lambda line: None)
    files = published_files(site)
    assert {"districts/tsentralnyi.html", "districts/zavodskyi.html", "services/lifts.html",
            "services/water-supply.html", "en/index.html", "en/districts/korabelnyi.html",
            "en/outages/8.html", "en/timeliness.html", "favicon.ico"} <= files
    home = (site / "index.html").read_text("utf-8")
    # No search form that would do nothing here: the words say where search works.
    assert "<form" not in home and "?lang=" not in home
    assert "Пошук за вулицею працює на живому сайті" in Page(home).text
    assert 'href="/en/"' in home and 'href="/districts/tsentralnyi"' in home
    lifts = Page((site / "services/lifts.html").read_text("utf-8")).text
    assert "Ліфти: аварії та планові роботи" in lifts and "Запис № 16" in lifts and "Запис № 13" not in lifts
    english = (site / "en/districts/korabelnyi.html").read_text("utf-8")
    text = Page(english).text
    assert "Korabelnyi: emergencies and planned works" in text and "Demo City" in text
    assert "Street lighting · Korabelnyi" in text and "Корабельний" not in text
    assert 'href="/en/outages/12"' in english and 'href="/districts/korabelnyi" hreflang="uk"' in english
    # The live site keeps its search form on the same page.
    live = make_app(engine, settings).test_client().get("/").get_data(as_text=True)
    assert '<form class="filters"' in live


def test_publish_switches_releases_atomically_and_keeps_the_one_before(engine, settings, tmp_path):
    sync_demo(engine, settings)
    app = make_app(engine, settings)
    site = tmp_path / "site"
    first = publish(app, site, log=lambda line: None)
    old_release = Path(os.path.realpath(site))
    assert old_release == first.release and old_release.parent == tmp_path
    sync_demo(engine, settings, update(13, executor="КП «Водоканал»", summary="Бригада на місці",
                                       recorded_at="22.11.2026 19:30", expected_end="23.11.2026 01:00"))
    app = make_app(engine, settings)  # a fresh app: publish must not depend on a warm cache
    second = publish(app, site, log=lambda line: None)
    assert second.version > first.version
    assert Path(os.path.realpath(site)) == second.release != old_release
    assert "Бригада на місці" in (site / "index.html").read_text("utf-8")
    # The previous release is still whole for a server that opened it a moment ago.
    assert "Бригада на місці" not in (old_release / "index.html").read_text("utf-8")
    settings.data["publish_keep_mb"] = 0  # no room for rollbacks: the current release and the one before it
    third = publish(make_app(engine, settings), site, log=lambda line: None)
    third.pruning.join(30)
    releases = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site.") and p.is_dir())
    assert releases == sorted([second.release.name, third.release.name])
    assert not [p for p in tmp_path.iterdir() if ".link-" in p.name]


def test_a_failing_url_is_skipped_with_a_reason_and_the_rest_published(engine, settings, tmp_path):
    sync_demo(engine, settings)
    app = make_app(engine, settings)
    # A public page that breaks, linked from nowhere but registered like the others.
    app.add_url_rule("/broken", endpoint="pages.broken", view_func=lambda: 1 / 0)
    said: list[str] = []
    done = publish(app, tmp_path / "site", log=said.append)
    assert done.skipped and done.skipped[0][0] == "/broken" and "ZeroDivisionError" in done.skipped[0][1]
    assert said == [f"пропущено / skipped /broken: {done.skipped[0][1]}"]
    assert (tmp_path / "site/index.html").exists() and not (tmp_path / "site/broken").exists()


def test_nothing_is_switched_when_the_database_is_gone(engine, settings, tmp_path):
    from sqlalchemy import create_engine

    sync_demo(engine, settings)
    app = make_app(engine, settings)
    site = tmp_path / "site"
    before = publish(app, site, log=lambda line: None)
    app.extensions["outages"].engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:9/none")
    with pytest.raises(PublishError, match="database unreachable"):
        publish(app, site, log=lambda line: None)
    assert Path(os.path.realpath(site)) == before.release and (site / "index.html").exists()


def test_a_real_directory_in_the_way_is_refused_clearly(engine, settings, run_cli, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "keep.txt").write_text("operator's file")
    result = run_cli("publish", str(site))
    assert result.exit_code == 2
    assert "not publish's symlink" in result.output and "вже існує" in result.output
    assert (site / "keep.txt").read_text() == "operator's file"


@pytest.mark.clock
def test_serve_runs_gunicorn_with_the_repo_config(engine, settings, env, tmp_path):
    sync_demo(engine, settings)
    port = _free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "outages"), "serve", "--port", str(port), "--workers", "1"],
        env=child_env({**os.environ, **env}), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    listening = threading.Event()
    lines: list[str] = []

    def watch() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if "Booting worker" in line:
                listening.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert listening.wait(30), "".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/timeliness", timeout=10) as response:
            body = response.read().decode("utf-8")
            assert response.headers["Cache-Control"].startswith("public")
        assert "Своєчасність внесення інформації" in body
        assert any("Using worker: gthread" in line for line in lines), "".join(lines)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.clock
def test_the_worker_publishes_after_a_sync_that_changed_the_data(run_cli, tmp_path, monkeypatch):
    from conftest import DEMO_CSV

    site = tmp_path / "site"
    run_cli("init")
    monkeypatch.setenv("OUTAGES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OUTAGES_SMTP_PORT", "9")  # nothing listens: mail waits in the outbox, the sync goes on
    result = run_cli("run", "--once", "--source", str(DEMO_CSV), "--publish", str(site))
    assert result.exit_code == 0, result.output
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Порив водогону Ø100" in home and "Олена Ковальчук" not in home
    assert "Порив водогону Ø100" in (site / "outages" / "13.html").read_text(encoding="utf-8")
