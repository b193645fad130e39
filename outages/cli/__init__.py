"""The `outages` command: one subcommand per job, thin over the core.

Each group of commands lives in its own module and registers itself on `cli` when imported below.
"""

from __future__ import annotations

import sys

import click

from .context import Context, fail

__all__ = ["cli", "main", "Context", "fail"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Хаб інформації про аварії та планові роботи / Outage hub."""
    ctx.obj = Context()


from . import core  # noqa: E402,F401  (registers commands)
from . import mail  # noqa: E402,F401  (send, outbox, directory, relay, mailcatcher)
from . import worker  # noqa: E402,F401  (run, doctor, status)
from . import web  # noqa: E402,F401  (serve, publish; Flask is loaded only when they run)
from . import subscribers  # noqa: E402,F401  (subscribers, subscribers forget)


def main() -> None:
    cli(prog_name="outages")


if __name__ == "__main__":
    sys.exit(main())
