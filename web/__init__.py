"""The public site, feeds and API: a Flask app factory that reads through outages/, never raw tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from flask import Flask, current_app
from sqlalchemy import Engine

from outages import db
from outages.settings import Settings, load
from outages.times import UTC

# Each module defines `bp`, a Blueprint; they are registered in this order.
BLUEPRINTS: list[str] = ["web.cache", "web.health", "web.feeds", "web.calendar", "web.api", "web.cap", "web.pages",
                         "web.hooks", "web.relay"]


@dataclass
class Hub:
    """What views need: the settings, the engine and the clock (tests pin `clock`)."""

    settings: Settings
    engine: Engine
    clock: object = None

    def now(self) -> datetime:
        return self.clock() if callable(self.clock) else datetime.now(UTC)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Flask:
    settings = settings or load()
    app = Flask(__name__)
    app.config.update(JSON_AS_ASCII=False)
    app.extensions["outages"] = Hub(settings=settings, engine=engine or db.engine_for(settings))
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(name).bp)
    return app


def hub() -> Hub:
    return current_app.extensions["outages"]
