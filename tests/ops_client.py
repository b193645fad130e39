"""The console (/ops) through Flask's test client, for tests/test_ops_auth.py and tests/test_ops_pages.py: an app
over a real store, people added through the core, and a browser-like client that reads CSRF tokens off the forms."""

from __future__ import annotations

import html
import re
from datetime import datetime

from sqlalchemy import func, select

from outages.console import people
from outages.schema import audit, ops_sessions, outbox, records, users
from outages.times import UTC

SECRET = "ops-test-secret-key"
PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(engine, settings, clock=None):
    from web import create_app

    app = create_app(settings, engine=engine)
    app.config.update(TESTING=True)
    if clock is not None:
        app.extensions["outages"].clock = clock
    return app


def add_person(engine, email: str, role: str = "operator", password: str = PASSWORD, now: datetime | None = None):
    with engine.begin() as conn:
        return people.add(conn, email, role, password, now=now or datetime.now(UTC), actor="cli:test")


def signed_in(app, engine, email: str, now: datetime, role: str = "operator"):
    """A test client of `app` signed in as a new person `email`."""
    add_person(engine, email, role, now=now)
    client = app.test_client()
    assert sign_in(client, email).status_code == 303
    return client


def text(answer) -> str:
    """A page's words as a reader sees them: tags dropped, entities read, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", answer.get_data(as_text=True))).split())


def csrf_token(client, path: str = "/ops/login") -> str:
    """The token a form of `path` carries (the client's session keeps its pair)."""
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no csrf_token on {path} ({page.status_code})"
    return found.group(1)


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/ops/login", data={"email": email, "password": password, "csrf_token": csrf_token(client),
                                           **extra})


def snapshot(engine) -> dict[str, object]:
    """What a refused request must leave as it was: the people, their sessions, the audit trail."""
    with engine.connect() as conn:
        return {
            "users": conn.execute(select(users).order_by(users.c.id)).all(),
            "sessions": conn.execute(select(ops_sessions).order_by(ops_sessions.c.id)).all(),
            "audit": conn.execute(select(func.count()).select_from(audit)).scalar(),
            "records": conn.execute(select(records).order_by(records.c.number)).all(),
            "outbox": conn.execute(select(outbox.c.id, outbox.c.status).order_by(outbox.c.id)).all(),
        }


def audit_rows(engine, action: str | None = None):
    with engine.connect() as conn:
        query = select(audit).order_by(audit.c.id)
        if action:
            query = query.where(audit.c.action == action)
        return conn.execute(query).all()
