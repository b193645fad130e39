"""Every page type is valid HTML by the Nu HTML checker (vnu.jar from npm's vnu-jar, run with Java; `make tools`
installs both): home, search, a section's list, a district's and a service's page, a record, /timeliness, the 404s,
the English pages, and every page of the static copy. One checker run for all of them (the JVM starts once)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from web_demo import make_app, sync_demo

from web.publish import publish

VNU = Path(__file__).resolve().parent.parent / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

PAGES = {
    "/": 200, "/?q=Соборна": 200, "/?q=Неіснуюча": 200, "/?district=Корабельний&service=Ліфти": 200,
    "/sections/upcoming": 200, "/districts/tsentralnyi": 200, "/services/lifts/emergencies": 200,
    "/outages/8": 200, "/outages/4": 200, "/timeliness": 200,
    "/outages/999": 404, "/outages/99999999999999999999": 404, "/no-such-page": 404,
    "/en/": 200, "/en/outages/8": 200, "/en/timeliness": 200, "/?lang=en": 200, "/en/outages/999": 404,
}


def checker() -> list[str]:
    java = shutil.which("java")
    if java is None or not VNU.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("the Nu HTML checker is missing under CI: run `make tools` (.ci/tools)")
        pytest.skip("the Nu HTML checker is not installed: `make tools`")
    return [java, "-Xss2m", "-jar", str(VNU), "--errors-only", "--format", "json"]


def check(files: list[Path]) -> list[str]:
    """The checker's errors as «file:line: message» lines."""
    run = subprocess.run([*checker(), *map(str, files)], capture_output=True, text=True, timeout=300)
    messages = json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
    return [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m.get('message')}" for m in messages
            if m.get("type") == "error" or m.get("subType") == "fatal"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_type_and_the_static_copy_pass_the_nu_html_checker(engine, settings, tmp_path):
    checker()
    sync_demo(engine, settings)
    app = make_app(engine, settings)
    client = app.test_client()
    files = []
    for index, (url, status) in enumerate(PAGES.items()):
        response = client.get(url)
        assert response.status_code == status, url
        assert response.mimetype == "text/html", url
        out = tmp_path / "pages" / f"{index:02d}.html"
        out.parent.mkdir(exist_ok=True)
        out.write_bytes(response.data)
        files.append(out)
    site = tmp_path / "site"
    publish(app, site, log=lambda line: None)
    static = sorted(p for p in site.rglob("*.html"))
    assert len(static) > 40  # records, districts, services, sections, English
    errors = check(files + static)
    names = {f"{i:02d}.html": url for i, url in enumerate(PAGES)}
    assert not errors, [f"{names.get(e.split(':')[0], e.split(':')[0])} {e}" for e in errors]
