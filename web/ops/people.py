"""`/ops/people` (admins only): everyone who can or could sign in, a form to add a person, a button to disable one.
Each change is audited with the admin as its actor (outages/console/people.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from outages.console import people
from web import hub
from web.ops.access import admin_only, page

bp = Blueprint("people", __name__)


@bp.get("/people", endpoint="index")
@admin_only
def index() -> Any:
    return _page()


@bp.post("/people", endpoint="add")
@admin_only
def add() -> Any:
    email = request.form.get("email", "")[:254]
    role = request.form.get("role", "")
    h = hub()
    try:
        with h.engine.begin() as conn:
            person = people.add(conn, email, role, request.form.get("password", ""), now=h.now(),
                                actor=current_user.email)
    except people.PeopleError as exc:
        return _page(error=str(exc), values={"email": email, "role": role}, status=422)
    return redirect(url_for("ops.people.index", added=person.email), code=303)


@bp.post("/people/disable", endpoint="disable")
@admin_only
def disable() -> Any:
    email = request.form.get("email", "")[:254].strip().lower()
    reason = " ".join(request.form.get("reason", "").split())[:500]
    if email == current_user.email:
        return _page(error="Себе вимкнути не можна: це зробить інший адміністратор.", status=422)
    h = hub()
    try:
        with h.engine.begin() as conn:
            people.disable(conn, email, now=h.now(), actor=current_user.email, reason=reason)
    except people.PeopleError as exc:
        return _page(error=str(exc), status=422)
    return redirect(url_for("ops.people.index", disabled=email), code=303)


def _page(error: str = "", values: dict[str, str] | None = None, status: int = 200) -> Any:
    with hub().engine.connect() as conn:
        everyone = people.everyone(conn)
    return page("people.html", status, title="Працівники консолі", everyone=everyone, error=error,
                values=values or {"email": "", "role": "operator"}, roles=people.ROLE_UK,
                min_password=people.MIN_PASSWORD, added=request.args.get("added", ""),
                disabled=request.args.get("disabled", ""))
