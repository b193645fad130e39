"""SIGTERM while the mail server holds a message: seconds until `outages run` exits, and what stays claimed.

    .venv/bin/python bench/sigterm_bench.py [--runs 3] [--cap 120] [--code DIR]

`outages run` (a real process) syncs the demo export (dates moved to yesterday, so its mail is news) and mails
the officials through a real aiosmtpd server that takes DATA and never answers. Once the server holds the first
message the worker gets SIGTERM; the figure is the time until the process exits (median of the runs; killed
with SIGKILL at `--cap`), and how many messages it left `sending` (claimed). `--code DIR` runs another checkout's
outages/ and sheets/ (e.g. main before the mail lane).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from smtp_peer import SmtpPeer  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402


def one_run(code: Path, cap: float) -> tuple[float | None, int]:
    folder = Path(tempfile.mkdtemp(prefix="sigterm-bench-"))
    peer = SmtpPeer(hang=True).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGES_")}
    env.update(PYTHONPATH=str(code), PYTHONUNBUFFERED="1", OUTAGES_DATABASE_URL=f"sqlite:///{folder}/outages.db",
               OUTAGES_SMTP_HOST="127.0.0.1", OUTAGES_SMTP_PORT=str(peer.port), OUTAGES_SMTP_TLS="none",
               OUTAGES_SYNC_INTERVAL="3600")
    outages = [sys.executable, "-c", "from outages.cli import main; main()"]
    csv = folder / "demo.csv"
    subprocess.run([sys.executable, "-m", "outages.demo.build", "--today", "--out", str(csv)], env=env, check=True,
                   cwd=folder, capture_output=True)
    subprocess.run(outages + ["init"], env=env, check=True, cwd=folder, capture_output=True)
    proc = subprocess.Popen(outages + ["run", "--source", str(csv)], env=env, cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = None
    try:
        peer.wait_for_data(1, timeout=120)
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=cap)
        took = time.monotonic() - signalled
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    finally:
        peer.stop()
    engine = create_engine(f"sqlite:///{folder}/outages.db")
    with engine.connect() as conn:
        claimed = conn.execute(select(func.count()).select_from(text("outbox")).where(
            text("status = 'sending'"))).scalar()
    engine.dispose()
    return took, claimed or 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cap", type=float, default=120.0)
    parser.add_argument("--code", default=str(ROOT))
    args = parser.parse_args()
    code = Path(args.code).resolve()
    results = [one_run(code, args.cap) for _ in range(args.runs)]
    times = [t for t, _ in results]
    shown = ", ".join(f"{t:.1f} s" if t is not None else f"> {args.cap:g} s (killed)" for t in times)
    median = (f"{statistics.median(times):.1f} s" if all(t is not None for t in times) else f"> {args.cap:g} s")
    print(f"code: {code}")
    print(f"SIGTERM while the mail server holds a message: exit after {median} (runs: {shown}); messages left"
          f" claimed ('sending'): {', '.join(str(c) for _, c in results)} ({os.cpu_count()} CPUs, SQLite)")


if __name__ == "__main__":
    main()
