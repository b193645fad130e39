"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, collecting what it receives.

It can be stopped and started again on the same port (a mail server outage), refuse chosen recipients (550),
drop the connection at the n-th message (before accepting it), and require a login (AUTH PLAIN/LOGIN), counting
logins. Waiting is on a condition with a timeout, never sleep-polling.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from outages.schema import delivery_attempts, outbox


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class SmtpPeer:
    port: int = field(default_factory=free_port)
    user: str | None = None  # when set, AUTH is required with this user and `password`
    password: str = ""
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    temporary_refuse: set[str] = field(default_factory=set)
    drop_at: int | None = None  # drop the connection instead of accepting the n-th DATA (1-based, counted overall)
    latency: float = 0.0  # seconds the server takes to accept each message (lets two workers overlap)
    hang: bool = False  # never answer DATA (the reply to the final dot never comes)
    logins: int = 0
    connections: int = 0

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._data_seen = 0
        self._controller: Controller | None = None

    # --- control -----------------------------------------------------------------------------------------------
    def start(self) -> "SmtpPeer":
        kwargs = {}
        if self.user is not None:
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False, "auth_required": True}
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.received) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} messages, got {len(self.received)}")
            return list(self.received)

    def wait_for_data(self, count: int, timeout: float = 10.0) -> None:
        """Block until the server has been sent `count` messages' DATA (answered or not)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._data_seen >= count, timeout=timeout):
                raise AssertionError(f"expected {count} DATA, got {self._data_seen}")

    def messages(self) -> list[EmailMessage]:
        with self._cond:
            return [r.message for r in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        with self._cond:
            return [r.message for r in self.received if address in r.rcpt_tos]

    # --- server side -------------------------------------------------------------------------------------------
    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == self.user and auth_data.password.decode() == self.password
        if ok:
            with self._cond:
                self.logins += 1
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 to a wrong password

    def _count_data(self) -> bool:
        """True when this DATA must be dropped."""
        with self._cond:
            self._data_seen += 1
            self._cond.notify_all()
            return self.drop_at is not None and self._data_seen == self.drop_at

    def _store(self, envelope) -> None:
        with self._cond:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
            self._cond.notify_all()


class _Handler:
    def __init__(self, peer: SmtpPeer):
        self.peer = peer

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        with self.peer._cond:
            self.peer.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.peer.refuse:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if address in self.peer.temporary_refuse:
            return "451 4.3.0 <%s>: Try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        drop = self.peer._count_data()
        if self.peer.hang:
            await asyncio.Event().wait()  # nobody sets it: the answer never comes (until the server stops)
        if self.peer.latency:
            await asyncio.sleep(self.peer.latency)
        if drop:
            server.transport.close()  # the connection drops before the message is accepted
            return "421 4.4.2 Connection dropped"
        self.peer._store(envelope)
        return "250 2.0.0 Ok: queued as TEST%04d" % len(self.peer.received)


# --- pytest fixtures (import them into a test module: `from smtp_peer import smtp_peer, mail_settings`) -----------
import pytest  # noqa: E402

from outages.settings import load  # noqa: E402

# A small directory in which every role and district is easy to tell apart.
DIRECTORY = [
    {"email": "deputy@example.org", "name": "Заступник", "role": "deputy"},
    {"email": "press@example.org", "name": "Пресслужба", "role": "press"},
    {"email": "water.head@example.org", "name": "Департамент ЖКГ", "role": "executive_head",
     "services": ["Водопостачання"]},
    {"email": "energy.head@example.org", "name": "Управління енергетики", "role": "executive_head",
     "services": ["Електропостачання"]},
    {"email": "duty.central@example.org", "name": "Черговий Центрального", "role": "district_duty",
     "districts": ["Центральний"]},
    {"email": "duty.zavod@example.org", "name": "Черговий Заводського", "role": "district_duty",
     "districts": ["Заводський"]},
    {"email": "hoa.soborna@example.org", "name": "ОСББ Соборна", "role": "hoa_head", "districts": ["Центральний"],
     "streets": ["вул. Соборна"]},
    {"email": "hoa.admiral@example.org", "name": "ОСББ Адміральська", "role": "hoa_head",
     "districts": ["Центральний"], "streets": ["вул. Адміральська"]},
    {"email": "control@example.org", "name": "Контроль", "role": "control"},
    {"email": "vodokanal@example.org", "name": "Водоканал", "role": "executor", "executor": "КП «Водоканал»"},
    {"email": "oblenergo@example.org", "name": "Обленерго", "role": "executor", "executor": "АТ «Обленерго»"},
]


def toml_directory(recipients: list[dict]) -> str:
    lines = []
    for entry in recipients:
        lines.append("[[recipients]]")
        for key, value in entry.items():
            if isinstance(value, list):
                lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in value) + "]")
            else:
                lines.append(f'{key} = "{value}"')
        lines.append("")
    return "\n".join(lines)


@pytest.fixture
def smtp_peer():
    peer = SmtpPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def directory() -> list[dict]:
    return list(DIRECTORY)


@pytest.fixture
def notify_toml() -> str:
    """Extra TOML for the city file (e.g. a [notify] table); empty by default."""
    return ""


@pytest.fixture
def mail_settings(env, tmp_path, monkeypatch, smtp_peer, directory, notify_toml):
    """Settings pointing at the peer, with the test directory and a secret key for the relay links."""
    config = tmp_path / "city.toml"
    config.write_text(toml_directory(directory) + "\n" + notify_toml, encoding="utf-8")
    for key, value in {"OUTAGES_CONFIG": str(config), "OUTAGES_SMTP_HOST": "127.0.0.1",
                       "OUTAGES_SMTP_PORT": str(smtp_peer.port), "OUTAGES_SMTP_TLS": "none",
                       "OUTAGES_SECRET_KEY": "test-secret", "OUTAGES_PUBLIC_URL": "https://hub.example.org",
                       "OUTAGES_MAIL_FROM": "Контакт-центр <hub@example.org>"}.items():
        monkeypatch.setenv(key, value)
    return load()


def rows_of(engine):
    """The outbox as the hub queued it, in order (mail tests read it beside what the peer received)."""
    with engine.connect() as conn:
        return conn.execute(select(outbox).order_by(outbox.c.id)).all()


def attempts_of(engine):
    with engine.connect() as conn:
        return conn.execute(select(delivery_attempts).order_by(delivery_attempts.c.id)).all()
