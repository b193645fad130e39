"""Pausing Python's cyclic garbage collector while a sync reads and writes a whole sheet.

A sync makes ten-odd objects a row (cells, decisions, parameters) and frees them by reference counting; the cyclic
collector, which runs after every few hundred allocations, would walk the growing heap again and again meanwhile
(a first sync of 10k rows spent a quarter of its time there). It is paused for the sync and runs once after.
Nested and concurrent uses are counted: it resumes when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            resume = _depth == 0 and _was_enabled
        if resume:
            gc.enable()
