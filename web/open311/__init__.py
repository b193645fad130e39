"""Open311 GeoReport v2 under /open311/v2/ (issue 20): existing civic apps and city systems report through it.
The core is outages/reports/."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
