"""The `outages` command group itself; each module of commands (core, mail, worker, web, subscribers) adds its own
commands to it, and outages/cli/__init__.py imports them all."""

from __future__ import annotations

from typing import Any

import click

from outages.cli.context import Context, fail
from outages.db import STORE_FULL, store_full


class HubGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # A full disk in any command, through SQLAlchemy or straight from the driver (bulk inserts): one
            # sentence and exit 2, not a traceback. The write's transaction was rolled back, so the store holds
            # what it held before.
            if not store_full(exc):
                raise
            fail(STORE_FULL)


@click.group(cls=HubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Хаб інформації про аварії та планові роботи / Outage hub."""
    ctx.obj = Context()
