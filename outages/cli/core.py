"""Core commands: init, config, check, sync, records, report."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from .. import db, queries, report
from ..parse import UnusableInput
from ..planner import Plan
from ..settings import SETTINGS
from ..sync import SyncResult, check, sync
from ..tables import csv_text, text_table
from ..times import TimeError, fmt, parse_day
from . import Context, cli, fail

pass_ctx = click.make_pass_decorator(Context)


def read_table(spec: str, ctx: Context):  # noqa: ANN201
    return read_batch(spec, ctx).table


def read_batch(spec: str | None, ctx: Context):  # noqa: ANN201
    """Rows of a source (None: the configured one), with the source's write-back step if it has one."""
    from sheets.client import SheetsError  # the Google side, loaded only by the commands that read sheets
    from sheets.sources import open_source

    try:
        return open_source(spec, ctx.settings).pull()
    except (UnusableInput, SheetsError) as exc:
        fail(str(exc))


@cli.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Create or upgrade the database / Створити або оновити базу даних."""
    try:
        before, after = db.upgrade(ctx.engine)
    except Exception as exc:
        fail(f"не вдалося ініціалізувати базу / cannot initialise the database: {exc}")
    url = make_url(db.normalise_url(ctx.settings.database_url)).render_as_string(hide_password=True)
    state = "вже актуальна / already current" if before == after else f"{before or 'порожня / empty'} → {after}"
    click.echo(f"База даних / database {url}: {state}")


@cli.command("config")
@pass_ctx
def show_config(ctx: Context) -> None:
    """Print the effective settings, secrets masked / Показати чинні налаштування."""
    settings = ctx.settings
    masked = settings.masked()
    for setting in SETTINGS:
        value = masked.get(setting.key)
        click.echo(f"{setting.env} = {'' if value is None else value}    # {settings.sources.get(setting.key, 'default')}")
    click.echo("")
    click.echo("[columns]")
    for field_name, header in settings.columns.items():
        click.echo(f"{field_name} = {header!r}")
    click.echo(f"\n[rules] {json.dumps(settings.data['rules'], ensure_ascii=False)}")
    click.echo(f"districts: {', '.join(settings.districts.names)}")
    click.echo(f"services: {', '.join(settings.services.names)}")
    click.echo(f"utilities: {', '.join(settings.utilities.names)}")


def _engine_if_initialised(ctx: Context) -> Engine | None:
    url = make_url(db.normalise_url(ctx.settings.database_url))
    if url.drivername.startswith("sqlite") and url.database and not Path(url.database).exists():
        return None  # checking must not create a database file
    try:
        return ctx.engine if db.has_schema(ctx.engine) else None
    except Exception as exc:
        fail(f"база даних недоступна / database unreachable: {exc}")


@cli.command("check")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def check_command(ctx: Context, source: str, as_json: bool) -> None:
    """What sync would decide for SOURCE, saving nothing / Перевірити без збереження."""
    table = read_table(source, ctx)
    try:
        the_plan = check(_engine_if_initialised(ctx), table, ctx.settings)
    except UnusableInput as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(the_plan.as_json(), ensure_ascii=False, indent=1))
        return
    _print_decisions(the_plan, only_changes=False)
    summary = the_plan.summary()
    click.echo(f"\nприйнято (accepted): {summary['accepted']} · відхилено (rejected): {summary['rejected']}"
               f" · із запізненням (late): {summary['late']}")


def _print_decisions(the_plan: Plan, only_changes: bool) -> None:
    for d in the_plan.decisions:
        if only_changes and d.change == "unchanged":
            continue
        click.echo(f"рядок {d.row}: {the_plan.verdict(d)}")


@cli.command("sync")
@click.option("--source", default=None, help="A CSV or XLSX export, a published CSV URL or gsheet:KEY[#WORKSHEET];"
              " default: the configured source (OUTAGES_SOURCE, OUTAGES_SHEETS_KEY).")
@pass_ctx
def sync_command(ctx: Context, source: str | None) -> None:
    """One sync of the response sheet into the store / Одна синхронізація."""
    from sheets.client import SheetsError

    engine = ctx.ready_engine()
    batch = read_batch(source, ctx)
    try:
        result = sync(engine, batch.table, ctx.settings, ctx.now(), after=batch.after)
    except UnusableInput as exc:
        fail(str(exc))
    except SheetsError as exc:  # writing verdicts back failed: the store rolled back, the next sync retries
        fail(str(exc))
    print_sync(result)


def print_sync(result: SyncResult) -> None:
    _print_decisions(result.plan, only_changes=True)
    c = result.counts
    click.echo(
        f"Синхронізовано {result.plan.source}: нових (new) {c['new']} · оновлено (updated) {c['updated']}"
        f" · ліквідовано (resolved) {c['resolved']} · відхилено (rejected) {c['rejected']}"
        f" · із запізненням (late) {c['late']} · без змін (unchanged) {c['unchanged']}"
        f" · прострочено (overdue) {c['overdue']}"
    )


@cli.command("records")
@click.option("--active", is_flag=True, help="Only records not yet resolved.")
@click.option("--format", "fmt_", type=click.Choice(["table", "json"]), default="table")
@pass_ctx
def records_command(ctx: Context, active: bool, fmt_: str) -> None:
    """List records / Перелік записів."""
    engine = ctx.ready_engine()
    tz = ctx.settings.tz
    with engine.connect() as conn:
        found = queries.list_records(conn, ctx.now(), active_only=active)
    if fmt_ == "json":
        click.echo(json.dumps([r.public_json(tz) for r in found], ensure_ascii=False, indent=1))
        return
    rows = [
        (r.number, _status_uk(r), r.kind.uk, r.executor, r.service, r.districts, fmt(r.expected_end, tz),
         _clip(r.summary, 50))
        for r in found
    ]
    click.echo(text_table(["№", "стан", "тип", "виконавець", "послуга", "райони", "термін", "коротко"], rows))
    click.echo(f"\nзаписів (records): {len(found)}")


def _status_uk(record: queries.RecordView) -> str:
    if record.status == "resolved":
        return "ліквідовано"
    return "ПРОСТРОЧЕНО" if record.overdue else "активний"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@cli.group("report")
def report_group() -> None:
    """Reports / Звіти."""


@report_group.command("deadlines")
@click.option("--since", help="First day, DD.MM.YYYY or YYYY-MM-DD (by the time a record was entered).")
@click.option("--until", help="Last day, inclusive.")
@click.option("--format", "fmt_", type=click.Choice(["table", "json", "csv"]), default="table")
@pass_ctx
def report_deadlines(ctx: Context, since: str | None, until: str | None, fmt_: str) -> None:
    """Timeliness per utility, then the breaches / Дотримання строків за виконавцями."""
    tz = ctx.settings.tz
    try:
        start = parse_day(since, tz) if since else None
        end = parse_day(until, tz) + timedelta(days=1) if until else None
    except TimeError as exc:
        fail(f"--since/--until: {exc}")
    engine = ctx.ready_engine()
    with engine.connect() as conn:
        found = queries.list_records(conn, ctx.now(), since=start, until=end)
    built = report.build(found, start, end)
    if fmt_ == "json":
        click.echo(json.dumps(built.as_json(tz), ensure_ascii=False, indent=1))
        return
    headers = ["executor", "kind", "records", "on_time", "late", "on_time_share", "median", "worst", "unit"]
    rows = [[line.as_json()[h] for h in headers] for line in built.lines]
    if fmt_ == "csv":
        click.echo(csv_text(headers, rows), nl=False)
        return
    period = f"{fmt(start, tz) or 'початок'} — {fmt(end, tz) if end else 'сьогодні'}"
    click.echo(f"Дотримання строків (regulation 7.2–7.3), період / period: {period}\n")
    uk = ["виконавець", "тип", "записів", "вчасно", "із запізненням", "вчасно, %", "медіана", "найгірше", "од."]
    click.echo(text_table(uk, [[r[0], "аварія" if r[1] == "emergency" else "планові", *r[2:5],
                                f"{r[5] * 100:.0f}" if r[5] is not None else None, *r[6:8],
                                "хв після події" if r[8] == "minutes" else "год до початку"] for r in rows]))
    click.echo(f"\nПорушення строків / breaches: {len(built.breaches)}")
    if built.breaches:
        click.echo(text_table(
            ["№", "виконавець", "тип", "послуга", "подія", "внесено", "затримка / запас"],
            [[b.number, b.executor, b.kind.uk, b.service, fmt(b.event_at, tz), fmt(b.first_recorded_at, tz),
              f"{b.deadline.delay_minutes:g} хв" if b.deadline.delay_minutes is not None
              else f"{b.deadline.lead_hours:g} год"] for b in built.breaches],
        ))

