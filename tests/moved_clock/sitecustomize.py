"""Loaded at the start of a Python subprocess whose PYTHONPATH names this folder (tests/clocks.py: child_env): its
real clock starts at OUTAGES_TEST_CHILD_NOW and ticks, through time_machine as in the test run itself."""

import os

if os.environ.get("OUTAGES_TEST_CHILD_NOW"):
    from datetime import datetime

    import time_machine

    time_machine.travel(datetime.fromisoformat(os.environ["OUTAGES_TEST_CHILD_NOW"]), tick=True).start()
