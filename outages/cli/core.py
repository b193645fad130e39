"""Core commands: init, config, check, sync, report (deadlines: records, then residents' reports; `records` is the
console's: outages/cli/console.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from outages import db
from outages.cli.context import Context, fail
from outages.cli.group import cli
from outages.gcpause import collector_paused
from outages.records import timeliness as report
from outages.records import verdict
from outages.records import views as queries
from outages.records.model import Kind
from outages.records.parse import UnusableInput
from outages.records.planner import Plan
from outages.records.sync import SyncResult, check, sync
from outages.redact import redact
from outages.reports.deadlines import takes
from outages.settings import SETTINGS
from outages.tables import csv_text, decimal, text_table, whole
from outages.times import UTC, TimeError, fmt, fmt_day, month_start, next_day, parse_day

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
    except Exception as exc:  # noqa: BLE001
        fail(f"не вдалося ініціалізувати базу / cannot initialise the database: {exc}")
    url = make_url(db.normalise_url(ctx.settings.database_url)).render_as_string(hide_password=True)
    state = "вже актуальна / already current" if before == after else f"{before or 'порожня / empty'} → {after}"
    click.echo(f"База даних / database {url}: {state}")
    # Addresses are read with the city's street catalogue: after a change of [[streets]] (or an upgrade from a
    # store without parsed addresses) every record's are read again, so search sees what the catalogue says.
    from outages.places.index import reindex

    with ctx.engine.begin() as conn:
        count = reindex(conn, ctx.settings.streets)
    click.echo(f"Адреси перечитано / addresses re-read: {count}")


@cli.command("config")
@pass_ctx
def show_config(ctx: Context) -> None:
    """Print the effective settings, secrets masked / Показати чинні налаштування."""
    settings = ctx.settings
    masked = settings.masked()
    for setting in SETTINGS:
        value = masked.get(setting.key)
        click.echo(f"{setting.env} = {'' if value is None else value}"
                   f"    # {settings.sources.get(setting.key, 'default')}")
    click.echo("")
    click.echo("[columns]")
    for field_name, header in settings.columns.items():
        click.echo(f"{field_name} = {header!r}")
    click.echo(f"\n[rules] {json.dumps(settings.data['rules'], ensure_ascii=False, default=str)}")
    click.echo(f"districts: {', '.join(settings.districts.names)}")
    click.echo(f"services: {', '.join(settings.services.names)}")
    click.echo(f"utilities: {', '.join(settings.utilities.names)}")
    for hook in settings.webhooks.values():
        # The address without its query (a token may ride there); the shared secret never.
        click.echo(f"webhook {hook.name}: {redact(hook.url)} ({', '.join(hook.kinds)}), secret ***")


def _engine_if_initialised(ctx: Context) -> Engine | None:
    url = make_url(db.normalise_url(ctx.settings.database_url))
    if url.drivername.startswith("sqlite") and url.database and not Path(url.database).exists():
        return None  # checking must not create a database file
    try:
        return ctx.engine if db.has_schema(ctx.engine) else None
    except Exception as exc:  # noqa: BLE001
        fail(f"база даних недоступна / database unreachable: {exc}")


@cli.command("check")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Вивести один об'єкт JSON / Print one JSON object.")
@pass_ctx
def check_command(ctx: Context, source: str, as_json: bool) -> None:
    """What sync would decide for SOURCE, saving nothing / Перевірити без збереження."""
    table = read_table(source, ctx)
    try:
        the_plan = check(_engine_if_initialised(ctx), table, ctx.settings, ctx.now())
    except UnusableInput as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(the_plan.as_json(), ensure_ascii=False, indent=1))
        return
    _print_decisions(the_plan, only_changes=False)
    summary = the_plan.summary()
    click.echo(f"\nприйнято (accepted): {summary['accepted']} · відхилено (rejected): {summary['rejected']}"
               f" · із запізненням (late): {summary['late']}")
    warning = foreign_sheet_warning(the_plan)
    if warning:
        click.echo("\n" + warning, err=True)


def foreign_sheet_warning(the_plan: Plan) -> str:
    """A file from another sheet is matched row by row against this store's records: its row 2 would «edit»
    record №1. When the store has accepted rows and not one row of the file is among them while some would change
    a record, say so: the verdicts above are about this store, not about that sheet on its own."""
    changes = [d.change for d in the_plan.decisions]
    # Rows that would change a record of this store, or are refused as a broken edit of one.
    edits = sum(d.change == "edit" or (d.change == "rejected" and d.record is not None) for d in the_plan.decisions)
    if edits == 0 or "unchanged" in changes:
        return ""
    return (f"Увага: жоден рядок цього файлу не збігається з рядками, які вже прийняла ця база, а {edits} змінили б"
            " її записи. Схоже, це файл іншої таблиці: вердикти вище порівнюють його із записами цієї бази."
            " Щоб перевірити файл окремо, задайте порожню базу (OUTAGES_DATABASE_URL)."
            f" / Warning: no row of this file matches a row this store has accepted, and {edits} would change its"
            " records: this looks like another sheet, checked against this store's records.")


def _print_decisions(the_plan: Plan, only_changes: bool) -> None:
    for d in the_plan.decisions:
        if only_changes and d.change == "unchanged":
            continue
        click.echo(f"рядок {d.row}: {the_plan.verdict(d)}")


@cli.command("sync")
@click.option("--source", default=None,
              help="Експорт CSV чи XLSX, опублікований CSV або gsheet:KEY[#АРКУШ]; типово — налаштоване джерело"
              " / A CSV or XLSX export, a published CSV URL or gsheet:KEY[#WORKSHEET]; default: the configured"
              " source (OUTAGES_SOURCE, OUTAGES_SHEETS_KEY).")
@pass_ctx
def sync_command(ctx: Context, source: str | None) -> None:
    """One sync of the response sheet into the store / Одна синхронізація."""
    from sheets.client import SheetsError

    engine = ctx.ready_engine()
    with collector_paused():  # as the worker does: reading a big sheet allocates as much as syncing it
        batch = read_batch(source, ctx)
    try:
        result = sync(engine, batch.take_table(), ctx.settings, ctx.now(), after=batch.after)
    except UnusableInput as exc:
        fail(str(exc))
    except SheetsError as exc:  # writing verdicts back failed: the store rolled back, the next sync retries
        fail(str(exc))
    except OperationalError as exc:  # a lock held too long, a statement over database_timeout, a server gone
        if db.store_full(exc):
            fail(db.STORE_FULL)
        reason = redact(str(exc.orig or exc).strip().splitlines()[0])
        fail(f"База даних не відповіла вчасно або недоступна ({reason}): нічого не збережено, спробуйте ще раз"
             f" / the database timed out or is unreachable: nothing was stored, try again")
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


@cli.group("report")
def report_group() -> None:
    """Reports / Звіти."""


@report_group.command("deadlines")
@click.option("--since", help="Перший день, ДД.ММ.РРРР або РРРР-ММ-ДД (за часом внесення); типово — 1-ше число"
              " цього місяця, як на /timeliness / First day, DD.MM.YYYY or YYYY-MM-DD (by the time a record was"
              " entered); default: the 1st of this month, as on /timeliness.")
@click.option("--until", help="Останній день, включно; типово — кінець цього місяця"
              " / Last day, inclusive; default: the end of this month.")
@click.option("--format", "fmt_", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Таблиця, JSON або CSV / A table, JSON or CSV.")
@pass_ctx
def report_deadlines(ctx: Context, since: str | None, until: str | None, fmt_: str) -> None:
    """Timeliness per utility, then the breaches, then residents' reports taken into work / Дотримання строків за
    виконавцями, порушення, повідомлення мешканців, взяті в роботу."""
    tz = ctx.settings.tz
    start, last = _day_option("--since", since, tz), _day_option("--until", until, tz)
    end = next_day(last, tz) if last else None
    if since is None and until is None:  # this month, as /timeliness shows it
        start, end = month_start(ctx.now(), tz), month_start(ctx.now(), tz, 1)
    engine = ctx.ready_engine()
    with engine.connect() as conn:
        found = queries.list_records(conn, ctx.now(), since=start, until=end)
        # Reports by the time they were forwarded; an open end is "until now" (nothing is forwarded later).
        taken = takes(conn, ctx.settings, start or datetime(1970, 1, 1, tzinfo=UTC),
                      end or ctx.now() + timedelta(days=1), ctx.now())
    built = report.build(found, start, end)
    if fmt_ == "json":
        click.echo(json.dumps(built.as_json(tz) | {"reports": [line.as_json() for line in taken]},
                              ensure_ascii=False, indent=1))
        return
    headers = ["executor", "kind", "records", "on_time", "late", "on_time_share", "median", "worst", "unit"]
    rows = [[line.as_json()[h] for h in headers] for line in built.lines]
    if fmt_ == "csv":
        click.echo(csv_text(headers, rows), nl=False)
        return
    rules = ctx.settings.rules
    shown_end = fmt_day(end - timedelta(hours=12), tz) if end else "сьогодні"
    click.echo(f"Дотримання строків (п. 7.2–7.3), період / period: {fmt_day(start, tz) or 'початок'} — {shown_end}\n")
    click.echo(text_table(
        ["виконавець", "тип", "записів", "вчасно", "із запізненням", "вчасно, %",
         "хв після події (медіана)", "хв після події (найбільше)", "год до початку (медіана)",
         "год до початку (найменше)"],
        [[line.executor, "аварія" if line.kind is Kind.EMERGENCY else "планові", line.records, line.on_time,
          line.late, decimal(100 * line.on_time / line.records if line.records else None, 1),
          *((whole(line.median), whole(line.worst), None, None) if line.kind is Kind.EMERGENCY
            else (None, None, whole(line.median), whole(line.worst)))]
         for line in built.lines],
    ))
    if built.cancelled:
        click.echo("\nСкасовано як помилкові (не враховано) / cancelled, left out: "
                   + ", ".join(f"{name}: {count}" for name, count in sorted(built.cancelled.items())))
    click.echo(f"\nПорушення строків / breaches: {len(built.breaches)}")
    if built.breaches:
        click.echo(text_table(
            ["№", "виконавець", "тип", "послуга", "подія", "внесено",
             f"запізнення, хв (норма {whole(rules.emergency_max_delay_minutes)})",
             f"повідомлено за, год (норма {whole(rules.planned_min_lead_hours)})"],
            [[b.number, b.executor, b.kind.uk, b.service, fmt(b.event_at, tz), fmt(b.first_recorded_at, tz),
              *((verdict.minutes_late(b.deadline, rules), None) if b.deadline.delay_minutes is not None
                else (None, verdict.hours_ahead(b.deadline, rules)))] for b in built.breaches],
        ))
    click.echo("\nПовідомлення мешканців: взято в роботу вчасно / із запізненням / не взято (п. 5.1: SOS — 30 хв,"
               " інші — 2 год) / residents' reports taken into work")
    if not taken:
        click.echo("повідомлень, переданих виконавцям за період, немає (none forwarded in the period)")
        return
    click.echo(text_table(["виконавець", "передано", "взято вчасно", "із запізненням", "не взято (строк минув)"],
                          [[t.utility, t.forwarded, t.in_time, t.late, t.not_taken] for t in taken]))


def _day_option(name: str, value: str | None, tz):  # noqa: ANN001, ANN202
    try:
        return parse_day(value, tz) if value else None
    except TimeError as exc:
        fail(f"{name} {exc}" if str(exc).startswith(value.strip()) else f"{name}: {exc}")
