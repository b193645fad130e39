"""The hub wired to a fake: demo grids, environment, and the `fake`/`live` fixture generators for test modules."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from outages.times import UTC

from .model import _typed
from .server import FakeSheets


def grid_from_csv(path: Path | str, date_headers: tuple[str, ...] = ("Позначка часу", "Термін ліквідації",
                                                                     "Час настання події")) -> list[list[Any]]:
    """A response sheet as Google keeps it: dates as date cells, whole numbers as numbers, the rest text."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    headers = rows[0]
    dates = {i for i, h in enumerate(headers) if h in date_headers}
    grid: list[list[Any]] = [list(headers)]
    for row in rows[1:]:
        grid.append([_typed(v) if i in dates else (int(v) if re.fullmatch(r"[1-9]\d*", v) else v)
                     for i, v in enumerate(row)])
    return grid


def fake_server():
    """Generator for a `fake` fixture: a running fake, and a failed test if any request broke the discovery doc."""
    with FakeSheets() as fake:
        yield fake
    assert fake.violations == [], fake.violations


DEMO = Path(__file__).resolve().parents[2] / "outages" / "demo" / "responses.csv"
# The evening after the demo's last row (22:05 in Kyiv): a clock earlier than a row's stamp would refuse it.
NOW = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
# The same moment as the sheet writes it (wall time in the city), for rows added by tests.
WALL = datetime(2026, 11, 22, 23, 0)
KEY = "1FormResponsesKey_demo"


class Live:
    """The hub's settings and store pointed at a fake spreadsheet filled with the demo responses."""

    def __init__(self, fake: FakeSheets, info: dict[str, str], settings: Any, engine: Any):
        self.fake, self.info, self.settings, self.engine = fake, info, settings, engine
        self._source: Any = None

    @property
    def email(self) -> str:
        return self.info["client_email"]

    @property
    def source(self) -> Any:
        from sheets.sources import open_source

        if self._source is None:  # one per process, like the worker: metadata is fetched once
            self._source = open_source(None, self.settings)
        return self._source

    def sync(self, now: datetime = NOW) -> tuple[Any, Any]:
        from outages.records.sync import sync

        self.fake.reset_log()
        batch = self.source.pull()
        return sync(self.engine, batch.table, self.settings, now, after=batch.after), batch

    def calls(self) -> list[str]:
        return [c for c in self.fake.calls(self.email)]

    def writes(self) -> list[dict[str, Any]]:
        return [e["body"] for e in self.fake.log if e["who"] == self.email and e["route"] == "spreadsheets.batchUpdate"]

    def shown(self) -> list[tuple[Any, str]]:
        """(«Номер», «Статус обробки») of every data row, as the dispatcher sees them."""
        return list(zip(self.fake.column(KEY, "Номер"), self.fake.column(KEY, "Статус обробки")))


def proxy_env(fake: FakeSheets) -> dict[str, str]:
    """Keep every HTTPS request of the libraries on loopback: the fake refuses CONNECTs to other hosts."""
    return {"HTTPS_PROXY": fake.base_url, "https_proxy": fake.base_url, "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost"}


def live_env(fake: FakeSheets, monkeypatch: Any, **extra: str) -> dict[str, str]:
    info = fake.service_account()
    fake.add_spreadsheet(KEY, grid_from_csv(DEMO), shared_with={info["client_email"]})
    values = {"OUTAGES_GOOGLE_CREDENTIALS": json.dumps(info), "OUTAGES_SHEETS_KEY": KEY,
              "OUTAGES_SHEETS_API_URL": fake.base_url, "OUTAGES_SHEETS_BACKOFF": "0.01",
              "OUTAGES_SHEETS_TIMEOUT": "2", **proxy_env(fake), **extra}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    values["_info"] = json.dumps(info)
    return values


def live_hub(fake: FakeSheets, monkeypatch: Any):
    """Generator for a `live` fixture: settings and a migrated store wired to `fake` (after conftest's `env`)."""
    from outages import db
    from outages.settings import load

    values = live_env(fake, monkeypatch)
    settings = load()
    engine = db.engine_for(settings)
    db.upgrade(engine)
    yield Live(fake, json.loads(values["_info"]), settings, engine)
    engine.dispose()
