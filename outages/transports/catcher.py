"""A local SMTP catcher for the demo: accepts every message and writes it to a folder as an .eml file.

A newcomer sees exactly what officials would receive (open the files in any mail client) without a mail server.
"""

from __future__ import annotations

import re
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path

from aiosmtpd.controller import Controller


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        with self.lock:
            self.count += 1
            number = self.count
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        to = re.sub(r"[^A-Za-z0-9@._-]", "_", (envelope.rcpt_tos or ["unknown"])[0])
        path = self.folder / f"{stamp}-{number:05d}-{to}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        return f"250 2.0.0 Ok: saved as {path.name}"


class Catcher:
    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.folder = Path(folder).resolve()
        self.host = host
        self.port = port or _free_port(host)
        self._controller: Controller | None = None

    def start(self) -> "Catcher":
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Writer(self.folder), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
