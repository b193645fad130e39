"""The worker's commands: run (the long-running sync + mail process), status, doctor."""

from __future__ import annotations

import json
import logging
import sys
import threading

import click

from outages import db, redact
from outages import worker as hub_worker
from outages.cli.context import Context, fail
from outages.cli.group import cli
from outages.delivery.peer import PeerError
from outages.officials import digest
from outages.officials.options import mail_options
from outages.options import load_checked
from outages.residents.lanes import channel_state
from outages.settings import SettingsError
from outages.times import fmt
from outages.transports.telegram import BotApi, telegram_options

pass_ctx = click.make_pass_decorator(Context)


@cli.command("run")
@click.option("--once", is_flag=True, help="Один цикл (синхронізація, потім пошта) і вихід: для cron"
              " / One cycle (sync, then mail) and exit: for cron.")
@click.option("--source", default=None, help="Інше джерело замість налаштованого (gsheet:KEY, CSV-посилання або файл)"
              " / Override the configured source (gsheet:KEY, a CSV URL or a file).")
@click.option("--publish", "publish_dir", default=None,
              help="Також писати статичний сайт у цю теку після кожної зміни (типово OUTAGES_PUBLISH_DIR)"
              " / Also write the static site to this folder after each change (default OUTAGES_PUBLISH_DIR).")
@pass_ctx
def run_command(ctx: Context, once: bool, source: str | None, publish_dir: str | None) -> None:
    """Sync every OUTAGES_SYNC_INTERVAL seconds or at a push, then send mail / Робочий процес."""
    from outages.records.parse import UnusableInput
    from sheets.client import SheetsError
    from sheets.sources import open_source

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    redact.install()  # a published sheet's token or a password in a URL never reaches the log
    engine = ctx.ready_engine()  # the settings, mail options included, were checked when they loaded
    stop = threading.Event()
    try:
        src = open_source(source, ctx.settings, stop=stop)
    except (UnusableInput, SheetsError) as exc:
        fail(str(exc))
    publish_dir = publish_dir or str(ctx.settings.data.get("publish_dir") or "")
    worker = hub_worker.Worker(engine, ctx.settings, src.pull, src.label, stop=stop, echo=click.echo,
                               publish=_publisher(ctx, engine, publish_dir) if publish_dir else None)
    if not once:
        click.echo(f"Запущено / started: {src.label}, кожні / every {ctx.settings.sync_interval:g} с;"
                   f" процес / worker {worker.holder}")
    raise SystemExit(worker.run(once=once))


def _publisher(ctx: Context, engine, directory: str):  # noqa: ANN001, ANN202
    """Write the static site to `directory`: the worker's publishing lane calls it when the data changed (or every
    5 minutes, for the clock), `run --once` after its sync."""
    from web import create_app  # the web side, loaded only when publishing is asked for
    from web.publish import publish as run

    made = []  # one app for the worker's life: its templates are compiled once, not at every publish

    def publish() -> None:
        if not made:
            made.append(create_app(ctx.settings, engine=engine))
        run(made[0], directory, log=lambda line: click.echo(line, err=True))

    return publish


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Вивести один об'єкт JSON / Print one JSON object.")
@pass_ctx
def status_command(ctx: Context, as_json: bool) -> None:
    """Last sync: when, result, rows, errors, source / Стан синхронізації."""
    engine = ctx.ready_engine()
    state = hub_worker.status(engine, ctx.now())
    try:
        from sheets.sources import configured_spec

        state["configured_source"] = configured_spec(ctx.settings)
    except Exception:  # noqa: BLE001  (no source configured: say so below)
        state["configured_source"] = None
    state["telegram_channel"] = channel_state(engine, ctx.settings)
    state["mail"] = _mail_state(ctx, engine)
    with engine.connect() as conn:
        state["digests"] = digest.pending(conn)
    if as_json:
        click.echo(json.dumps(state, ensure_ascii=False, indent=1))
        return
    tz = ctx.settings.tz
    last, last_ok = state["last"], state["last_ok"]
    click.echo(f"Джерело / configured source: {state['configured_source'] or 'не задано / not set'}")
    if last is None:
        click.echo("Синхронізацій ще не було / no sync yet: `outages sync` або / or `outages run`")
    else:
        verdict = "успішно / ok" if last["ok"] else "ПОМИЛКА / FAILED"
        click.echo(f"Остання синхронізація / last sync: {_when(last['started_at'], tz)} — {verdict}"
                   f" ({last['source']})")
        if last["ok"]:
            c = last["counts"]
            click.echo(f"  рядків / rows: {last['rows']} — нових (new) {c.get('new', 0)} · оновлено (updated)"
                       f" {c.get('updated', 0)} · ліквідовано (resolved) {c.get('resolved', 0)} · відхилено"
                       f" (rejected) {c.get('rejected', 0)} · без змін (unchanged) {c.get('unchanged', 0)}")
        else:
            click.echo(f"  помилка / error: {last['error']}")
            click.echo(f"  невдалих поспіль / failures in a row: {state['failures_since_ok']}")
            if last_ok:
                click.echo(f"Остання успішна / last success: {_when(last_ok['started_at'], tz)}"
                           f" ({last_ok['rows']} рядків / rows)")
    lock = state["lock"]
    click.echo("Блокування / sync lease: " + (f"{lock['holder']} до / until {_when(lock['expires_at'], tz)}"
                                             if lock["holder"] else "вільне / free"))
    push = f", останній / last {_when(state['last_push'], tz)}" if state["last_push"] else ""
    click.echo(f"Push-запити в черзі / pushes pending: {state['pushes_pending']}{push}")
    _echo_mail(state["mail"], tz)
    if state["digests"]["items"]:
        waiting = state["digests"]
        click.echo(f"Зведення / digests: чекають змін / changes waiting {waiting['items']} для адресатів / for"
                   f" recipients {waiting['recipients']}, перше зведення / first digest"
                   f" {_when(waiting['next_due'], tz)}")
    _echo_channel(state["telegram_channel"], tz)


