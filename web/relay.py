"""Relay confirmation (regulation 7.6–7.7): the signed link «Інформацію передано» and the officials' page.

One click: the link opens a page that posts the confirmation at once in a browser (a few lines of inline
script), and shows the same button for a browser without scripts. A bare GET never confirms: mail systems fetch
links to scan them, and a scanner must not confirm a relay nobody made.
The relay-state page of a record is reached only through a signed link sent to officials.
"""

from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, abort, render_template, request
from werkzeug.exceptions import NotFound

from outages.officials import relay
from outages.officials.options import mail_options
from outages.records.views import get_record
from outages.times import fmt
from web import hub

bp = Blueprint("relay", __name__)


@bp.after_request
def private(response):  # noqa: ANN001, ANN201
    # Signed links carry the officials' access: no cache or CDN keeps these pages, no Referer leaks the token.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Content-Security-Policy"] = RELAY_CSP
    return response


# Only the one-click script of relay/confirm.html may run (allowed by its hash), and only the page's own style.
CONFIRM_SCRIPT = 'document.getElementById("relay-confirm").submit();'
RELAY_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; "
    "script-src 'sha256-" + base64.b64encode(hashlib.sha256(CONFIRM_SCRIPT.encode()).digest()).decode() + "'"
)



def _options():  # noqa: ANN202
    return mail_options(hub().settings)


@bp.errorhandler(404)
def not_found(error):  # noqa: ANN001, ANN201
    # A forged, mistyped or foreign link: say so in Ukrainian, like every relay page (not Flask's English 404).
    return render_template("relay/invalid.html", title="Посилання недійсне", record=None, contact=None,
                           reason=error.description if error.description != _GENERIC_404 else ""), 404


_GENERIC_404 = NotFound.description


def _expired():  # noqa: ANN202
    return render_template("relay/expired.html", title="Посилання застаріло", record=None, contact=None,
                           days=round(_options().relay_link_age.total_seconds() / 86400)), 410


@bp.route("/relay/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):  # noqa: ANN201
    try:
        target = relay.read_confirm_token(_options(), token, hub().now())
    except relay.Expired:
        return _expired()
    if target is None:
        abort(404, "Посилання недійсне")
    number, key = target
    h = hub()
    tz = h.settings.tz
    with h.engine.begin() as conn:
        message = relay.message_for(conn, number, key)
        if message is None:
            abort(404, "Запит на передачу інформації не знайдено")
        done = relay.confirmation(conn, message.id)
        if request.method == "POST" and done is None:
            done = relay.confirm(conn, number, key, h.now(), request.remote_addr or "",
                                 request.headers.get("User-Agent", ""))
        record = get_record(conn, number, h.now())
    return render_template(
        "relay/confirm.html", confirm_script=CONFIRM_SCRIPT, title="Інформацію передано", record=record,
        contact=None, role=message.role,
        expected_end=fmt(record.expected_end, tz) if record else "",
        done=fmt(done.confirmed_at, tz) if done else "", who=message.recipient_name or message.recipient,
    )


@bp.get("/relay/records/<token>")
def record_state(token: str):  # noqa: ANN201
    try:
        number = relay.read_state_token(_options(), token, hub().now())
    except relay.Expired:
        return _expired()
    if number is None:
        abort(404, "Посилання недійсне")
    h = hub()
    tz = h.settings.tz
    with h.engine.connect() as conn:
        record = get_record(conn, number, h.now())
        if record is None:
            abort(404)
        rows = relay.state(conn, number)
    for row in rows:
        row.update(sent=fmt(row["sent_at"], tz) or "—", confirmed_text=fmt(row["confirmed_at"], tz) or "—")
    # Officials only (the link is signed): they may see the utility's contact person and phone.
    contact = {"name": record.contact.get("name", ""), "phone": record.contact.get("phone", "")}
    return render_template(
        "relay/state.html", title=f"Стан передачі інформації · №{number}", record=record, contact=contact,
        expected_end=fmt(record.expected_end, tz), rows=rows, confirmed=sum(r["confirmed"] for r in rows),
    )
