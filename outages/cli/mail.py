"""Mail commands: send, outbox, directory import/check, relay, mailcatcher."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import click
from sqlalchemy import func, select

from outages.cli.context import Context, fail
from outages.cli.group import cli
from outages.cli.words import MESSAGE_KIND, OUTBOX_STATUS, ROLE, word
from outages.display import clip
from outages.officials import directory as directory_mod
from outages.officials import relay
from outages.officials.directory_check import check as check_directory
from outages.officials.options import mail_options
from outages.residents.lanes import deliver_once as deliver_residents
from outages.schema import delivery_attempts, outbox, records
from outages.settings import LOCAL_CONFIG
from outages.tables import text_table
from outages.times import fmt

pass_ctx = click.make_pass_decorator(Context)


@cli.command("send")
@click.option("--catch", "catch_dir", type=click.Path(file_okay=False),
              help="Демо: доставити в локальний «уловлювач», що пише .eml у цю теку, а не на SMTP-сервер"
              " / Demo: deliver into a local catcher writing .eml files to this folder, not the SMTP server.")
@pass_ctx
def send_command(ctx: Context, catch_dir: str | None) -> None:
    """Drain the outbox once / Надіслати повідомлення з черги."""
    from outages.officials.sender import deliver_pending
    from outages.residents.fanout import expand_due

    engine = ctx.ready_engine()
    settings = ctx.settings  # checked when they loaded, mail options included
    catcher = None
    if catch_dir:
        from outages.transports.catcher import Catcher

        catcher = Catcher(Path(catch_dir), port=0).start()
        settings = settings.with_values(smtp_host="127.0.0.1", smtp_port=catcher.port, smtp_tls="none",
                                        smtp_user="")
    # Subscribers' messages are written first, so that this one send delivers their mail too.
    fanned_out = expand_due(engine, settings, ctx.now())
    try:
        counts = deliver_pending(engine, settings, ctx.now())
    finally:
        if catcher is not None:
            catcher.stop()
    # Residents' channels: the Telegram channel and bot, webhooks (docs/subscriptions.md).
    residents = deliver_residents(engine, settings, ctx.now())
    residents["residents"]["queued"] += fanned_out
    residents_failed = residents_deferred = 0
    for channel, c in residents.items():
        if channel == "residents":
            if c.get("queued"):
                click.echo(f"підписникам додано до черги (queued for subscribers) {c['queued']}")
            continue
        click.echo(f"{channel}: надіслано (sent) {c.get('sent', 0)} · відкладено (deferred) {c.get('deferred', 0)}"
                   f" · не доставлено (failed) {c.get('failed', 0)}")
        residents_failed += c.get("failed", 0)
        residents_deferred += c.get("deferred", 0)
    with engine.connect() as conn:
        waiting = conn.execute(select(func.count()).select_from(outbox)
                               .where(outbox.c.status.in_(("queued", "sending")))).scalar()
    click.echo(f"надіслано (sent) {counts['sent']} · відкладено (deferred) {counts['deferred']}"
               f" · не доставлено (failed) {counts['failed']} · лишається в черзі (remaining) {waiting}")
    if catcher is not None:
        click.echo(f"листи / messages: {catcher.folder}")
    if waiting:
        click.echo("що лишилося / what remains: `outages outbox --status queued`")
    # A script or cron must see that mail did not go: a message that failed or had to wait exits non-zero.
    # Telegram and webhooks count too: a channel post that had to wait is as undelivered as a mail.
    failed, deferred = counts["failed"] + residents_failed, counts["deferred"] + residents_deferred
    if failed or deferred:
        click.echo(f"ПОМИЛКА доставки / delivery FAILED: не доставлено {failed}, відкладено {deferred}"
                   " — причини: `outages outbox --status failed` / `--status queued`", err=True)
        raise SystemExit(1)


@cli.command("outbox")
@click.option("--status", type=click.Choice(["queued", "sent", "failed"]),
              help="Лише в цьому стані: у черзі, надіслано, не доставлено / Only messages in this state.")
@click.option("--record", type=int, help="Лише про цей запис / Only messages about this record.")
@click.option("--limit", type=int, default=200, show_default=True,
              help="Показати не більше стількох останніх / Show at most this many, newest.")
@click.option("--format", "fmt_", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Таблиця або JSON / A table or JSON.")
@pass_ctx
def outbox_command(ctx: Context, status: str | None, record: int | None, limit: int, fmt_: str) -> None:
    """Messages and their delivery / Черга повідомлень і доставка."""
    engine = ctx.ready_engine()
    tz = ctx.settings.tz
    chosen = []
    if status == "queued":
        chosen.append(outbox.c.status.in_(("queued", "sending")))
    elif status:
        chosen.append(outbox.c.status == status)
    if record is not None:
        chosen.append(outbox.c.record_number == record)
    query = select(outbox).where(*chosen).order_by(outbox.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        rows = list(reversed(conn.execute(query).all()))
        # The summary counts what the filter chose, not the whole outbox.
        totals = dict(conn.execute(select(outbox.c.status, func.count()).where(*chosen)
                                   .group_by(outbox.c.status)).all())
        last = {}
        if fmt_ == "json" and rows:
            for a in conn.execute(select(delivery_attempts).where(
                    delivery_attempts.c.outbox_id.in_([r.id for r in rows])).order_by(delivery_attempts.c.id)):
                last.setdefault(a.outbox_id, []).append(a)
        doubtful = _maybe_twice(conn, rows)
    if fmt_ == "json":
        click.echo(json.dumps([_row_json(r, last.get(r.id, []), tz) | {"channel": r.channel,
                                                                       "maybe_twice": r.id in doubtful}
                               for r in rows], ensure_ascii=False, indent=1))
        return
    if not totals:
        click.echo("Повідомлень за цим відбором немає / no messages match" if chosen
                   else "Черга порожня / the outbox is empty")
        return
    click.echo(text_table(
        ["id", "стан", "вид", "№", "адресат", "роль", "спроб", "створено", "надіслано", "відповідь / помилка"],
        [[r.id, word(OUTBOX_STATUS, r.status), word(MESSAGE_KIND, r.kind), r.record_number, r.recipient,
          word(ROLE, r.role), r.attempts, fmt(r.created_at, tz), fmt(r.sent_at or r.failed_at, tz),
          ("⚠ МОЖЛИВО ДВІЧІ / maybe twice · " if r.id in doubtful else "")
          + _clip(r.last_error or r.last_answer or "", 60)] for r in rows],
    ))
    if doubtful:
        click.echo("⚠ Спроба перервалася під час надсилання в Telegram (процес зупинено примусово): повідомлення могло"
                   " з'явитися двічі — перевірте канал / a Telegram send was cut short: check for a double.")
    order = list(OUTBOX_STATUS)
    summary = " · ".join(f"{word(OUTBOX_STATUS, k)}: {v}" for k, v in
                         sorted(totals.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))
    shown = (f" (показано останні {len(rows)} / showing the newest {len(rows)})"
             if len(rows) < sum(totals.values()) else "")
    click.echo(f"\n{summary}{shown}")


def _maybe_twice(conn, rows) -> set[int]:  # noqa: ANN001
    """Telegram messages (not edits, which are idempotent) with an attempt that was cut short after Telegram had
    the request (a killed worker, no answer within the deadline) or overtaken by another drain: the Bot API has
    no idempotency key, so that attempt may have reached the chat too (docs/subscriptions.md). Whatever the
    row's state: one queued again may already be in the chat, and its next try may put it there again."""
    ids = [r.id for r in rows if r.channel == "telegram" and (r.payload or {}).get("method") in ("send", "reply")]
    if not ids:
        return set()
    # `lost`: another drain took the row over while this attempt was talking to Telegram.
    return set(conn.execute(select(delivery_attempts.c.outbox_id).where(
        delivery_attempts.c.outbox_id.in_(ids), delivery_attempts.c.result.in_(("interrupted", "lost"))))
        .scalars().all())


