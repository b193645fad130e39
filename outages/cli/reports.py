"""Residents' reports from the command line (issue 20): `outages reports list` (the newest of one status),
`outages reports moderate ID ACTION` (the console's moderation, the same core call) and `outages reports forget
EMAIL` (a resident asks to be forgotten). What a person does here is audited as "cli:<os user>".

Staff-only output: the reporters' contacts. Nothing here is reachable from the public site."""

from __future__ import annotations

import json

import click

from outages.cli.context import Context, fail
from outages.cli.group import cli
from outages.console import report_queue as queue
from outages.console.audit import cli_actor
from outages.reports.moderate import ACTIONS, NotAllowed, moderate
from outages.reports.store import STATUSES
from outages.tables import text_table
from outages.text import plural_word
from outages.times import fmt

pass_ctx = click.make_pass_decorator(Context)


@cli.group("reports")
def reports_group() -> None:
    """Повідомлення мешканців / Residents' reports."""


@reports_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None,
              help="Лише з цим статусом; типово — усі / Only this status; default: all.")
@click.option("--format", "form", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text — таблиця, json — список об'єктів / text: a table, json: a list of objects.")
@click.option("--limit", type=click.IntRange(min=1, max=10_000), default=100, show_default=True,
              help="Найновіші N повідомлень / The newest N reports.")
@pass_ctx
def list_reports(ctx: Context, status: str | None, form: str, limit: int) -> None:
    """Повідомлення мешканців, найновіші першими, з контактами / Residents' reports, newest first, with the
    reporters' contacts (staff-only output)."""
    with ctx.ready_engine().connect() as conn:
        found = queue.listing(conn, ctx.settings, status or "", limit=limit)
    tz = ctx.settings.tz
    if form == "json":
        click.echo(json.dumps([item.as_json(tz) for item in found], ensure_ascii=False, indent=1))
        return
    if not found:
        click.echo("повідомлень немає (no reports)")
        return
    click.echo(text_table(
        ["№", "надійшло (at)", "статус (status)", "послуга (service)", "адреса (place)", "джерело (source)",
         "мешканець (contact)", "опис (description)"],
        [[i.id, fmt(i.report.created_at, tz), i.report.status + (" · SOS" if i.sos else ""), i.service_name,
          i.place or i.report.address, i.source_uk, _contact(i.report), _short(i.report.description)]
         for i in found]))


@reports_group.command("moderate")
@click.argument("report_id", metavar="ID", type=int)
@click.argument("action", type=click.Choice(ACTIONS))
@click.option("--note", default="", help="Роз'яснення (для explain) або причина / The explanation (explain) or why.")
@click.option("--record", type=click.IntRange(min=1), default=None,
              help="Номер запису (для attach) / The record's number (attach).")
@pass_ctx
def moderate_report(ctx: Context, report_id: int, action: str, note: str, record: int | None) -> None:
    """Модерувати повідомлення, як у консолі / Moderate a report, as on /ops/reports/ID: accept, reject, explain
    (with --note), done, attach (with --record)."""
    try:
        with ctx.ready_engine().begin() as conn:
            report = moderate(conn, ctx.settings, report_id, action, actor=cli_actor(), now=ctx.now(), note=note,
                              record=record)
    except NotAllowed as refused:
        fail(f"нічого не змінено / nothing changed: {refused}", code=1)
    status = queue.STATUS_UK.get(report.status, report.status)
    click.echo(f"Зроблено / done: №{report.id} — {status}{': ' + report.note if report.note else ''}")


@reports_group.command("forget")
@click.argument("email")
@pass_ctx
def forget_command(ctx: Context, email: str) -> None:
    """Стерти контакти мешканця з усіх його повідомлень / Erase a resident's contacts from every report (what they
    said stays; their own mails are deleted); prints in how many reports it was."""
    with ctx.ready_engine().begin() as conn:
        count = queue.forget_contacts(conn, email, actor=cli_actor(), now=ctx.now())
    word = plural_word(count, "повідомленні", "повідомленнях", "повідомленнях")
    click.echo(f"Контакти стерто: адресу знайдено в {count} {word} / contacts erased from {count} report(s)")


def _contact(report) -> str:  # noqa: ANN001
    if report.erased_at is not None:
        return "стерто (erased)"
    return ", ".join(v for v in (report.name, report.phone, report.email) if v) or "—"


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
