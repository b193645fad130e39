"""POST /hooks/form-submitted: the form's push (an Apps Script onFormSubmit trigger) asks for a sync now.

The body is authenticated by an HMAC-SHA256 with the shared secret OUTAGES_HOOK_SECRET, sent as
`X-Outages-Signature: sha256=<hex>` (base64 is accepted too: Apps Script makes that easily). Its `at` must be
within 5 minutes of the hub's clock and the same body is accepted once (outages/records/pushes.py). The endpoint only
records the request; a worker (`outages run`) notices it within a second and syncs under its lease. So the web
process needs no Google credentials, a burst of submissions makes one sync, and the Apps Script call returns at
once whatever the Sheets API is doing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import Blueprint, jsonify, request

from outages.records import pushes
from outages.worker import request_sync
from web import hub

bp = Blueprint("hooks", __name__)

MAX_BODY = 64 * 1024
HEADER = "X-Outages-Signature"


def signature(secret: str, body: bytes) -> str:
    """The header value a caller sends (also used by tests and the docs' example)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _valid(secret: str, body: bytes, sent: str) -> bool:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    sent = sent.strip()
    if sent.lower().startswith("sha256="):
        sent = sent[len("sha256="):]
    candidates = [digest.hex(), base64.b64encode(digest).decode(), base64.urlsafe_b64encode(digest).decode()]
    return any(hmac.compare_digest(sent.encode(), c.encode()) for c in candidates)


@bp.post("/hooks/form-submitted")
def form_submitted():  # noqa: ANN201
    state = hub()
    secret = str(state.settings.data.get("hook_secret") or "")
    if not secret:
        return jsonify(ok=False, error="Хук вимкнено: не задано OUTAGES_HOOK_SECRET / the hook is disabled:"
                                       " OUTAGES_HOOK_SECRET is not set"), 503
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(ok=False, error="Завелике тіло запиту / body too large"), 413
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY:
        return jsonify(ok=False, error="Завелике тіло запиту / body too large"), 413
    if not _valid(secret, body, request.headers.get(HEADER, "")):
        return jsonify(ok=False, error=f"Невірний підпис {HEADER} / bad signature"), 401
    try:
        pushes.accept(state.engine, body, state.now(), state.settings.tz)
    except pushes.PushRefused as refused:
        return jsonify(ok=False, error=str(refused)), refused.status
    queued = request_sync(state.engine, state.now(), origin=(request.remote_addr or "")[:100])
    # 202: accepted; the sync itself runs in the worker within a second or two.
    return jsonify(ok=True, queued=queued), 202
