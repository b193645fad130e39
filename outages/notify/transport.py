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
from dataclasses import dataclass, field

import yagmail

from .options import MailOptions


class TransportError(Exception):
    """A message was not accepted. `permanent`: retrying cannot help (5xx), so the message fails at once."""

    def __init__(self, message: str, *, permanent: bool = False, answer: str = "", unreachable: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.answer = answer
        # No connection or login at all: every other message would fail the same way, so the batch stops.
        self.unreachable = unreachable


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    text: str
    html: str
    message_id: str
    to_name: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # fixed when queued: Date, In-Reply-To, References


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}".strip()


class SmtpTransport:
    """Use as a context manager; the connection opens on the first `send()` and is reused until `close()`."""

    def __init__(self, options: MailOptions, *, reuse: bool = True):
        self.options = options
        self.reuse = reuse  # False: a new connection and login per message (what yagmail's send() does)
        self._client: yagmail.SMTP | None = None
        self.logins = 0  # how many connections this transport opened (the benchmark and tests read it)

    def __enter__(self) -> "SmtpTransport":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _new_client(self) -> yagmail.SMTP:
        o = self.options
        sender = {o.from_address: o.from_name} if o.from_name else o.from_address
        # Always pass a password (yagmail otherwise asks the keyring, which can prompt and block a daemon); log in
        # ourselves so the SMTP login may differ from the From address.
        return yagmail.SMTP(
            user=sender, password=o.password or "-", host=o.host, port=o.port,
            smtp_ssl=o.tls == "ssl", smtp_starttls=o.tls == "starttls", smtp_skip_login=True,
            soft_email_validation=False, timeout=o.smtp_timeout,
        )

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
            raise TransportError(f"SMTP login refused: {_answer(exc.smtp_code, exc.smtp_error)}",
                                 answer=_answer(exc.smtp_code, exc.smtp_error), unreachable=True) from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            _quietly_close(client)
            raise TransportError(f"cannot connect to {self.options.host}:{self.options.port}: {_describe(exc)}",
                                 unreachable=True) from None
        self._client = client
        self.logins += 1

    def close(self) -> None:
        if self._client is not None:
            _quietly_close(self._client)
            self._client = None

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

    def send(self, message: Outgoing) -> str:
        """Hand one message to the server; returns its answer. Raises TransportError."""
        try:
            return self._send(message)
        finally:
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
            code, text = smtp.data(body)
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
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TransportError(f"connection failed: {_describe(exc)}") from None


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
