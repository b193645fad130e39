"""Settings as every command and the site take them: loaded (every key known, every value of its type:
outages/settings.py), then each options object built and checked once, so a bad value stops the command at once,
naming it, instead of failing the first sync that needs it.

A module with an options object adds its builder to BUILDERS; the builders cache what they make on the Settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from outages.officials.cadence import role_cadences
from outages.officials.options import mail_options
from outages.officials.routing import routing
from outages.reports.options import report_options
from outages.residents.audience import quiet_hours
from outages.settings import Settings, load
from outages.transports.telegram import telegram_options

BUILDERS: tuple[Callable[[Settings], Any], ...] = (mail_options, telegram_options, routing, role_cadences, quiet_hours,
                                                   report_options)


def load_checked(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """The effective settings with every options object built; SettingsError names the first bad one."""
    settings = load(environ, path)
    for build in BUILDERS:
        build(settings)
    return settings
