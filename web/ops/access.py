"""Who may see /ops, and how its answers travel: the session (Flask-Login over outages/console/signin.py), CSRF
(Flask-WTF's CSRFProtect), roles, and headers that keep every console answer out of caches and other sites.

The app's other forms (subscriptions, relay links, the form's hook) are anonymous or signed and carry no session,
so CSRF is checked here only, for every POST under /ops (WTF_CSRF_CHECK_DEFAULT off, `csrf.protect()` in `guard`).
The session cookie is the console's alone: its path is /ops, so public pages never receive it and cannot vary on it.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps
from typing import Any, Callable

from flask import Flask, abort, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from outages.console import signin
from outages.console.people import Person
from outages.officials.words import tel
from web import hub
from web.ops import words

csrf = CSRFProtect()
login = LoginManager()
login.session_protection = "basic"

# No script at all; the site's own stylesheets; forms post only to the console itself. `same-origin` keeps the
# Referer on the console's own POSTs (Flask-WTF checks it over HTTPS) and gives other sites nothing.
OPS_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
           "frame-ancestors 'none'")

OPEN_ENDPOINTS = frozenset({"ops.auth.login_form", "ops.auth.login"})  # what a signed-out person may reach


class Staff(UserMixin):
    """A signed-in person, as Flask-Login holds them: the session's token is their id in the cookie."""

    def __init__(self, person: Person, token: str) -> None:
        self.person = person
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def email(self) -> str:
        return self.person.email

    @property
    def is_admin(self) -> bool:
        return self.person.is_admin


def setup(state: Any) -> None:
    """Called once when the blueprint is registered (create_app): the session, CSRF and login on the app."""
    app: Flask = state.app
    settings = app.extensions["outages"].settings
    if _secret(settings) and not app.secret_key:
        app.secret_key = _secret(settings)
    app.config.update(
        SESSION_COOKIE_NAME="outages_ops", SESSION_COOKIE_PATH="/ops", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=_https(settings),
        WTF_CSRF_CHECK_DEFAULT=False,
        # The token lives as long as the session that holds it: a sign-in page left open over lunch still works.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    # Only attached: LoginManager.init_app would add an after_request for remember-me cookies that opens the session
    # on every public request (a `Vary: Cookie` on every page). The console never remembers anyone.
    app.login_manager = login


def _secret(settings: Any) -> str:
    return str(settings.data.get("secret_key") or "")


def secret_key() -> str:
    """The key that signs the sessions (OUTAGES_SECRET_KEY); empty: the console is off."""
    return _secret(hub().settings)


def _https(settings: Any) -> bool:
    return str(getattr(settings, "public_url", "") or "").startswith("https://")


@login.user_loader
def _load(token: str) -> Staff | None:
    h = hub()
    idle = timedelta(minutes=h.settings.ops_session_minutes)
    with h.engine.begin() as conn:
        person = signin.resume(conn, token, h.now(), idle)
    return None if person is None else Staff(person, token)


def guard() -> Any:
    """Before every /ops request: a secret key, then CSRF for a POST, then a session (except on the login page)."""
    if not secret_key():
        return page("unavailable.html", 503, title="Консоль недоступна")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # raises CSRFError (400) before the view runs: nothing changes
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("ops.auth.login", next=target))
    return None


def admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return checked


def private(response: Any) -> Any:
    # The console's answers hold staff-only data: no cache or proxy keeps them, no search engine lists them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = OPS_CSP
    response.headers["X-Frame-Options"] = "DENY"
    return response


def page(template: str, status: int = 200, **context: Any) -> Any:
    """A console page in its frame (templates/ops/base.html), in Ukrainian, in the city's time."""
    h = hub()
    me = current_user if getattr(current_user, "is_authenticated", False) else None
    tz = h.settings.tz
    return render_template(f"ops/{template}", me=me, city=h.settings.city_name, duration=words.duration,
                           when=lambda moment: words.when(moment, tz), iso=lambda moment: words.iso(moment, tz),
                           tel=tel, data=words.data,
                           **context), status


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path only, never another site (an open redirect)."""
    if target and target.startswith("/ops") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("ops.today.index")
