"""Mail settings with their defaults, read once from Settings (scalars) and the optional [notify] TOML table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from outages.settings import Settings, SettingsError

DEFAULT_PORTS = {"none": 1025, "starttls": 587, "ssl": 465}


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
    form_url: str

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "outages.invalid"


def mail_options(settings: Settings) -> MailOptions:
    """The mail options, built once per loaded settings."""
    return settings.built(_mail_options)


def _mail_options(settings: Settings) -> MailOptions:
    data = settings.data
    tls = data.get("smtp_tls") or "none"
    sender = data["mail_from"]
    name, address = parseaddr(sender)
    if "@" not in address:
        raise SettingsError(f"OUTAGES_MAIL_FROM: expected an e-mail address, got {sender!r}")
    notify = data["notify"]  # every key known and a number: checked when the settings loaded
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
        form_url=str(data.get("form_url") or ""),
    )
    if not options.drain_interval >= 1:  # 0 kept the mail lane at 100 % CPU
        raise SettingsError(f"notify.drain_interval_seconds = {notify['drain_interval_seconds']}: потрібно щонайменше"
                            " 1 секунду, інакше поштова черга крутиться без упину / expected at least 1 second")
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
