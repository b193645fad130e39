"""A mail server that never answers DATA: how long from a new form row to its verdict in the sheet?

    .venv/bin/python bench/delivery_bench.py [--runs 3] [--interval 2] [--cap 120] [--code DIR]

The worker (`outages run`'s Worker, in-process) syncs the demo sheet on the fake Sheets API (tests/fake_sheets,
real gspread over HTTP) every `--interval` seconds and mails its officials through a real aiosmtpd server that
takes every message's DATA and never answers. Once the server holds the first message, a new form row is
appended; the figure is the time until its verdict («Прийнято, №18, …») is in the sheet, median of the runs
(`--cap` seconds at most: "> cap" means it did not come). `--code DIR` measures another checkout's outages/ and
sheets/ (e.g. main before the mail lane) with this checkout's test helpers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class _Env:
    """What live_env expects of pytest's monkeypatch: setenv."""

    def setenv(self, name: str, value: str) -> None:
        os.environ[name] = value


def one_run(interval: float, cap: float) -> float | None:
    from fake_sheets import KEY, NOW, DateCell, FakeSheets
    from fake_sheets.hub import live_env
    from smtp_peer import SmtpPeer

    from outages import db
    from outages import worker as hub_worker
    from outages.settings import load
    from sheets.sources import open_source

    peer = SmtpPeer(hang=True).start()
    folder = tempfile.mkdtemp(prefix="delivery-bench-")
    with FakeSheets() as fake:
        live_env(fake, _Env())
        os.environ.update(OUTAGES_DATABASE_URL=f"sqlite:///{folder}/outages.db", OUTAGES_SMTP_HOST="127.0.0.1",
                          OUTAGES_SMTP_PORT=str(peer.port), OUTAGES_SMTP_TLS="none",
                          OUTAGES_SYNC_INTERVAL=f"{interval:g}")
        settings = load()
        engine = db.engine_for(settings)
        db.upgrade(engine)
        seen = threading.Event()
        watched: dict[str, int] = {}

        def after(report) -> None:
            if "row" in watched and fake.row(KEY, watched["row"])["Статус обробки"].startswith("Прийнято"):
                seen.set()

        worker = hub_worker.Worker(engine, settings, open_source(None, settings).pull, "gsheet", after_cycle=after,
                                   echo=lambda line: None)
        threading.Thread(target=worker.run, daemon=True).start()
        peer.wait_for_data(1, timeout=60)
        at = NOW.replace(tzinfo=None)
        watched["row"] = fake.append_form_row(KEY, {
            "Позначка часу": DateCell.of(at), "Виконавець": "КП «Ліфтсервіс»", "Тип": "Аварійна ситуація",
            "Послуга": "Ліфти", "Район": "Інгульський", "Адреси": "вул. Садова, 7",
            "Коротка інформація": "Зупинка ліфта", "Термін ліквідації": DateCell.of(at + timedelta(hours=3)),
            "Час настання події": DateCell.of(at - timedelta(minutes=10))})
        appended = time.monotonic()
        took = time.monotonic() - appended if seen.wait(cap) else None
        worker.stop.set()  # the old worker may not stop while it waits on the server: its thread is a daemon
    peer.stop()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--cap", type=float, default=120.0)
    parser.add_argument("--code", default=None, help="measure this checkout's outages/ and sheets/")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(Path(args.code).resolve() if args.code else ROOT))
    import outages

    results = [one_run(args.interval, args.cap) for _ in range(args.runs)]
    shown = ", ".join(f"{r:.1f} s" if r is not None else f"> {args.cap:g} s" for r in results)
    done = [r for r in results if r is not None]
    median = f"{statistics.median(done):.1f} s" if len(done) == len(results) else f"> {args.cap:g} s"
    print(f"code: {Path(outages.__file__).resolve().parent.parent}")
    print(f"a server that never answers DATA: new form row → verdict in the sheet: median {median}"
          f" (runs: {shown}; sync interval {args.interval:g} s, {os.cpu_count()} CPUs, SQLite)")


if __name__ == "__main__":
    main()
