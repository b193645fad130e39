"""`outages subscribers`: how many residents subscribed (counts only, never who), and forgetting one person."""

from __future__ import annotations

import click

from outages.cli.context import Context
from outages.cli.group import cli
from outages.residents import subscriptions as store
from outages.tables import text_table

pass_ctx = click.make_pass_decorator(Context)

MEDIUM_UK = {"email": "e-mail", "telegram": "Telegram"}


@cli.group("subscribers", invoke_without_command=True)
@pass_ctx
@click.pass_context
def subscribers(click_ctx: click.Context, ctx: Context) -> None:
    """Підписники за адресами: кількість / Residents' subscriptions: counts."""
    if click_ctx.invoked_subcommand is not None:
        return
    engine = ctx.ready_engine()
    with engine.connect() as conn:
        counts = store.counts(conn)
    if not counts:
        click.echo("підписок немає (no subscriptions)")
        return
    rows = [[MEDIUM_UK.get(medium, medium), str(c["people"]), str(c["active"]), str(c["unconfirmed"]), str(c["ended"])]
            for medium, c in sorted(counts.items())]
    click.echo(text_table(["канал (medium)", "людей (people)", "активні (active)",
                           "не підтверджені (unconfirmed)", "завершені (ended)"], rows))


@subscribers.command("forget")
@click.argument("target")
@pass_ctx
def forget(ctx: Context, target: str) -> None:
    """Видалити всі дані людини: e-mail або id чату / Delete a person's data: e-mail address or chat id."""
    engine = ctx.ready_engine()
    with engine.begin() as conn:
        count = store.forget(conn, target)
    if count:
        click.echo(f"видалено підписок (subscriptions deleted): {count}, разом із листами до них і записами доставки")
    else:
        click.echo(f"«{target}»: підписок немає (no subscriptions);"
                   " листи до цієї адреси як підписника видалено, якщо були")
