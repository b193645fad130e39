"""/healthz: for load balancers and `outages doctor`."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from web import hub
from web.houses import houses

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # noqa: ANN201
    try:
        with hub().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  (the page must answer even when the database does not)
        return jsonify(ok=False, database=type(exc).__name__), 503
    # This worker's response cache (web/cache.py) and open records by house (web/houses.py): each worker keeps its own.
    return jsonify(ok=True, cache=current_app.extensions["outages_cache"].stats(), houses=houses().stats())
