"""Mail settings with their defaults, read once from Settings (scalars) and the optional [notify] TOML table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from ..settings import Settings, SettingsError

DEFAULT_FROM = "Контакт-центр <hub@example.org>"
DEFAULT_PORTS = {"none": 1025, "starttls": 587, "ssl": 465}

# [notify] keys and their defaults; the regulation's numbers are the defaults (7.6: within one hour).
NOTIFY_DEFAULTS: dict[str, Any] = {
    "batch_size": 50,  # messages claimed per batch (one SMTP login serves the whole drain)
    "relay_reminder_minutes": 45,
    "relay_escalation_minutes": 60,
    "retry_first_seconds": 60,  # backoff: 1, 2, 4 … minutes after each temporary failure
    "retry_max_seconds": 3600,
    # A claim not renewed for this long belonged to a drain that died: take it over. It must exceed the longest
    # one message can take (8 × smtp_timeout + smtp_data_timeout = 14 min by default): the drain renews it
    # before each message.
    "claim_lease_minutes": 15,
    "report_hour": 9,  # weekly digest on Mondays, monthly report on the 1st, from this hour (city time)
    "planned_reminder_hour": 10,  # the reminder of planned works, the day before they start, from this hour
    "smtp_timeout": 30,  # seconds to wait for the connection, the greeting and each command's reply
    # Seconds to wait for the reply to the final dot of DATA: RFC 5321 §4.5.3.2 says 10 minutes. A client that
    # gives up sooner sends the message again although the server may have taken it.
    "smtp_data_timeout": 600,
    "drain_budget_seconds": 120,  # a drain claims no more messages after this; the rest waits for the next one
    "drain_interval_seconds": 5,  # the worker's mail lane looks for due messages this often (and after a sync)
    # An event older than this when it is queued is history, not news: it is not mailed. A first sync of a sheet
    # with months of rows must not send officials every old emergency (the breach reports still count them).
    "news_max_hours": 72,
    "relay_link_days": 7,  # a relay link (and a relay-state link) stops working this many days after it was made
    "digest_hour": 8,  # daily digests go out from this hour (city time); hourly ones at the top of each hour
    # «Term passed» notices and their reminders to one recipient go in one mail at most this often: what comes due
    # in between waits and is folded into the next one (control hears of every forgotten record, not 20 mails).
    "reminder_fold_hours": 4,
}


@dataclass(frozen=True)
class MailOptions:
    host: str
    port: int
    tls: str
    user: str
    password: str
    from_address: str
    from_name: str
    public_url: str
    secret_key: str
    give_up: timedelta
    reporters: bool
    batch_size: int
    relay_reminder: timedelta
    relay_escalation: timedelta
    retry_first: timedelta
    retry_max: timedelta
    claim_lease: timedelta
    report_hour: int
    planned_reminder_hour: int
    smtp_timeout: float
    smtp_data_timeout: float
    drain_budget: float
    drain_interval: float
    news_max_age: timedelta
    relay_link_age: timedelta
    digest_hour: int
    reminder_fold: timedelta
    hotline: str

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "outages.invalid"


def mail_options(settings: Settings) -> MailOptions:
    data = settings.data
    tls = data.get("smtp_tls") or "none"
    sender = data.get("mail_from") or DEFAULT_FROM
    name, address = parseaddr(sender)
    if "@" not in address:
        raise SettingsError(f"OUTAGES_MAIL_FROM: expected an e-mail address, got {sender!r}")
    raw = data.get("notify", {})
    if not isinstance(raw, dict):
        raise SettingsError("notify: expected a [notify] table")
    unknown = set(raw) - set(NOTIFY_DEFAULTS)
    if unknown:
        raise SettingsError(f"notify: unknown key(s) {sorted(unknown)}; known: {', '.join(NOTIFY_DEFAULTS)}")
    notify = dict(NOTIFY_DEFAULTS) | raw
    for key, value in notify.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise SettingsError(f"notify.{key}: expected a non-negative number, got {value!r}")
    options = MailOptions(
        host=data.get("smtp_host") or "127.0.0.1",
        port=int(data.get("smtp_port") or DEFAULT_PORTS[tls]),
        tls=tls,
        user=data.get("smtp_user") or "",
        password=data.get("smtp_password") or "",
        from_address=address,
        from_name=name,
        public_url=(data.get("public_url") or "http://127.0.0.1:5000").rstrip("/"),
        secret_key=data.get("secret_key") or "",
        give_up=timedelta(hours=float(data.get("mail_give_up") or 24)),
        reporters=bool(data.get("mail_reporters") or False),
        batch_size=max(1, int(notify["batch_size"])),
        relay_reminder=timedelta(minutes=notify["relay_reminder_minutes"]),
        relay_escalation=timedelta(minutes=notify["relay_escalation_minutes"]),
        retry_first=timedelta(seconds=notify["retry_first_seconds"]),
        retry_max=timedelta(seconds=notify["retry_max_seconds"]),
        claim_lease=timedelta(minutes=notify["claim_lease_minutes"]),
        report_hour=int(notify["report_hour"]),
        planned_reminder_hour=int(notify["planned_reminder_hour"]),
        smtp_timeout=float(notify["smtp_timeout"]),
        smtp_data_timeout=float(notify["smtp_data_timeout"]),
        drain_budget=float(notify["drain_budget_seconds"]),
        drain_interval=float(notify["drain_interval_seconds"]),
        news_max_age=timedelta(hours=notify["news_max_hours"]),
        relay_link_age=timedelta(days=notify["relay_link_days"]),
        digest_hour=int(notify["digest_hour"]),
        reminder_fold=timedelta(hours=notify["reminder_fold_hours"]),
        hotline=str(data.get("hotline") or ""),
    )
    if options.smtp_timeout <= 0 or options.smtp_data_timeout <= 0:
        raise SettingsError(f"notify.smtp_timeout = {notify['smtp_timeout']}, notify.smtp_data_timeout ="
                            f" {notify['smtp_data_timeout']}: потрібно більше 0 секунд, кожен виклик поштового"
                            " сервера має тайм-аут / expected more than 0 seconds")
    longest = COMMAND_WAITS * options.smtp_timeout + options.smtp_data_timeout
    if options.claim_lease.total_seconds() <= longest:
        raise SettingsError(
            f"notify.claim_lease_minutes: {notify['claim_lease_minutes']} min не довше, ніж може тривати один лист"
            f" ({longest / 60:g} min = {COMMAND_WAITS} × smtp_timeout + smtp_data_timeout): інший процес забрав би"
            " лист, поки сервер ще відповідає, і надіслав би його вдруге / the lease must exceed what one message"
            " can take")
    return options


# Waits of `smtp_timeout` one message may need: connect, greeting, EHLO, STARTTLS, EHLO, AUTH ×2 (only when the
# connection is new), MAIL, RCPT, DATA. Sending the body is bounded by the same timeout and rarely waits at all.
COMMAND_WAITS = 8
