"""SMTP over yagmail: one connection (and login) for a whole batch, one `send()` per message.

yagmail builds the MIME message (From, To, Subject, Date, our Message-ID) and opens the connection (SSL or
STARTTLS). The SMTP transaction of each message goes through the open connection's MAIL/RCPT/DATA so the
server's final answer ("250 2.0.0 Ok: queued as …") is kept as the proof of delivery; yagmail's own `send()`
would reconnect for every message, sleep ~18 s after a drop, and return that answer to nobody.
"""

from __future__ import annotations

import email
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, Callable, ClassVar, Mapping

import yagmail

from outages.delivery.protocol import Delivery, RetryPolicy, Sent, TransportError
from outages.officials.options import COMMAND_WAITS, MailOptions, mail_options
from outages.settings import Settings

__all__ = ["SmtpTransport", "Outgoing", "TransportError", "LoginRefused", "mail_policy", "longest_message"]


class LoginRefused(TransportError):
    """The server answered but refused the login (wrong user or password): `outages doctor` says which."""


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    text: str
    html: str
    message_id: str
    headers: dict[str, str] = field(default_factory=dict)  # fixed when queued: Date, In-Reply-To, References

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Outgoing":
        """The message an outbox row holds."""
        return cls(to=row["recipient"], subject=row["subject"], text=row["text_body"], html=row["html_body"],
                   message_id=row["message_id"], headers=dict(row.get("headers") or {}))


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}".strip()


def mail_policy(options: MailOptions) -> RetryPolicy:
    return RetryPolicy(retry_first=options.retry_first, retry_max=options.retry_max, give_up=options.give_up,
                       claim_lease=options.claim_lease, batch_size=options.batch_size)


def longest_message(options: MailOptions) -> timedelta:
    """What one message can take at most: connecting, the greeting, EHLO, STARTTLS and its EHLO, AUTH (two
    round trips), MAIL, RCPT, DATA and sending the body each wait at most `smtp_timeout`; the reply to the final
    dot waits `smtp_data_timeout`. smtplib's timeouts are per socket read, so a server that trickles its replies
    a byte at a time never trips them: a watchdog enforces the sum as a total, whatever the server does, from
    the greeting on."""
    return timedelta(seconds=COMMAND_WAITS * options.smtp_timeout + options.smtp_data_timeout)


class _Watched:
    """smtplib's client, telling the transport about itself at its first reply (the greeting), before smtplib's
    constructor returns: a server that trickles its greeting can then be cut too."""

    def __init__(self, *args: Any, seen: Callable[[smtplib.SMTP], None], **kwargs: Any) -> None:
        self._seen = seen
        super().__init__(*args, **kwargs)

    def getreply(self) -> tuple[int, bytes]:
        if self._seen is not None:
            self._seen(self)  # type: ignore[arg-type]
            self._seen = None
        return super().getreply()  # type: ignore[misc]


class _SMTP(_Watched, smtplib.SMTP):
    pass


class _SMTPSSL(_Watched, smtplib.SMTP_SSL):
    pass


class _Client(yagmail.SMTP):
    """yagmail's client over the watched smtplib classes (its `connection` is the class it connects with)."""

    def __init__(self, *args: Any, seen: Callable[[smtplib.SMTP], None], **kwargs: Any) -> None:
        self._seen = seen
        super().__init__(*args, **kwargs)

    @property
    def connection(self) -> Callable[..., smtplib.SMTP]:
        return partial(_SMTPSSL if self.ssl else _SMTP, seen=self._seen)


