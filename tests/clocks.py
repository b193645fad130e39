"""Time is an input: clocks for code under test that must not read the real date.

In-process code takes a `clock` (or `now`); `ticking` gives one that starts at a pinned instant and moves on with
real time, so leases and timeouts still elapse. A subprocess cannot be handed a clock, so `at_time` runs it under
libfaketime (Debian's `faketime`, installed by .ci/tools): its wall clock starts at the pinned instant and ticks.

A run can move the real clock itself (OUTAGES_TEST_NOW, conftest.py): `move_session_clock` travels there with
time_machine for the whole session, and `child_env` gives the hub's Python subprocesses the clock the test sees
(time_machine again, loaded at their start). The tests that read the real clock are marked `clock`; `make
test-moved-clock` runs them at moved dates.
"""

from __future__ import annotations

import glob
import linecache
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic

import pytest
import time_machine


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


# The session's moved clock (conftest.py: OUTAGES_TEST_NOW or --moved-clock). When a run moves the clock, every
# in-process read of the real clock (the tests', the product's) gets it through time_machine, ticking from `MOVED`;
# a test that pins its own clock (time_machine.travel, a `clock=`/`now=` argument) keeps its own.
MOVED: datetime | None = None
_session: time_machine.travel | None = None
# Who read the session's clock (--clock-readers): test id -> {"file:line"} of the repository's code that asked,
# itself or through a library ("file:line via module").
READERS: dict[str, set[str]] = {}
MARKED: set[str] = set()  # the tests marked `clock`
_reading: list[str] = []  # the test being run, while readers are watched
_ROOT = Path(__file__).resolve().parent.parent
_WATCHED = tuple(str(_ROOT / folder) + os.sep for folder in ("outages", "sheets", "web", "tests"))
_NOT_READERS = (str(Path(__file__).resolve()), str(_ROOT / "tests" / "conftest.py"))
# Reads no result can depend on, by file and a word of the line that reads: a log's or a fake peer's own stamp.
UNHEEDED = {
    ("outages/records/sync.py", "finished_at"): "the sync run's log line (shown by status --json only)",
    ("web/publish.py", "published_at"): "the published copy's manifest",
    ("tests/fake_telegram.py", '"date"'): "the fake Bot API dates its messages, as Telegram does",
}
# Libraries whose reads of the clock are stamps compared with the same clock or with nothing: log records, the
# connection pool's ages, HTTP logs and cookies, message ids, Google's token (issued and checked on one clock),
# hypothesis's deadlines, feedgen's default dates (the hub sets its own), the zip entries' dates of an .xlsx, the
# signed session cookie's age (signed and checked on one clock).
_UNHEEDED_LIBRARIES = tuple(os.sep + name for name in (
    "logging/", "_pytest/", "sqlalchemy/pool/", "http/server.py", "http/cookiejar.py", "requests/", "urllib3/",
    "google/auth/", "email/utils.py", "uuid.py", "random.py", "socketserver.py", "hypothesis/", "feedgen/",
    "openpyxl/", "zipfile.py", "itsdangerous/"))


def _reader(frame) -> str | None:
    """The repository's code on whose behalf `frame` (the caller of a clock function) reads, or None."""
    via = None
    for _ in range(12):
        if frame is None:
            return None
        where = frame.f_code.co_filename
        if where.startswith(_WATCHED):
            if where in _NOT_READERS:
                return None
            path = os.path.relpath(where, _ROOT)
            text = linecache.getline(where, frame.f_lineno)
            if any(path == file and word in text for file, word in UNHEEDED):
                return None
            return f"{path}:{frame.f_lineno}" + (f" via {via}" if via else "")
        if via is None:
            if any(name in where for name in _UNHEEDED_LIBRARIES):
                return None
            via = f"{Path(where).parent.name}/{Path(where).name}"
        frame = frame.f_back
    return None


def parse_moment(text: str) -> datetime:
    """An ISO 8601 instant with its UTC offset, e.g. 2027-07-04T11:00:00+03:00 (a wall time alone is ambiguous)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r}: give the UTC offset, e.g. 2027-07-04T11:00:00+03:00")
    return moment


def move_session_clock(start: datetime | None, *, watch: bool = False) -> None:
    """Move the real clock of this process to `start` (None: leave it where it is) and let it tick, for the whole
    session. `watch`: note which test's code reads it (READERS); a test's own pinned clock is not the session's."""
    global MOVED, _session
    MOVED = start
    _session = time_machine.travel(start or datetime.now(UTC), tick=True)
    traveller = _session.start()
    if watch:
        asked = traveller.time_ns

        def time_ns() -> int:  # called by time_machine's patched clock functions: its caller reads the clock
            if _reading and (reader := _reader(sys._getframe(1))):
                READERS.setdefault(_reading[-1], set()).add(reader)
            return asked()

        traveller.time_ns = time_ns  # type: ignore[method-assign]


def stop_session_clock() -> None:
    global MOVED, _session
    if _session is not None:
        _session.stop()
    MOVED, _session = None, None


def child_env(env: dict[str, str]) -> dict[str, str]:
    """`env` for a Python subprocess of the hub (`outages run`, `outages serve`): under a moved session clock its
    real clock starts at the time the test sees now (the session's, or the test's own pinned one) and ticks, through
    time_machine loaded by tests/moved_clock/sitecustomize.py; otherwise `env` unchanged. Not libfaketime: its
    0.9.10 fails every `time.sleep` with EINVAL when the monotonic clock is left real (gunicorn's arbiter dies of
    it), and leaves timed waits waiting for ever when it is not."""
    if MOVED is None:
        return env
    path = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent / "moved_clock"), env.get("PYTHONPATH")]))
    return dict(env, PYTHONPATH=path, OUTAGES_TEST_CHILD_NOW=datetime.now(UTC).isoformat())
