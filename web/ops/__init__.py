"""The contact centre's console under /ops (issue 19): sign-in, the day's work, the audit trail, and people (for
admins). Server-rendered pages in Ukrainian, no script, a 390 px phone as well as a desktop.

One blueprint, `ops`, holds a child per page family (auth, today, records, reports, people, audit); its hooks
(web/ops/access.py) run for every child: a secret key or 503, CSRF on every POST (400, nothing changes), a session or
the login page, and headers that keep the answers out of every cache. /ops is in no list of web/formats.py: never
cached, never published, never linked from public pages.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_wtf.csrf import CSRFError

from web.ops import access, audit, auth, people, records, reports, today

bp = Blueprint("ops", __name__, url_prefix="/ops")
for child in (auth.bp, today.bp, records.bp, reports.bp, people.bp, audit.bp):
    bp.register_blueprint(child)
bp.record_once(access.setup)
bp.before_request(access.guard)
bp.after_request(access.private)


@bp.errorhandler(CSRFError)
def refused_csrf(error: CSRFError) -> Any:
    return access.page("problem.html", 400, title="Запит відхилено",
                       message="Форма застаріла або надіслана не з консолі (немає дійсного csrf_token). Нічого не"
                               " змінено: відкрийте сторінку ще раз і повторіть.")


@bp.errorhandler(403)
def forbidden(_error: Exception) -> Any:
    return access.page("problem.html", 403, title="Недостатньо прав",
                       message="Ця сторінка — лише для адміністраторів консолі.")