def _row_json(row, attempts, tz) -> dict:  # noqa: ANN001
    def iso(moment):  # noqa: ANN001, ANN202
        return moment.astimezone(tz).isoformat() if moment else None

    return {
        "id": row.id, "status": row.status, "kind": row.kind, "record": row.record_number, "event": row.event_id,
        "recipient": row.recipient, "role": row.role, "subject": row.subject, "message_id": row.message_id,
        "attempts": row.attempts, "created_at": iso(row.created_at), "next_attempt_at": iso(row.next_attempt_at),
        "sent_at": iso(row.sent_at), "failed_at": iso(row.failed_at), "answer": row.last_answer,
        "error": row.last_error, "relay": row.relay,
        "delivery_attempts": [{"started_at": iso(a.started_at), "finished_at": iso(a.finished_at), "result": a.result,
                               "answer": a.answer, "error": a.error, "duration_ms": a.duration_ms}
                              for a in attempts],
    }


def _clip(text: str, width: int) -> str:
    return clip(" ".join(text.split()), width)


@cli.group("directory")
def directory_group() -> None:
    """The recipients' directory / Довідник адресатів."""


@directory_group.command("check")
@pass_ctx
def directory_check(ctx: Context) -> None:
    """Duplicates, bad addresses, districts and utilities nobody covers / Перевірити довідник."""
    settings = ctx.settings
    usable = directory_mod.load(settings)
    problems = check_directory(settings)
    counts: dict[str, int] = {}
    for recipient in usable:
        counts[recipient.role] = counts.get(recipient.role, 0) + 1
    click.echo("адресатів / recipients: " + str(len(usable)) + " ("
               + ", ".join(f"{word(ROLE, role)} {n}" for role, n in sorted(counts.items())) + ")")
    if not mail_options(settings).secret_key:
        click.echo("увага / warning: OUTAGES_SECRET_KEY не задано — листи без посилань «Інформацію передано» "
                   "(no relay confirmation links)")
    for problem in problems:
        click.echo(f"ПРОБЛЕМА / problem: {problem}")
    if problems:
        raise SystemExit(1)
    click.echo("довідник у порядку / directory OK")