def _mail_state(ctx: Context, engine) -> dict:  # noqa: ANN001
    from datetime import datetime, timedelta

    from outages.delivery.drain import state as delivery_state

    options = mail_options(ctx.settings)
    timeout, drain_every = options.smtp_timeout, options.drain_interval + options.drain_budget
    # Longer than two command timeouts without an answer: not a slow reply any more, the server is holding on.
    state = delivery_state(engine, ctx.now(), stall_after=timedelta(seconds=2 * timeout))
    # Due mail older than a drain's interval and budget (and a minute more) with nothing in progress: no worker
    # is draining the outbox at all.
    since = datetime.fromisoformat(state["due_since"]) if state["due_since"] else None
    state["undrained"] = bool(since and not state["in_progress"]
                              and (ctx.now() - since).total_seconds() > drain_every + 60)
    return state


def _echo_mail(mail: dict, tz) -> None:  # noqa: ANN001
    for busy in mail["in_progress"]:
        if busy["stalled"]:
            click.echo(f"Пошта / mail: ДОСТАВКА ЗАВИСЛА / delivery STALLED — лист {busy['outbox_id']} до"
                       f" {busy['recipient']} чекає відповіді поштового сервера {busy['seconds'] // 60} хв"
                       f" {busy['seconds'] % 60} с (з / since {_when(busy['started_at'], tz)}); решта пошти чекає,"
                       " синхронізація працює / the server has not answered; syncing goes on")
        else:
            click.echo(f"Пошта / mail: надсилається / sending лист {busy['outbox_id']} до {busy['recipient']}"
                       f" ({busy['seconds']} с)")
    if mail["undrained"]:
        click.echo(f"Пошта / mail: НІХТО НЕ НАДСИЛАЄ / nobody is sending — {mail['due']} листів чекають з"
                   f" {_when(mail['due_since'], tz)}: запустіть `outages run` або `outages send`"
                   " / start the worker")
    since = f", найдавніший з / oldest since {_when(mail['due_since'], tz)}" if mail["due_since"] else ""
    click.echo(f"Пошта в черзі / mail due: {mail['due']}{since} · чекають повтору / waiting to retry"
               f" {mail['waiting_retry']} · не доставлено / failed {mail['failed']}"
               f" · остання надіслана / last sent {_when(mail['last_sent_at'], tz)}")


def _echo_channel(channel: dict | None, tz) -> None:  # noqa: ANN001
    """The city's Telegram channel must never go quiet unnoticed: failures are said plainly."""
    if channel is None:
        return
    last = _when(channel["last_sent"], tz) if channel["last_sent"] else "ще нічого / nothing yet"
    click.echo(f"Канал Telegram / channel {channel['channel']}: надіслано (sent) {channel['sent']}, у черзі (queued)"
               f" {channel['queued']}, останнє / last {last}")
    if channel["failed"]:
        click.echo(f"  УВАГА / WARNING: не доставлено (failed) {channel['failed']}; остання помилка / last error:"
                   f" {channel['last_error']} — див. / see `outages outbox --status failed`")


def _when(iso: str | None, tz) -> str:  # noqa: ANN001
    from datetime import datetime

    return fmt(datetime.fromisoformat(iso), tz) if iso else "—"


@cli.command("doctor")
@click.option("--source", default=None, help="Перевірити це джерело замість налаштованого"
              " / Check this source instead of the configured one.")
def doctor_command(source: str | None) -> None:
    """Check settings, credentials, sheet access, headers, database, mail server / Перевірити налаштування."""
    problems = warnings = 0

    def say(ok: bool, what: str, detail: str = "", warning: bool = False) -> None:
        nonlocal problems, warnings
        mark = "✓" if ok and not warning else ("!" if ok else "✗")
        problems += 0 if ok else 1
        warnings += 1 if ok and warning else 0
        click.echo(f"{mark} {what}" + (f": {detail}" if detail else ""))

    try:
        settings = load_checked()
    except SettingsError as exc:
        say(False, "налаштування / settings", f"{exc} — виправте змінну або файл налаштувань / fix it")
        raise SystemExit(1)
    say(True, "налаштування / settings", f"місто / city {settings.city_name}, {settings.tz.key}")
    for what, detail in _quiet_gaps(settings):
        say(True, what, detail, warning=True)
    _check_database(settings, say)
    from sheets.doctor import check_source

    for check in check_source(settings, source):
        say(check.ok, check.what, check.detail, check.warning)
    _check_smtp(settings, say)
    _check_telegram(settings, say)
    if problems:
        click.echo(f"\nПроблем / problems: {problems}" + (f", попереджень / warnings: {warnings}" if warnings else ""))
        raise SystemExit(1)
    if warnings:
        click.echo(f"\nПрацює, але є попередження / works, with warnings: {warnings} (позначені «!» / marked «!»)")
        return
    click.echo("\nУсе гаразд / all good")


