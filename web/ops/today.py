"""`/ops`: the day's work, read-only for now (outages/console/worklist.py): rejected rows awaiting a fix, emergencies
past their term, relays not confirmed within the hour, messages that could not be delivered; residents' crowd
signals of the last day, the reports waiting for moderation, and how many residents reported each record listed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for

from outages.console import worklist
from outages.officials.options import mail_options
from outages.reports.options import report_options
from outages.reports.public import attached_counts
from outages.text import plural_word
from web import hub
from web.ops.access import page

bp = Blueprint("today", __name__)


@bp.get("", endpoint="index")
def index() -> Any:
    h = hub()
    now = h.now()
    within = mail_options(h.settings).relay_escalation
    with h.engine.connect() as conn:
        lists = {
            "rejected": worklist.rejected(conn, h.settings.rules),
            "overdue": worklist.overdue(conn, now),
            "relays": worklist.unconfirmed_relays(conn, now, within),
            "failed": worklist.failed(conn),
            "gone": worklist.gone(conn, now),
            "failed_counts": worklist.failed_counts(conn),
            "signals": worklist.signals(conn, now),
            "waiting": worklist.reports_waiting(conn),
        }
        # Only the records on this page: one grouped read of ix_reports_record for at most 50 numbers.
        shown = [o.record.number for o in lists["overdue"].items] + [g.record.number for g in lists["gone"].items]
        lists["residents_by"] = attached_counts(conn, shown)
    options = report_options(h.settings)
    return page("today.html", title="Робота на сьогодні", now=now, within=within, services=options.service,
                crowd_window=options.crowd_window, plural=plural_word,
                said=request.args.get("said", "")[:300], **lists)


@bp.get("/", endpoint="slash")
def slash() -> Any:
    return redirect(url_for("ops.today.index"), code=308)
