"""The deadline rules (regulation 7.2, 7.3) and rejections, as pure functions at pinned times."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from outages.records.model import Kind
from outages.records.rules import deadline
from outages.records.state import State, state_of
from outages.settings import load

KYIV = ZoneInfo("Europe/Kyiv")
RULES = load(environ={}).rules


def at(text: str) -> datetime:
    return datetime.strptime(text, "%d.%m.%Y %H:%M:%S").replace(tzinfo=KYIV)


@pytest.mark.parametrize("recorded, met, delay", [
    ("22.11.2026 14:10:00", True, 30.0),     # exactly 30 minutes: on time
    ("22.11.2026 14:10:01", False, 30.02),   # one second more: late
    ("22.11.2026 13:55:00", True, 15.0),
    ("22.11.2026 15:40:00", False, 120.0),
])
def test_emergency_must_be_recorded_within_30_minutes(recorded, met, delay):
    verdict = deadline(Kind.EMERGENCY, at(recorded), at("22.11.2026 13:40:00"), RULES)
    assert (verdict.met, verdict.delay_minutes, verdict.lead_hours) == (met, delay, None)


@pytest.mark.parametrize("recorded, met, lead", [
    ("20.11.2026 09:00:00", True, 72.0),     # exactly three days before: on time
    ("20.11.2026 09:00:01", False, 72.0),    # a second less than 72 h (rounded for display only)
    ("19.11.2026 08:00:00", True, 97.0),
    ("22.11.2026 09:00:00", False, 24.0),
])
def test_planned_works_must_be_recorded_72_hours_ahead(recorded, met, lead):
    verdict = deadline(Kind.PLANNED, at(recorded), at("23.11.2026 09:00:00"), RULES)
    assert (verdict.met, verdict.lead_hours, verdict.delay_minutes) == (met, lead, None)


def test_emergency_delay_across_the_autumn_clock_change():
    # Event 02:50 summer time (+03:00); recorded 03:10 winter time (+02:00): 80 real minutes, not 20.
    event = datetime(2026, 10, 25, 2, 50, tzinfo=KYIV)
    recorded = datetime(2026, 10, 25, 3, 10, fold=1, tzinfo=KYIV)
    verdict = deadline(Kind.EMERGENCY, recorded, event, RULES)
    assert verdict.delay_minutes == 80.0 and not verdict.met


def test_planned_lead_across_the_spring_clock_change():
    # 72 wall-clock hours spanning 29.03.2026 contain only 71 real hours: late.
    recorded = datetime(2026, 3, 27, 10, 0, tzinfo=KYIV)
    start = datetime(2026, 3, 30, 10, 0, tzinfo=KYIV)
    verdict = deadline(Kind.PLANNED, recorded, start, RULES)
    assert verdict.lead_hours == 71.0 and not verdict.met


def test_limits_are_settings(tmp_path):
    config = tmp_path / "city.toml"
    config.write_text("[rules]\nemergency_max_delay_minutes = 60\nplanned_min_lead_hours = 24\n", encoding="utf-8")
    rules = load(environ={"OUTAGES_CONFIG": str(config)}).rules
    assert deadline(Kind.EMERGENCY, at("22.11.2026 14:30:00"), at("22.11.2026 13:40:00"), rules).met
    assert deadline(Kind.PLANNED, at("22.11.2026 09:00:00"), at("23.11.2026 09:00:00"), rules).met
    assert rules.clock_skew_minutes == RULES.clock_skew_minutes  # what the file leaves out keeps the default


# (kind, status, expected end, the state at 22.11.2026 20:00:01): one account of a record's state for every channel.
STATES = [
    ("emergency", "active", "22.11.2026 20:00:00", State.OVERDUE),
    ("emergency", "active", "22.11.2026 20:00:01", State.ACTIVE),
    ("emergency", "active", None, State.ACTIVE),
    ("emergency", "resolved", "22.11.2026 10:00:00", State.RESOLVED),
    ("planned", "active", "22.11.2026 20:00:00", State.ENDED),  # planned works end at their stated end
    ("planned", "active", "23.11.2026 09:00:00", State.ACTIVE),
    ("planned", "resolved", "22.11.2026 10:00:00", State.RESOLVED),
    ("planned", "cancelled", "23.11.2026 09:00:00", State.CANCELLED),
]


@pytest.mark.parametrize(("kind", "status", "end", "expected"), STATES)
@time_machine.travel(datetime(2026, 11, 22, 20, 0, 1, tzinfo=KYIV), tick=False)
def test_state_at_the_clock(kind, status, end, expected):
    now = datetime.now(KYIV)
    assert state_of(kind, status, at(end) if end else None, now) is expected
    assert now - timedelta(seconds=1) == at("22.11.2026 20:00:00")
