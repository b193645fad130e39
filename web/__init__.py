"""The public site, feeds and API: a Flask app factory that reads through outages/, never raw tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from flask import Flask, current_app, g
from sqlalchemy import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from outages import db, display
from outages.options import load_checked
from outages.settings import Settings
from outages.times import UTC
from web.formats import FORMATS

# Each module defines `bp`, a Blueprint; they are registered in this order (the public formats: web/formats.py).
BLUEPRINTS: list[str] = ["web.cache", "web.health", *(f.module for f in FORMATS), "web.public.pages", "web.hooks",
                         "web.relay", "web.subscribe", "web.follow", "web.reports", "web.open311", "web.ops",
                         "web.guard"]


@dataclass
class Hub:
    """What views need: the settings, the engine and the clock (tests pin `clock`)."""

    settings: Settings
    engine: Engine
    clock: object = None

    def now(self) -> datetime:
        return self.clock() if callable(self.clock) else datetime.now(UTC)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Flask:
    settings = settings or load_checked()
    app = Flask(__name__)
    app.config.update(JSON_AS_ASCII=False)
    app.extensions["outages"] = Hub(settings=settings, engine=engine or db.engine_for(settings))
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(name).bp)
    # The pages again under /en/: the English site has its own addresses, which the static copy can hold too.
    app.register_blueprint(import_module("web.public.pages").bp, url_prefix="/en", name="pages_en")
    # Everything the site shows (pages, feeds, API) is read in a request with the display cap on (outages.display).
    app.before_request(lambda: setattr(g, "display_cap", display.enter(settings.display_max_chars)))
    app.teardown_request(lambda _error: display.leave(g.pop("display_cap", None)))
    # Registered after the blueprints so it runs before the cache's hook, and cached answers carry the headers.
    app.after_request(_security_headers)
    if settings.behind_proxy:
        # Exactly one hop is trusted: the last address of X-Forwarded-For is the one our proxy saw (nginx writes
        # it), anything a client sent before it is ignored. gunicorn itself never rewrites REMOTE_ADDR (its
        # forwarded_allow_ips only governs the scheme), so without this every resident is the proxy's 127.0.0.1
        # and shares one sign-up limit.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    return app


# The public pages need no script at all and only the site's own stylesheet: dispatcher text that slipped past
# escaping could still not run. A blueprint that needs more (relay) sets its own policy first.
PUBLIC_CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
              "frame-ancestors 'none'; form-action 'self'")


def _security_headers(response):  # noqa: ANN001, ANN202
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", PUBLIC_CSP)
    return response


def hub() -> Hub:
    return current_app.extensions["outages"]
