"""The `outages` command: one subcommand per job, thin over the core.

The group lives in group.py; each module of commands below adds its commands to it when imported.
"""

from __future__ import annotations

import sys

from outages.cli import console, core, mail, reports, subscribers, web, worker  # noqa: F401  (each registers its commands)
from outages.cli.context import Context, fail
from outages.cli.group import cli

__all__ = ["cli", "main", "Context", "fail"]


def main() -> None:
    cli(prog_name="outages")


if __name__ == "__main__":
    sys.exit(main())