class SmtpTransport:
    """Use as a context manager; the connection opens on the first `send()` and is reused until `close()`."""

    channel: ClassVar[str] = "email"

    def __init__(self, options: MailOptions, *, reuse: bool = True) -> None:
        self.options = options
        self.policy = mail_policy(options)
        self.reuse = reuse  # False: a new connection and login per message (what yagmail's send() does)
        self._client: yagmail.SMTP | None = None
        self._connecting: smtplib.SMTP | None = None  # the connection being opened (greeting, EHLO, login)
        self.logins = 0  # how many connections this transport opened (the benchmark and tests read it)
        self._cut = threading.Event()  # set by abort() or the watchdog: the send in progress must fail

    def __enter__(self) -> "SmtpTransport":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def longest(self) -> timedelta:
        return longest_message(self.options)

    def _new_client(self) -> yagmail.SMTP:
        o = self.options
        sender = {o.from_address: o.from_name} if o.from_name else o.from_address
        # Always pass a password (yagmail otherwise asks the keyring, which can prompt and block a daemon); log in
        # ourselves so the SMTP login may differ from the From address.
        return _Client(
            user=sender, password=o.password or "-", host=o.host, port=o.port,
            smtp_ssl=o.tls == "ssl", smtp_starttls=o.tls == "starttls", smtp_skip_login=True,
            soft_email_validation=False, timeout=o.smtp_timeout, seen=self._saw,
        )

    def _saw(self, smtp: smtplib.SMTP) -> None:
        self._connecting = smtp

    def open(self) -> None:
        if self._client is not None:
            return
        client = self._new_client()
        try:
            client.login()
            if self.options.user:
                client.smtp.login(self.options.user, self.options.password)
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(client)
            raise LoginRefused(f"SMTP login refused: {_answer(exc.smtp_code, exc.smtp_error)}",
                               answer=_answer(exc.smtp_code, exc.smtp_error), unreachable=True) from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            _quietly_close(client)
            raise TransportError(f"cannot connect to {self.options.host}:{self.options.port}: {_describe(exc)}",
                                 unreachable=True) from None
        finally:
            self._connecting = None
        self._client = client
        self.logins += 1

    def close(self) -> None:
        if self._client is not None:
            _quietly_close(self._client)
            self._client = None

    def abort(self) -> None:
        """From another thread: shut the socket, so a send waiting for the server fails at once."""
        self._cut.set()
        client = self._client
        for smtp in (getattr(client, "smtp", None), self._connecting):
            sock = getattr(smtp, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def build(self, message: Outgoing) -> tuple[str, str]:
        """(envelope sender, the message as text) — yagmail's MIME with our own plain-text part."""
        client = self._client or self._new_client()
        to = message.to
        # The HTML goes in as a plain str: yagmail attaches a str that names an existing file, but this one is a
        # rendered template (markup, no newlines), never a path. Dispatcher text is inside it, escaped.
        _recipients, built = client.prepare_send(
            to=to, subject=message.subject, contents=[message.html], prettify_html=False,
            message_id=message.message_id, headers=dict(message.headers) or None,
        )
        return client.user, _with_parts(built, message.text, message.html)

    def send(self, delivery: Delivery) -> Sent:
        """Hand one outbox row to the server; returns its answer. Raises TransportError."""
        return Sent(answer=self.send_message(Outgoing.of(delivery.row)), peer_ref=delivery.idempotency_key)

    def send_message(self, message: Outgoing) -> str:
        """Hand one message to the server; returns its answer. Raises TransportError."""
        self._cut.clear()
        limit = self.longest().total_seconds()
        watchdog = threading.Timer(limit, self.abort)  # the sum of the timeouts, whatever the server does
        watchdog.daemon = True
        watchdog.start()
        try:
            return self._send(message)
        except TransportError as exc:
            if self._cut.is_set() and not exc.permanent:
                self.close()
                # Still `unreachable` when it was the connection that was cut: the next message would only
                # connect to the same server and wait as long again.
                raise TransportError(f"cut short after {limit:g} s or by a stop: {exc}",
                                     unreachable=exc.unreachable) from None
            raise
        finally:
            watchdog.cancel()
            if not self.reuse:
                self.close()

    def _send(self, message: Outgoing) -> str:
        self.open()
        assert self._client is not None
        try:
            sender, body = self.build(message)
        except (ValueError, UnicodeError) as exc:  # a message that cannot be built will never be sendable
            raise TransportError(f"message cannot be built: {_describe(exc)}", permanent=True) from None
        smtp = self._client.smtp
        try:
            smtp.ehlo_or_helo_if_needed()
            code, text = smtp.mail(sender)
            if code != 250:
                raise _refused(smtp, "MAIL FROM", code, text)
            code, text = smtp.rcpt(message.to)
            if code not in (250, 251):
                raise _refused(smtp, "RCPT TO", code, text)
            if not body.isascii():  # yagmail encodes headers and parts; anything else is a bug, not a retry
                raise TransportError("message is not 7-bit clean", permanent=True)
            code, text = self._data(smtp, body)
            if code != 250:
                raise _refused(smtp, "DATA", code, text)
            return _answer(code, text)
        except TransportError:
            raise
        except smtplib.SMTPServerDisconnected as exc:
            self.close()  # the next send reconnects
            raise TransportError(f"connection lost: {_describe(exc)}") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            answer = _answer(exc.smtp_code, exc.smtp_error)
            raise TransportError(answer, permanent=500 <= exc.smtp_code < 600, answer=answer) from None
        except UnicodeError as exc:  # an address smtplib cannot put on the wire: this message only, never a retry
            self.close()  # the command may be half-written: the next message starts a clean session
            raise TransportError(f"address cannot be sent without SMTPUTF8: {_describe(exc)}", permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TransportError(f"connection failed: {_describe(exc)}") from None

    def _data(self, smtp: smtplib.SMTP, body: str) -> tuple[int, bytes]:
        """smtplib's data(), with RFC 5321 §4.5.3.2's wait for the reply to the final dot (10 minutes by default)
        instead of the command timeout: a server that takes 35 s to accept must not be sent the message again."""
        smtp.putcmd("data")
        code, text = smtp.getreply()
        if code != 354:
            return code, text
        payload = smtplib.quotedata(body).encode("ascii")
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        smtp.send(payload + b".\r\n")
        assert smtp.sock is not None
        smtp.sock.settimeout(self.options.smtp_data_timeout)
        try:
            return smtp.getreply()
        finally:
            if smtp.sock is not None:
                smtp.sock.settimeout(self.options.smtp_timeout)


def _refused(smtp: smtplib.SMTP, stage: str, code: int, text: bytes) -> TransportError:
    answer = _answer(code, text)
    try:
        smtp.rset()  # leave the connection clean for the next message of the batch
    except (OSError, smtplib.SMTPException):
        pass
    return TransportError(f"{stage} refused: {answer}", permanent=500 <= code < 600, answer=answer)


def _with_parts(built: str, text: str, html: str) -> str:
    """yagmail fills text/plain with the same string as the HTML, and wraps the HTML in a <div>: put the text
    template and the whole HTML document (with its viewport) there instead."""
    parsed = email.message_from_string(built)
    done = set()
    for part in parsed.walk():
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html") and kind not in done and not part.get_filename():
            del part["Content-Transfer-Encoding"]
            part.set_payload(text if kind == "text/plain" else html, "utf-8")
            done.add(kind)
    return parsed.as_string()


def _quietly_close(client: yagmail.SMTP) -> None:
    try:
        client.close()
    except (OSError, smtplib.SMTPException):
        pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def from_settings(settings: Settings) -> SmtpTransport:
    """The city's SMTP transport (always there: without a server configured it is the demo's catcher)."""
    return SmtpTransport(mail_options(settings))
