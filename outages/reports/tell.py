"""The reporter hears of their report on the channel they came by: the bot's chat at once; e-mail after they
confirm the address with a link (as subscriptions do: nobody can make the hub mail a stranger). One message per
report and status (dedup `report:<id>:<status words>`), never twice."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy import update

from outages.delivery.queue import insert_rows, row
from outages.officials.messages import message_id
from outages.officials.options import MailOptions, mail_options
from outages.reports.options import report_options
from outages.reports.store import get, sign_id, signed_id
from outages.residents.mail import render
from outages.schema import reports
from outages.settings import Settings

CONFIRM_SALT = "report-email"


def status_url(mail: MailOptions, report: Any) -> str:
    return f"{mail.public_url}/report/status/{report.token}"


def confirm_token(mail: MailOptions, report_id: int) -> str:
    return sign_id(mail.secret_key, CONFIRM_SALT, report_id)


def read_confirm_token(mail: MailOptions, token: str) -> int | None:
    return signed_id(mail.secret_key, CONFIRM_SALT, token)


def confirm_email(conn, settings: Settings, report: Any, now: datetime) -> None:  # noqa: ANN001
    """Ask an e-mail reporter to confirm the address (without a secret key no link can be signed: no mail)."""
    mail = mail_options(settings)
    if not report.email or report.email_confirmed_at is not None or not mail.secret_key:
        return
    context = {"city": settings.city_name, "id": report.id, "address": report.address,
               "confirm_url": f"{mail.public_url}/report/confirm/{confirm_token(mail, report.id)}",
               "status_url": status_url(mail, report)}
    rendered = render("report_confirm", context)
    insert_rows(conn, [row(channel="email", dedup_key=f"report-confirm:{report.id}", kind="report_confirm",
                           recipient=report.email, role="reporter", subject=rendered.subject, text=rendered.text,
                           html=rendered.html, payload={}, now=now,
                           msg_id=message_id(mail.domain, "report-confirm", report.id, recipient=report.email))])


def status_changed(conn, settings: Settings, report: Any, now: datetime) -> int:  # noqa: ANN001
    """Queue the reporter's news of the report's status now; how many messages."""
    if report.erased_at is not None or report.status == "rejected" and not report.note:
        return 0
    mail = mail_options(settings)
    service = report_options(settings).service(report.service_code)
    service_name = service.name if service else report.service_code
    words = report.note or report.status
    key = f"report:{report.id}:{report.status}:{words}"[:280]
    rows = []
    if report.chat_id:
        # Telegram HTML: an address or an operator's note with «<» or «&» would be refused by the Bot API.
        text = (f"Ваше повідомлення №{report.id} ({escape(service_name, quote=False)}, "
                f"{escape(report.address, quote=False)}): {escape(words, quote=False)}.\n"
                f"{escape(status_url(mail, report), quote=False)}")
        rows.append(row(channel="telegram", dedup_key=f"{key}:tg", kind="report_status", recipient=report.chat_id,
                        role="reporter", text=text, payload={"method": "send", "text": text}, now=now,
                        subject=f"Повідомлення №{report.id}: {words}"))
    if report.email and report.email_confirmed_at is not None:
        context = {"city": settings.city_name, "id": report.id, "address": report.address, "service": service_name,
                   "words": words, "status": report.status, "status_url": status_url(mail, report),
                   "record_url": f"{mail.public_url}/outages/{report.record_number}" if report.record_number else ""}
        rendered = render("report_status", context)
        rows.append(row(channel="email", dedup_key=f"{key}:mail", kind="report_status", recipient=report.email,
                        role="reporter", subject=rendered.subject, text=rendered.text, html=rendered.html,
                        payload={}, now=now,
                        msg_id=message_id(mail.domain, "report", report.id, report.status, len(words),
                                          recipient=report.email)))
    return insert_rows(conn, rows)


def confirm(conn, report_id: int, now: datetime) -> tuple[Any, bool]:  # noqa: ANN001
    """The reporter followed the confirmation link and pressed the button: their e-mail may now be told of the
    report's statuses. Stamped once; (the report, whether this press stamped it). None for an unknown report."""
    done = conn.execute(update(reports).where(reports.c.id == report_id, reports.c.email_confirmed_at.is_(None),
                                              reports.c.email != "").values(email_confirmed_at=now)).rowcount
    return get(conn, report_id), bool(done)
