"""Run a benchmark on each store: SQLite in a temporary folder, then, when given, a PostgreSQL database in a schema of
its own that is dropped afterwards (the benchmarks share this; each passes its `bench(url, size, runs)`)."""

from __future__ import annotations

import tempfile
import uuid
from typing import Callable

from sqlalchemy import create_engine, text


def on_each_store(bench: Callable[[str, int, int], None], size: int, runs: int, postgres: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{folder}/bench.db", size, runs)
    if not postgres:
        return
    schema = "bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        bench(f"{postgres}?options=-csearch_path%3D{schema}", size, runs)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
