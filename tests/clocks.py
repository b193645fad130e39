"""Time is an input: clocks for code under test that must not read the real date.

In-process code takes a `clock` (or `now`); `ticking` gives one that starts at a pinned instant and moves on with
real time, so leases and timeouts still elapse. A subprocess cannot be handed a clock, so `at_time` runs it under
libfaketime (Debian's `faketime`, installed by .ci/tools): its wall clock starts at the pinned instant and ticks.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from time import monotonic

import pytest


def ticking(start: datetime) -> Callable[[], datetime]:
    """A clock that reads `start` now and moves on by the real time spent from here."""
    began = monotonic()
    return lambda: start + timedelta(seconds=monotonic() - began)


def at_time(start: datetime, env: dict[str, str]) -> dict[str, str]:
    """`env` for a subprocess whose wall clock starts at `start` and ticks: libfaketime preloaded into the process
    itself (the `faketime` wrapper would fork, and a signal sent to it would not reach the program). Fails under
    CI=true when libfaketime is missing (CI must run every test), skips elsewhere."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("libfaketime is missing: .ci/tools installs it")
        pytest.skip("libfaketime is not installed (`make tools` installs it)")
    stamp = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    # "@stamp": start there and tick. The stamp is read in the process's zone, so the process gets TZ=UTC (the
    # hub works in the city's zone from its settings, never from TZ). The monotonic clock stays real: a faked one
    # makes every timed wait of Python's threads (sem_clockwait) wait for ever.
    return dict(env, LD_PRELOAD=found[0], FAKETIME=f"@{stamp}", FAKETIME_DONT_FAKE_MONOTONIC="1", TZ="UTC")
