"""One emergency fanned out to 500 recipients over a local SMTP server: messages per second with one reused
connection (what the hub does) and with one connection + login per message (what yagmail's send() does).

    .venv/bin/python bench/mail_bench.py [--recipients 500] [--runs 5]

The SMTP server (aiosmtpd, discarding what it receives but requiring AUTH like a real relay) runs in its own
process so it does not share the client's interpreter lock. Two figures per mode, medians of the runs:
  drain — `deliver_pending` end to end (claim, attempt rows, SMTP, results), on SQLite;
  smtp  — the transport alone sending the 500 rendered messages.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

SERVER = """
import sys, threading, logging; logging.disable(logging.CRITICAL)
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
import warnings; warnings.simplefilter("ignore")
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: queued"
auth = lambda server, session, envelope, mechanism, data: AuthResult(success=True)
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]), authenticator=auth, auth_require_tls=False,
               auth_required=True)
c.start(); print("ready", flush=True); sys.stdin.read(); c.stop()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from rows import emergency, table
    from smtp_peer import toml_directory
    from sqlalchemy import delete, select, update

    from outages import db
    from outages.officials.options import mail_options
    from outages.officials.sender import deliver_pending
    from outages.records.sync import sync
    from outages.schema import delivery_attempts, outbox
    from outages.settings import load
    from outages.transports.smtp import Outgoing, SmtpTransport

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    work = Path(tempfile.mkdtemp(prefix="mail-bench-"))
    people = [{"email": f"official{i:03d}@example.org", "name": f"Посадовець {i}", "role": "executive_head"}
              for i in range(args.recipients)]
    (work / "city.toml").write_text(toml_directory(people) + "\n[notify]\nbatch_size = 100\n", encoding="utf-8")
    environ = {"OUTAGES_CONFIG": str(work / "city.toml"), "OUTAGES_DATABASE_URL": f"sqlite:///{work / 'b.db'}",
               "OUTAGES_SMTP_HOST": "127.0.0.1", "OUTAGES_SMTP_PORT": str(port), "OUTAGES_SMTP_USER": "hub",
               "OUTAGES_SMTP_PASSWORD": "bench", "OUTAGES_SECRET_KEY": "bench"}
    settings = load(environ=environ)
    engine = db.engine_for(settings)
    db.upgrade(engine)
    now = datetime(2026, 11, 22, 14, 10, tzinfo=ZoneInfo("Europe/Kyiv"))
    started = time.perf_counter()
    sync(engine, table(emergency()), settings, now)
    enqueue_seconds = time.perf_counter() - started
    with engine.connect() as conn:
        messages = [Outgoing(to=r.recipient, subject=r.subject, text=r.text_body, html=r.html_body,
                             message_id=r.message_id) for r in conn.execute(select(outbox))]
    assert len(messages) == args.recipients, len(messages)
    options = mail_options(settings)

    def requeue() -> None:
        with engine.begin() as conn:
            conn.execute(delete(delivery_attempts))
            conn.execute(update(outbox).values(status="queued", attempts=0, next_attempt_at=now, sent_at=None))

    results: dict[str, dict[str, list[float]]] = {}
    for reuse in (True, False):
        mode = "reused connection" if reuse else "connection per message"
        drain, smtp, logins = [], [], 0
        for _ in range(args.runs):
            requeue()
            transport = SmtpTransport(options, reuse=reuse)
            began = time.perf_counter()
            counts = deliver_pending(engine, settings, now, transport=transport)
            drain.append(args.recipients / (time.perf_counter() - began))
            transport.close()
            assert counts["sent"] == args.recipients, counts
            logins = transport.logins
            transport = SmtpTransport(options, reuse=reuse)
            began = time.perf_counter()
            for message in messages:
                transport.send_message(message)
            smtp.append(args.recipients / (time.perf_counter() - began))
            transport.close()
        results[mode] = {"drain": drain, "smtp": smtp}
        print(f"{mode:24s} drain {statistics.median(drain):7.1f} msg/s   smtp only {statistics.median(smtp):7.1f} "
              f"msg/s   (logins per drain: {logins}; runs: {', '.join(f'{v:.0f}' for v in drain)})")
    reused, per = results["reused connection"], results["connection per message"]
    print(f"speed-up of reuse: drain ×{statistics.median(reused['drain']) / statistics.median(per['drain']):.2f}, "
          f"smtp only ×{statistics.median(reused['smtp']) / statistics.median(per['smtp']):.2f}")
    print(f"queuing {args.recipients} messages inside the sync transaction: {enqueue_seconds * 1000:.0f} ms")
    print(f"({args.recipients} recipients, median of {args.runs} runs, {os.cpu_count()} CPUs, SQLite)")
    server.stdin.close()  # type: ignore[union-attr]
    server.wait(timeout=10)
    engine.dispose()


if __name__ == "__main__":
    main()
