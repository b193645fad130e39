"""The console from the command line (issue 19), for 3 a.m. over SSH: `outages users add|list|disable`, `outages
audit`, `outages rejected` (the rows /ops lists first), `outages records` (find records as a resident names the
house) and `outages record N` (a record's whole story). What a person does here is audited as "cli:<os user>".

Staff-only output: contacts, officials' addresses. Nothing here is reachable from the public site."""

from __future__ import annotations

import getpass
import json
import sys

import click

from outages.cli.context import Context, fail
from outages.cli.group import cli
from outages.cli.story_text import found_lines, story_lines
from outages.console import audit as trail
from outages.console import find, people, worklist
from outages.console.story import story
from outages.tables import text_table
from outages.times import fmt

pass_ctx = click.make_pass_decorator(Context)

FORMATS = click.Choice(["text", "json"])


@cli.group("users")
def users() -> None:
    """Працівники консолі /ops / The console's people."""


@users.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(people.ROLES), required=True,
              help="operator: робота з записами / records; admin: також люди / also people.")
@click.option("--password-stdin", is_flag=True,
              help="Прочитати пароль зі стандартного вводу (один рядок) / Read the password from standard input.")
@pass_ctx
def add(ctx: Context, email: str, role: str, password_stdin: bool) -> None:
    """Додати працівника / Add a person (the password only from standard input, never as an argument)."""
    if not password_stdin:
        fail("пароль подається лише зі стандартного вводу: додайте --password-stdin"
             " / give the password on standard input with --password-stdin", code=1)
    if sys.stdin.isatty():  # typed at a terminal: not echoed, not left on the screen
        password = getpass.getpass("Пароль / password: ")
    else:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    engine = ctx.ready_engine()
    try:
        with engine.begin() as conn:
            person = people.add(conn, email, role, password, now=ctx.now(), actor=trail.cli_actor())
    except people.PeopleError as exc:
        fail(str(exc), code=1)
    click.echo(f"додано / added: {person.email} ({person.role})")


@users.command("list")
@click.option("--format", "form", type=FORMATS, default="text", show_default=True,
              help="text — таблиця, json — список об'єктів / text: a table, json: a list of objects.")
@pass_ctx
def list_users(ctx: Context, form: str) -> None:
    """Усі працівники / Everyone who can (or could) sign in."""
    with ctx.ready_engine().connect() as conn:
        everyone = people.everyone(conn)
    tz = ctx.settings.tz
    if form == "json":
        click.echo(json.dumps([p.as_json(tz) for p in everyone], ensure_ascii=False, indent=1))
        return
    if not everyone:
        click.echo("працівників немає (no users): `outages users add EMAIL --role admin --password-stdin`")
        return
    click.echo(text_table(["e-mail", "роль (role)", "додано (added)", "вимкнено (disabled)"],
                          [[p.email, p.role, fmt(p.created_at, tz), fmt(p.disabled_at, tz) if p.disabled_at else ""]
                           for p in everyone]))


@users.command("disable")
@click.argument("email")
@click.option("--reason", default="", help="Чому / Why (kept in the audit trail).")
@pass_ctx
def disable(ctx: Context, email: str, reason: str) -> None:
    """Вимкнути працівника: вхід заборонено, сесії завершено / Disable a person: no sign-in, sessions ended."""
    try:
        with ctx.ready_engine().begin() as conn:
            person, changed = people.disable(conn, email, now=ctx.now(), actor=trail.cli_actor(), reason=reason)
    except people.PeopleError as exc:
        fail(str(exc), code=1)
    click.echo(f"вимкнено / disabled: {person.email}" if changed
               else f"{person.email}: уже вимкнено / already disabled")


@cli.command("audit")
@click.option("--record", type=int, default=None, help="Лише дії із записом N / Only actions on record N.")
@click.option("--format", "form", type=FORMATS, default="text", show_default=True,
              help="text — таблиця, json — список об'єктів / text: a table, json: a list of objects.")
