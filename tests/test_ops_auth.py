"""The console's people, sign-in and sessions (issue 19), on SQLite and PostgreSQL through the real Flask app:
the CLI (`outages users`, `outages audit`), every /ops route signed out, every POST without CSRF, the login throttle
at a pinned clock, one answer for an unknown e-mail and a wrong password, session expiry, roles, the cookie."""

from __future__ import annotations

import json
import re
import statistics
import time
from datetime import datetime, timedelta

import pytest
import time_machine
from ops_client import (
    PASSWORD,
    SECRET,
    TOKEN,
    add_person,
    audit_rows,
    csrf_token,
    make_app,
    sign_in,
    snapshot,
)
from rows import emergency, table
from sqlalchemy import select, text, update

from outages.console import audit as trail
from outages.console import people
from outages.records.sync import sync
from outages.schema import audit, ops_sessions, outbox, users
from outages.settings import load
from outages.times import UTC

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def env(env, monkeypatch):
    """The shared clean environment, with the key that signs the console's sessions."""
    monkeypatch.setenv("OUTAGES_SECRET_KEY", SECRET)
    return env | {"OUTAGES_SECRET_KEY": SECRET}


@pytest.fixture
def app(engine, settings):
    return make_app(engine, settings)


def a_record(engine, settings) -> None:
    """Record №1 with a failed message: what the record actions and the resend would change."""
    sync(engine, table(emergency()), settings, datetime(2026, 11, 22, 14, 10, tzinfo=UTC))
    with engine.begin() as conn:
        conn.execute(update(outbox).values(status="failed"))


def ops_rules(app) -> list[tuple[str, set[str]]]:
    """Every route of the console, as the app knows it: a new page is covered without touching these tests. A
    route's parameters are filled in (`/ops/records/<int:number>` is asked as `/ops/records/1`)."""
    return sorted((re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule), set(rule.methods or ()) - {"HEAD", "OPTIONS"})
                  for rule in app.url_map.iter_rules() if rule.rule == "/ops" or rule.rule.startswith("/ops/"))


# ---- the CLI ----