@directory_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Лише показати TOML, нічого не записати / Print the TOML instead of"
              " writing it.")
@pass_ctx
def directory_import(ctx: Context, csv_file: str, dry_run: bool) -> None:
    """Replace the [[recipients]] of the city's TOML with a CSV / Імпортувати довідник із CSV.

    Columns: email, name, role, districts, streets, services, executor. Lists are separated by «;»
    (districts and services also by commas). Nothing is written if any line is wrong."""
    settings = ctx.settings
    try:
        recipients = directory_mod.read_csv(Path(csv_file), settings)
    except directory_mod.DirectoryError as exc:
        fail(f"довідник не імпортовано, нічого не змінено / nothing imported:\n{exc}")
    if dry_run:
        click.echo(directory_mod.to_toml(recipients), nl=False)
        return
    target = settings.config_file or Path(LOCAL_CONFIG)  # the file in force, else a new ./outages.toml
    directory_mod.write_toml(target, recipients)
    click.echo(f"імпортовано / imported {len(recipients)} адресатів → {target}")


@cli.command("relay")
@click.argument("record", type=int)
@pass_ctx
def relay_command(ctx: Context, record: int) -> None:
    """Who confirmed relaying a record's messages / Стан передачі інформації (п. 7.6–7.7)."""
    engine = ctx.ready_engine()
    tz = ctx.settings.tz
    with engine.connect() as conn:
        known = 0 < record < 2**31 and conn.execute(
            select(records.c.number).where(records.c.number == record)).first() is not None
        rows = relay.state(conn, record) if known else []
    if not known:
        fail(f"запису №{record} немає / no record №{record}", code=1)
    if not rows:
        click.echo(f"Запис №{record}: повідомлень із підтвердженням передачі немає")
        return
    click.echo(text_table(["адресат", "роль", "вид", "надіслано", "підтверджено", "стан"],
                          [[r["recipient"], word(ROLE, r["role"]), word(MESSAGE_KIND, r["kind"]), fmt(r["sent_at"], tz),
                            fmt(r["confirmed_at"], tz), r["label"]] for r in rows]))


@cli.command("mailcatcher")
@click.option("--dir", "folder", default="mail", show_default=True, type=click.Path(file_okay=False),
              help="Тека для отриманих .eml / Folder for the received .eml files.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Адреса, яку слухати / Address to listen on.")
@click.option("--port", default=1025, show_default=True, type=int, help="Порт SMTP / SMTP port.")
def mailcatcher_command(folder: str, host: str, port: int) -> None:
    """A local SMTP server that writes every message to a folder (demo) / Локальний поштовий «уловлювач»."""
    from outages.transports.catcher import Catcher

    catcher = Catcher(Path(folder), host=host, port=port).start()
    click.echo(f"SMTP {host}:{catcher.port} → {catcher.folder} (Ctrl+C — зупинити / stop)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        catcher.stop()