@click.option("--limit", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Найновіші N дій; 0 — усі / The newest N actions; 0: all.")
@pass_ctx
def audit_command(ctx: Context, record: int | None, form: str, limit: int) -> None:
    """Журнал дій, від давніших до новіших / The audit trail, oldest first."""
    with ctx.ready_engine().connect() as conn:
        entries = trail.page(conn, trail.Filters(record=record), limit=limit)[::-1]
    tz = ctx.settings.tz
    if form == "json":
        click.echo(json.dumps([e.as_json(tz) for e in entries], ensure_ascii=False, indent=1))
        return
    if not entries:
        click.echo("дій не записано (no actions)")
        return
    click.echo(text_table(["час (at)", "хто (actor)", "дія (action)", "об'єкт (object)", "чому (reason)"],
                          [[fmt(e.at, tz), e.actor, e.action, e.object, e.reason] for e in entries]))


@cli.command("rejected")
@click.option("--format", "form", type=FORMATS, default="text", show_default=True,
              help="text — рядки, json — список об'єктів / text: lines, json: a list of objects.")
@click.option("--limit", type=click.IntRange(min=1), default=worklist.LIMIT, show_default=True,
              help="Найновіші N рядків / The newest N rows.")
@pass_ctx
def rejected_command(ctx: Context, form: str, limit: int) -> None:
    """Відхилені рядки, що чекають виправлення, з контактом диспетчера / Rejected rows awaiting a fix, with the
    dispatcher's contact (what /ops lists first; staff-only output)."""
    with ctx.ready_engine().connect() as conn:
        found = worklist.rejected(conn, ctx.settings.rules, limit=limit)
    tz = ctx.settings.tz
    if form == "json":
        click.echo(json.dumps({"total": found.total, "rows": [_rejected_json(r, tz) for r in found.items]},
                              ensure_ascii=False, indent=1))
        return
    if not found.items:
        click.echo("відхилених рядків, що чекають виправлення, немає (no rejected rows awaiting a fix)")
        return
    for item in found.items:
        contact = ", ".join(v for v in (item.detail.get("contact_name"), item.detail.get("contact_phone"),
                                        item.detail.get("reporter_email")) if v) or "контакт невідомий"
        emergency = " · АВАРІЯ" if item.emergency else ""
        click.echo(f"рядок {item.row}{emergency} · {fmt(item.last_seen_at, tz)} · {contact}\n  {item.verdict}")
    click.echo(f"\nпоказано (shown) {len(found.items)} з (of) {found.total}")


def _rejected_json(item: worklist.Rejected, tz) -> dict:  # noqa: ANN001
    return {"row": item.row, "source": item.source, "verdict": item.verdict, "emergency": item.emergency,
            "first_seen_at": item.first_seen_at.astimezone(tz).isoformat(),
            "last_seen_at": item.last_seen_at.astimezone(tz).isoformat(),
            "contact": {k: item.detail.get(k, "") for k in ("contact_name", "contact_phone", "reporter_email")}}


@cli.command("records")
@click.option("--q", "q", default="", metavar="АДРЕСА",
              help="Вулиця або вулиця й будинок, як каже мешканець («Соборна 14», «Soborna 14», з помилками) / A"
              " street, or a street and a house, as a resident says it (Latin letters and typos forgiven).")
@click.option("--state", type=click.Choice(find.STATES), default="live", show_default=True,
              help="live — діючі (активні й прострочені); all — також завершені, ліквідовані, скасовані / live:"
              " active and overdue; all: also ended, resolved and cancelled.")
@click.option("--active", is_flag=True, hidden=True,  # before --state was: kept for scripts
              help="Те саме, що --state live / The same as --state live.")
@click.option("--format", "form", type=click.Choice(["text", "table", "json"]), default="text", show_default=True,
              help="text — таблиця, json — об'єкт зі списком / text: a table, json: an object with the list.")
@click.option("--limit", type=click.IntRange(min=0), default=find.LIMIT, show_default=True,
              help="Найновіші N записів; 0 — усі / The newest N records; 0: all.")
@pass_ctx
def records_command(ctx: Context, q: str, state: str, active: bool, form: str, limit: int) -> None:
    """Знайти записи за адресою, найновіші першими / Find records by address, newest first (as the public site's
    search finds them)."""
    state = "live" if active else state
    with ctx.ready_engine().connect() as conn:
        found = find.find(conn, ctx.now(), ctx.settings, q, state, limit or None)
    tz = ctx.settings.tz
    if form == "json":
        click.echo(json.dumps({"total": found.total, "more": found.more, "q": " ".join(q.split()), "state": state,
                               "answer": found.answer, "records": [r.public_json(tz) for r in found.records]},
                              ensure_ascii=False, indent=1))
        return
    click.echo("\n".join(found_lines(found, tz, state)))


@cli.command("record")
@click.argument("number", type=int)
@click.option("--format", "form", type=FORMATS, default="text", show_default=True,
              help="text — для читання, json — один об'єкт / text: to read, json: one object.")
@pass_ctx
def record_command(ctx: Context, number: int, form: str) -> None:
    """Уся історія запису: рядки форми з вердиктами, події, дії працівників, повідомлення та їх доставка / A
    record's whole story: its form rows with their verdicts, events, people's actions, messages and their delivery
    (staff-only output: contacts included)."""
    with ctx.ready_engine().connect() as conn:
        found = story(conn, number, ctx.now(), ctx.settings)
    if found is None:
        fail(f"запис №{number} не знайдено / record {number} not found", code=1)
    tz = ctx.settings.tz
    if form == "json":
        click.echo(json.dumps(found.as_json(tz), ensure_ascii=False, indent=1))
        return
    click.echo("\n".join(story_lines(found, tz)))