def _check_telegram(settings, say) -> None:  # noqa: ANN001
    """The bot's token works (getMe), and a channel is named for the posts."""
    options = telegram_options(settings)
    if not options.token:
        say(True, "Telegram", "вимкнено: OUTAGES_TELEGRAM_BOT_TOKEN не задано — ні каналу, ні бота / off: no token")
        return
    api = BotApi(options)
    try:
        me = api.call("getMe", {})
    except PeerError as exc:
        say(False, "Telegram", f"{exc} — перевірте OUTAGES_TELEGRAM_BOT_TOKEN / check the bot's token")
        return
    finally:
        api.close()
    bot = f"бот / bot @{(me or {}).get('username', '?')} відповідає / answers"
    if options.channel:
        say(True, "Telegram", f"{bot}, канал / channel {options.channel}")
    else:
        say(True, "Telegram", f"{bot}; OUTAGES_TELEGRAM_CHANNEL не задано — постів у канал немає / no channel set",
            warning=True)


def _quiet_gaps(settings) -> list[tuple[str, str]]:  # noqa: ANN001
    """Settings whose absence stops nothing at start-up but quietly breaks something: a warning each, naming
    what breaks (doctor still passes: the demo runs without them)."""
    data = settings.data
    gaps = []
    if not data.get("public_url"):
        gaps.append(("OUTAGES_PUBLIC_URL", "не задано — посилання в листах (сторінка запису, «Інформацію передано»)"
                     " ведуть на http://127.0.0.1:5000, і адресати їх не відкриють / empty: links in e-mail point"
                     " at 127.0.0.1"))
    if not data.get("secret_key"):
        gaps.append(("OUTAGES_SECRET_KEY", "не задано — листи йдуть без посилань «Інформацію передано»: чергові"
                     " не можуть підтвердити передачу (п. 7.6) / empty: no relay confirmation links in e-mail"))
    if not data.get("hook_secret"):
        gaps.append(("OUTAGES_HOOK_SECRET", f"не задано — push-запити форми (POST /hooks/form-submitted)"
                     f" відхиляються, нові рядки чекають наступної синхронізації (кожні {settings.sync_interval:g} с)"
                     " / empty: form pushes are refused, new rows wait for the timed sync"))
    return gaps


def _check_database(settings, say) -> None:  # noqa: ANN001
    try:
        engine = db.engine_for(settings)
        db.require_schema(engine)
        say(True, "база даних / database", db.normalise_url(settings.database_url).split("://")[0])
    except db.SchemaError as exc:
        say(False, "база даних / database", str(exc))
    except Exception as exc:  # noqa: BLE001  (unreachable, bad URL, missing driver)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        say(False, "база даних / database", f"недоступна / unreachable ({first}): перевірте OUTAGES_DATABASE_URL")


def _check_smtp(settings, say) -> None:  # noqa: ANN001
    """Connect as the worker does (TLS as configured) and, when OUTAGES_SMTP_USER is set, log in: a wrong
    password must show here, not as mail that never leaves."""
    from dataclasses import replace

    from outages.transports.smtp import LoginRefused, SmtpTransport, TransportError

    host = settings.data.get("smtp_host")
    if not host:
        say(True, "поштовий сервер / mail server", "не налаштовано (OUTAGES_SMTP_HOST) / not configured",
            warning=True)
        return
    options = replace(mail_options(settings), smtp_timeout=10)
    where = f"{options.host}:{options.port}"
    transport = SmtpTransport(options)
    try:
        transport.open()
    except LoginRefused as exc:
        say(False, "поштовий сервер / mail server",
            f"{where} відмовив у вході користувачу {options.user} ({exc.answer}): перевірте OUTAGES_SMTP_USER"
            " / OUTAGES_SMTP_PASSWORD / the server refused the login")
        return
    except TransportError as exc:
        say(False, "поштовий сервер / mail server",
            f"{where} недоступний ({exc}): перевірте OUTAGES_SMTP_HOST / OUTAGES_SMTP_PORT і мережу"
            " / the mail server does not answer")
        return
    finally:
        transport.close()
    if options.user:
        say(True, "поштовий сервер / mail server", f"{where} відповідає, вхід як {options.user} успішний"
            " / answers, login accepted")
    else:
        say(True, "поштовий сервер / mail server", f"{where} відповідає / answers EHLO (без входу / no login)")
