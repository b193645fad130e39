"""What every command needs, built lazily: settings (failing loudly), the engine, the clock."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import NoReturn

import click
from sqlalchemy import Engine

from outages import db
from outages.options import load_checked
from outages.settings import Settings, SettingsError
from outages.times import UTC


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"Помилка / Error: {message}", err=True)
    raise SystemExit(code)


class Context:
    @cached_property
    def settings(self) -> Settings:
        try:
            return load_checked()
        except SettingsError as exc:
            fail(f"налаштування / setting {exc}")

    @cached_property
    def engine(self) -> Engine:
        try:
            return db.engine_for(self.settings)
        except Exception as exc:  # noqa: BLE001  (a malformed URL or a missing driver)
            fail(f"OUTAGES_DATABASE_URL: {exc}")

    def ready_engine(self) -> Engine:
        """The engine of an initialised database, or a clear message to run `outages init`."""
        try:
            db.require_schema(self.engine)
        except db.SchemaError as exc:
            fail(str(exc))
        except Exception as exc:  # noqa: BLE001  (whatever the driver raises, one clear line)
            fail(f"база даних недоступна / database unreachable: {_short(exc)}")
        return self.engine

    def now(self) -> datetime:
        return datetime.now(UTC)


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