def test_users_add_takes_the_password_from_stdin_and_refuses_short_ones_and_duplicates(run_cli, engine):
    short = run_cli("users", "add", "op@example.org", "--role", "operator", "--password-stdin", input="elevenchars\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    argv = run_cli("users", "add", "op@example.org", "--role", "operator")  # never a password in argv
    assert argv.exit_code == 1 and "--password-stdin" in argv.output
    added = run_cli("users", "add", "Op@Example.org", "--role", "operator", "--password-stdin", input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "op@example.org" in added.output and PASSWORD not in added.output
    again = run_cli("users", "add", "OP@example.ORG", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in again.output
    bad_role = run_cli("users", "add", "x@example.org", "--role", "root", "--password-stdin", input=PASSWORD + "\n")
    assert bad_role.exit_code != 0
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.email, users.c.role, users.c.password_hash)).all()
    assert [(e, r) for e, r, _ in stored] == [("op@example.org", "operator")]
    assert stored[0][2].startswith("$argon2id$") and PASSWORD not in stored[0][2]


def test_users_list_disable_and_the_audit_as_json(run_cli, engine, app):
    for email, role in (("admin@example.org", "admin"), ("op@example.org", "operator")):
        assert run_cli("users", "add", email, "--role", role, "--password-stdin", input=PASSWORD).exit_code == 0
    listed = json.loads(run_cli("users", "list", "--format", "json").output)
    assert [(p["email"], p["role"], p["disabled_at"]) for p in listed] == [
        ("admin@example.org", "admin", None), ("op@example.org", "operator", None)]
    assert "op@example.org" in run_cli("users", "list").output
    assert sign_in(app.test_client(), "op@example.org").status_code == 303  # can sign in while enabled

    disabled = run_cli("users", "disable", "op@example.org", "--reason", "left the team")
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    assert "already disabled" in run_cli("users", "disable", "op@example.org").output
    assert run_cli("users", "disable", "nobody@example.org").exit_code == 1
    listed = json.loads(run_cli("users", "list", "--format", "json").output)
    assert listed[1]["disabled_at"] is not None

    refused = sign_in(app.test_client(), "op@example.org")
    assert refused.status_code == 200 and "Невірний e-mail або пароль" in refused.get_data(as_text=True)

    with engine.begin() as conn:  # a record's action, as the console's later parts will write them
        trail.write(conn, at=START, actor="op@example.org", action="record_cancel", object=trail.record_object(20),
                    reason="хибний виклик", before={"status": "active"}, after={"status": "cancelled"})
    entries = json.loads(run_cli("audit", "--format", "json").output)
    assert [e["action"] for e in entries] == ["user_add", "user_add", "login", "user_disable", "login_failed",
                                              "record_cancel"]
    assert set(entries[0]) == {"id", "at", "actor", "action", "object", "reason", "before", "after"}
    assert entries[0]["actor"].startswith("cli:") and entries[0]["after"] == {"email": "admin@example.org",
                                                                              "role": "admin"}
    assert entries[3]["object"] == "user:op@example.org" and entries[3]["reason"] == "left the team"
    assert entries[4]["reason"] == "disabled"
    assert json.loads(run_cli("audit", "--record", "20", "--format", "json").output) == [entries[5]]
    assert json.loads(run_cli("audit", "--record", "21", "--format", "json").output) == []
    assert "record_cancel" in run_cli("audit", "--record", "20").output
    everything = json.dumps(entries, ensure_ascii=False)
    assert PASSWORD not in everything and "argon2" not in everything  # never a password or its hash


def test_the_audit_trail_cannot_be_changed_or_deleted(engine, run_cli):
    run_cli("users", "add", "admin@example.org", "--role", "admin", "--password-stdin", input=PASSWORD)
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert len(audit_rows(engine)) == 1


# ---- signed out, CSRF ----

def test_every_ops_route_signed_out_redirects_to_the_login_and_changes_nothing(app, engine, settings):
    add_person(engine, "admin@example.org", "admin")
    a_record(engine, settings)
    client = app.test_client()
    token = csrf_token(client)  # a real form's token: only the missing session stops these
    before = snapshot(engine)
    rules = ops_rules(app)
    assert {path for path, _ in rules} >= {"/ops", "/ops/login", "/ops/logout", "/ops/audit", "/ops/people",
                                          "/ops/records/new", "/ops/records/1", "/ops/records/1/cancel",
                                          "/ops/outbox/1/resend",
                                          "/ops/people/disable"}
    for path, methods in rules:
        if path == "/ops/login":
            continue
        for method in methods:
            answer = client.open(path, method=method, data={"csrf_token": token, "email": "x@example.org",
                                                            "role": "admin", "password": PASSWORD})
            assert answer.status_code == 302, (method, path)
            assert answer.headers["Location"].startswith("/ops/login"), (method, path)
            assert answer.headers["Cache-Control"] == "no-store"
    assert snapshot(engine) == before
    assert client.get("/ops/audit?record=5").headers["Location"] == "/ops/login?next=/ops/audit?record%3D5"


def test_every_post_without_csrf_token_is_400_and_changes_nothing(app, engine, settings):
    add_person(engine, "admin@example.org", "admin")
    a_record(engine, settings)
    add_person(engine, "op@example.org")
    client = app.test_client()
    assert sign_in(client, "admin@example.org").status_code == 303
    before = snapshot(engine)
    posts = [path for path, methods in ops_rules(app) if "POST" in methods]
    assert set(posts) >= {"/ops/login", "/ops/logout", "/ops/people", "/ops/people/disable"}
    for path in posts:
        for data in ({}, {"csrf_token": "forged"}):
            answer = client.post(path, data=data | {"email": "op@example.org", "role": "admin",
                                                    "password": PASSWORD})
            assert answer.status_code == 400, path
            assert "Нічого не змінено" in answer.get_data(as_text=True)
    fresh = app.test_client()  # signed out: the login itself needs the token too
    assert fresh.post("/ops/login", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 400
    assert snapshot(engine) == before
    assert client.get("/ops").status_code == 200  # still signed in: the logout without a token did nothing


# ---- the throttle, one answer ----

def test_five_wrong_passwords_lock_the_account_for_15_minutes_even_with_the_right_one(app, engine):
    add_person(engine, "op@example.org")
    add_person(engine, "other@example.org")
    client = app.test_client()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            wrong = sign_in(client, "op@example.org", "not the password at all")
            assert wrong.status_code == 200 and "Невірний e-mail або пароль" in wrong.get_data(as_text=True)
            clock.shift(timedelta(minutes=2))
        fifth = START + timedelta(minutes=8)  # the five came at 0, 2, 4, 6 and 8 minutes
        locked = sign_in(client, "op@example.org")  # the right password
        assert locked.status_code == 429 and "Забагато невдалих спроб" in locked.get_data(as_text=True)
        assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
        assert sign_in(app.test_client(), "other@example.org").status_code == 303  # only this account
        clock.move_to(fifth + timedelta(minutes=14, seconds=59))
        assert sign_in(client, "op@example.org").status_code == 429  # refused attempts do not extend the lock
        clock.move_to(fifth + timedelta(minutes=15, seconds=1))
        opened = sign_in(client, "op@example.org")
        assert opened.status_code == 303 and opened.headers["Location"] == "/ops"
        assert client.get("/ops").status_code == 200
    reasons = [row.reason for row in audit_rows(engine, "login_failed")]
    assert reasons == ["wrong_password"] * 5 + ["throttled"] * 2
    assert [row.actor for row in audit_rows(engine, "login")] == ["other@example.org", "op@example.org"]


def test_spread_failures_do_not_lock_and_a_sign_in_starts_the_count_again(app, engine):
    add_person(engine, "op@example.org")
    client = app.test_client()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(6):  # one every 4 minutes: never 5 within 15 minutes
            assert sign_in(client, "op@example.org", "wrong password!").status_code == 200
            clock.shift(timedelta(minutes=4))
        assert sign_in(client, "op@example.org").status_code == 303


def _same(page: str, email: str) -> str:
    return TOKEN.sub("", page).replace(email, "EMAIL")


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer_and_take_as_long(app, engine):
    add_person(engine, "op@example.org")
    client = app.test_client()
    timings: dict[str, list[float]] = {"wrong": [], "unknown": []}
    answers = {}
    for _ in range(3):  # fewer than five: no lock
        for case, email, password in (("wrong", "op@example.org", "a wrong password"),
                                      ("unknown", "nobody@example.org", "a wrong password")):
            token = csrf_token(client)
            started = time.perf_counter()
            answer = client.post("/ops/login", data={"email": email, "password": password, "csrf_token": token})
            timings[case].append(time.perf_counter() - started)
            answers[case] = (answer.status_code, _same(answer.get_data(as_text=True), email),
                             sorted(k for k in answer.headers.keys() if k != "Content-Length"))
    assert answers["wrong"] == answers["unknown"]
    assert answers["wrong"][0] == 200
    # The unknown address is checked against a dummy hash: as slow as a real check, not a quick "no such user".
    wrong, unknown = statistics.median(timings["wrong"]), statistics.median(timings["unknown"])
    assert unknown > wrong / 3 and wrong > unknown / 3, timings
    with time_machine.travel(START, tick=False):  # and the lock looks the same too
        for email in ("op@example.org", "nobody@example.org"):
            for _ in range(5):
                sign_in(client, email, "a wrong password")
            locked = sign_in(client, email)
            assert locked.status_code == 429, email
    # The typed address of nobody's account is not kept (it may be a password typed into the wrong field).
    assert not any("nobody" in row.object or "nobody" in json.dumps(row.after) for row in audit_rows(engine))


# ---- sessions ----

def test_a_session_ends_after_30_minutes_without_a_request(app, engine):
    add_person(engine, "op@example.org")
    client = app.test_client()
    with time_machine.travel(START, tick=False) as clock:
        assert sign_in(client, "op@example.org").status_code == 303
        for _ in range(3):  # in use: 29 minutes between requests, for an hour and a half
            clock.shift(timedelta(minutes=29))
            assert client.get("/ops").status_code == 200
        clock.shift(timedelta(minutes=31))
        gone = client.get("/ops")
        assert gone.status_code == 302 and gone.headers["Location"].startswith("/ops/login")
        clock.shift(timedelta(seconds=5))
        assert client.get("/ops/audit").status_code == 302  # ended for good
    with engine.connect() as conn:
        assert conn.execute(select(ops_sessions.c.ended_at)).scalar() is not None


def test_logout_ends_the_session_on_the_server_not_only_in_the_browser(app, engine):
    add_person(engine, "op@example.org")
    client = app.test_client()
    assert sign_in(client, "op@example.org").status_code == 303
    cookie = client.get_cookie("outages_ops", path="/ops")
    token = csrf_token(client, "/ops")
    out = client.post("/ops/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["Location"] == "/ops/login"
    assert client.get("/ops").status_code == 302
    replay = app.test_client()  # someone who copied the cookie before the logout
    replay.set_cookie("outages_ops", cookie.value, path="/ops")
    assert replay.get("/ops").status_code == 302


def test_disabling_a_person_ends_their_sessions_at_once(app, engine, run_cli):
    add_person(engine, "op@example.org")
    client = app.test_client()
    assert sign_in(client, "op@example.org").status_code == 303
    assert client.get("/ops").status_code == 200
    assert run_cli("users", "disable", "op@example.org").exit_code == 0
    assert client.get("/ops").status_code == 302


def test_the_session_cookie_is_httponly_lax_and_limited_to_ops(app, engine, monkeypatch):
    add_person(engine, "op@example.org")
    client = app.test_client()
    signed = sign_in(client, "op@example.org")
    cookie = signed.headers["Set-Cookie"]
    assert "outages_ops=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/ops" in cookie
    assert "Secure" not in cookie  # public_url is not https here
    monkeypatch.setenv("OUTAGES_PUBLIC_URL", "https://outages.example.org")
    secure_app = make_app(app.extensions["outages"].engine, load())
    secure = secure_app.test_client()
    page = secure.get("/ops/login", base_url="https://outages.example.org")
    assert "; Secure" in page.headers["Set-Cookie"]
    public = client.get("/")
    assert "Set-Cookie" not in public.headers and "Cookie" not in public.headers.get("Vary", "")


def test_after_signing_in_only_console_paths_are_followed(app, engine):
    add_person(engine, "op@example.org")
    for target, expected in (("/ops/audit?record=5", "/ops/audit?record=5"), ("https://evil.example/ops", "/ops"),
                             ("//evil.example/ops", "/ops"), ("/outages/1", "/ops")):
        client = app.test_client()
        token = csrf_token(client)
        answer = client.post("/ops/login?next=" + target.replace("?", "%3F").replace("&", "%26"),
                             data={"email": "op@example.org", "password": PASSWORD, "csrf_token": token})
        assert answer.status_code == 303 and answer.headers["Location"] == expected, target


# ---- roles ----

def test_an_operator_cannot_reach_people_and_an_admin_can_add_and_disable(app, engine):
    add_person(engine, "admin@example.org", "admin")
    add_person(engine, "op@example.org")
    operator = app.test_client()
    assert sign_in(operator, "op@example.org").status_code == 303
    assert operator.get("/ops/people").status_code == 403
    token = csrf_token(operator, "/ops")
    before = snapshot(engine)
    refused = operator.post("/ops/people", data={"email": "new@example.org", "role": "admin", "password": PASSWORD,
                                                 "csrf_token": token})
    assert refused.status_code == 403
    assert operator.post("/ops/people/disable", data={"email": "admin@example.org",
                                                      "csrf_token": token}).status_code == 403
    assert snapshot(engine) == before
    assert "Працівники" not in operator.get("/ops").get_data(as_text=True)

    admin = app.test_client()
    assert sign_in(admin, "admin@example.org").status_code == 303
    listing = admin.get("/ops/people")
    assert listing.status_code == 200 and "op@example.org" in listing.get_data(as_text=True)
    token = csrf_token(admin, "/ops/people")
    short = admin.post("/ops/people", data={"email": "new@example.org", "role": "operator", "password": "short",
                                            "csrf_token": token})
    assert short.status_code == 422 and "щонайменше 12" in short.get_data(as_text=True)
    duplicate = admin.post("/ops/people", data={"email": "OP@example.org", "role": "operator",
                                                "password": PASSWORD, "csrf_token": token})
    assert duplicate.status_code == 422 and "уже є" in duplicate.get_data(as_text=True)
    added = admin.post("/ops/people", data={"email": "New@Example.org", "role": "operator", "password": PASSWORD,
                                            "csrf_token": token})
    assert added.status_code == 303
    assert admin.post("/ops/people/disable", data={"email": "admin@example.org",
                                                   "csrf_token": token}).status_code == 422  # not oneself
    assert admin.post("/ops/people/disable", data={"email": "op@example.org", "reason": "пішов",
                                                   "csrf_token": token}).status_code == 303
    assert operator.get("/ops").status_code == 302  # the operator's session ended with the account
    rows = audit_rows(engine)
    changes = [(r.actor, r.action, r.object, r.reason) for r in rows if r.action.startswith("user_")]
    assert changes[-2:] == [("admin@example.org", "user_add", "user:new@example.org", ""),
                            ("admin@example.org", "user_disable", "user:op@example.org", "пішов")]
    with engine.connect() as conn:
        assert conn.execute(select(users.c.role).where(users.c.email == "new@example.org")).scalar() == "operator"
    assert sign_in(app.test_client(), "new@example.org").status_code == 303


# ---- the key, the headers ----

def test_without_a_secret_key_the_console_answers_503(engine, monkeypatch):
    monkeypatch.delenv("OUTAGES_SECRET_KEY")
    app = make_app(engine, load())
    client = app.test_client()
    for path in ("/ops", "/ops/login", "/ops/audit"):
        answer = client.get(path)
        assert answer.status_code == 503 and "OUTAGES_SECRET_KEY" in answer.get_data(as_text=True), path
    assert client.post("/ops/login", data={"email": "a@example.org", "password": PASSWORD}).status_code == 503
    assert client.get("/").status_code == 200  # the public site is not touched


def test_the_console_is_never_cached_published_or_public(app, engine):
    from web.formats import PUBLIC_BLUEPRINTS
    from web.publish import _public

    assert not any(name == "ops" or name.startswith("ops.") for name in PUBLIC_BLUEPRINTS)
    assert not _public(app.url_map, "/ops") and not _public(app.url_map, "/ops/audit")
    add_person(engine, "op@example.org")
    client = app.test_client()
    login_page = client.get("/ops/login")
    assert login_page.headers["Cache-Control"] == "no-store" and "noindex" in login_page.headers["X-Robots-Tag"]
    assert "script-src" not in login_page.headers["Content-Security-Policy"]  # default-src 'none': no script
    sign_in(client, "op@example.org")
    for path in ("/ops", "/ops/audit"):
        answer = client.get(path)
        assert answer.headers["Cache-Control"] == "no-store" and "ETag" not in answer.headers, path


def test_a_password_rehash_keeps_the_person_signed_in(app, engine):
    """A hash made with older, cheaper parameters is replaced at the next sign-in (argon2's needs_rehash)."""
    from argon2 import PasswordHasher

    person = add_person(engine, "op@example.org")
    cheap = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == person.id).values(password_hash=cheap))
    assert sign_in(app.test_client(), "op@example.org").status_code == 303
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar()
    assert stored != cheap and not people.needs_rehash(stored) and people.verify(stored, PASSWORD)
    assert len([r for r in audit_rows(engine) if r.action == "login"]) == 1
    with engine.connect() as conn:
        assert conn.execute(select(audit.c.object).where(audit.c.action == "login")).scalar() == "user:op@example.org"
