"""Open311 GeoReport v2 under /open311/v2/ (issue 20): existing civic apps and city systems report through it, and
read what became of their reports. The core is outages/reports/; here only the wire: answer.py (JSON, XML, the
error list, headers), services.py (discovery, services), post.py (POST requests), lookup.py (tokens, requests),
query.py (GET requests' filters). Never cached by web/cache.py: it is in no list of web/formats.py."""

from __future__ import annotations

from flask import Blueprint

from web.open311 import lookup, post, services

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
for child in (services.bp, post.bp, lookup.bp):
    bp.register_blueprint(child)
