"""Signing in to the console and out of it: `GET/POST /ops/login` (fields `email`, `password`, `csrf_token`),
`POST /ops/logout`. The checking, the throttle and the audit are outages/console/signin.py's."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from outages.console import signin
from web import hub
from web.ops.access import Staff, page, safe_next, secret_key

bp = Blueprint("auth", __name__)

REFUSED = "Невірний e-mail або пароль."
THROTTLED = ("Забагато невдалих спроб увійти до цього облікового запису. Вхід заблоковано на 15 хвилин;"
             " спробуйте пізніше або зверніться до адміністратора.")


@bp.get("/login")
def login_form() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("ops.today.index"))
    return _form()


@bp.post("/login", endpoint="login")
def login() -> Any:
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")
    h = hub()
    now = h.now()
    with h.engine.begin() as conn:
        outcome = signin.attempt(conn, email, password, now=now, client=request.remote_addr or "",
                                 secret=secret_key())
    if outcome.locked_until is not None:
        body, status = _form(email, THROTTLED, 429)
        wait = max(1, int((outcome.locked_until - now).total_seconds()))
        return body, status, {"Retry-After": str(wait)}
    if not outcome.ok:
        return _form(email, REFUSED)
    assert outcome.person is not None
    session.clear()  # nothing of the signed-out visit (its CSRF token) carries over into the session
    login_user(Staff(outcome.person, outcome.token))
    return redirect(safe_next(request.args.get("next")), code=303)


@bp.post("/logout")
def logout() -> Any:
    h = hub()
    with h.engine.begin() as conn:
        signin.end(conn, current_user.token, h.now())
    logout_user()
    session.clear()
    return redirect(url_for("ops.auth.login"), code=303)


def _form(email: str = "", error: str = "", status: int = 200) -> Any:
    return page("login.html", status, title="Вхід до консолі", email=email, error=error,
                next=request.args.get("next", ""))
