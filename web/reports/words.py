"""The words the report pages share: a report's status as its reporter and the public read it (seed 002), the
service choices of the form, times in city time, and the navigation's links to /report and /reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template, request

from outages.reports.options import ReportOptions, Service, report_options
from outages.reports.store import PENDING, REJECTED
from web import hub
from web.i18n import language
from web.public.pages import presenter

PENDING_WORDS = "Чекає на перевірку Контакт-центром"
REJECTED_WORDS = "Не опубліковано"
# Seed 002, 3.3.1 and 4.2–4.3: what premoderation declines, in the statute's own terms.
REJECTED_WHY = ("Контакт-центр за підсумками премодерації відхилив повідомлення як таке, що не відповідає вимогам "
                "пунктів 4.2 та 4.3 Положення про контакт-центр (наприклад, питання поза межами повноважень "
                "органів місцевого самоврядування, без чітко викладеного питання або дублювання вже розміщеного "
                "повідомлення). Тому воно не публікується.")
def setup(state: Any) -> None:
    state.app.jinja_env.globals.update(report_links=nav_links)


def options() -> ReportOptions:
    return report_options(hub().settings)


@dataclass(frozen=True)
class Choice:
    code: str
    label: str  # «Водопостачання (аварійна, SOS)»


def service_groups() -> list[tuple[str, list[Choice]]]:
    """The form's select: services by their group, in the catalogue's order, the SOS ones marked."""
    groups: dict[str, list[Choice]] = {}
    for service in options().services:
        label = service.name + (" — аварійна (SOS)" if service.sos else "")
        groups.setdefault(service.group or "Інше", []).append(Choice(service.code, label))
    return list(groups.items())


def service_name(code: str) -> str:
    service: Service | None = options().service(code)
    return service.name if service else code


def status_words(report: Any) -> str:
    """What the reporter's own page says of the report: seed 002's words once moderated."""
    if report.status == PENDING:
        return PENDING_WORDS
    if report.status == REJECTED:
        return REJECTED_WORDS
    return report.note


def when(moment: datetime | None) -> str:
    """«22.11.2026 14:30», city time."""
    return "" if moment is None else moment.astimezone(hub().settings.tz).strftime("%d.%m.%Y %H:%M")


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(hub().settings.tz).replace(second=0, microsecond=0).isoformat()


def place(report: Any) -> str:
    """The street and house as the hub read them («вул. Соборна, 12»)."""
    return report.street + (f", {report.house}{report.suffix}" if report.house is not None else "")


def page(name: str, http_status: int = 200, /, **context: Any) -> tuple[str, int]:
    """A report page in the site's frame (templates/base.html)."""
    return render_template(f"reports/{name}.html", p=presenter(), changed_at=None, when=when, iso=iso,
                           **context), http_status


def nav_links() -> list[tuple[str, str]]:
    """(href, label) of /report and /reports for the site's navigation. In the static copy they lead to the live
    site when the city gave its public URL, and are left out otherwise (a static server cannot take a report)."""
    prefix = ""
    if request.environ.get("outages.static"):
        prefix = str(hub().settings.data.get("public_url") or "").strip().rstrip("/")
        if not prefix:
            return []
    english = language() == "en"
    return [(prefix + "/report", "Report a problem" if english else "Повідомити про проблему"),
            (prefix + "/reports", "Residents' reports" if english else "Повідомлення мешканців")]
