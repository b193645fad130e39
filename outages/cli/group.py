"""The `outages` command group itself; each module of commands (core, mail, worker, web, subscribers) adds its own
commands to it, and outages/cli/__init__.py imports them all."""

from __future__ import annotations

import click

from outages.cli.context import Context


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Хаб інформації про аварії та планові роботи / Outage hub."""
    ctx.obj = Context()
