"""Parsing sheet times: day first, ISO, serial numbers; intervals across daylight-saving changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from outages.times import TimeError, between, from_serial, parse_datetime, parse_day

KYIV = ZoneInfo("Europe/Kyiv")


@pytest.mark.parametrize("text, expected", [
    ("05.11.2026 14:10:00", datetime(2026, 11, 5, 14, 10)),  # 5 November, never 11 May
    ("05.11.2026 14:10", datetime(2026, 11, 5, 14, 10)),
    ("5.11.2026 9:05", datetime(2026, 11, 5, 9, 5)),
    ("05/11/2026 14:10", datetime(2026, 11, 5, 14, 10)),
    ("05.11.26 14:10", datetime(2026, 11, 5, 14, 10)),
    ("  05.11.2026   14:10  ", datetime(2026, 11, 5, 14, 10)),
    ("2026-11-05T14:10:00", datetime(2026, 11, 5, 14, 10)),
    ("2026-11-05 14:10", datetime(2026, 11, 5, 14, 10)),
])
def test_day_first_and_iso_texts_are_city_times(text, expected):
    parsed = parse_datetime(text, KYIV)
    assert parsed.tzinfo is not None
    assert parsed.replace(tzinfo=None) == expected
    assert parsed.utcoffset() == timedelta(hours=2)


def test_iso_with_offset_keeps_the_instant():
    parsed = parse_datetime("2026-07-05T11:10:00Z", KYIV)
    assert parsed.replace(tzinfo=None) == datetime(2026, 7, 5, 14, 10)  # summer time, +03:00


def test_serial_numbers_are_days_since_1899_12_30_in_the_sheet_zone():
    # 46348.5875 = 22.11.2026 14:06 in the spreadsheet's zone
    parsed = from_serial(46348.5875, KYIV)
    assert parsed.replace(tzinfo=None) == datetime(2026, 11, 22, 14, 6)
    assert parse_datetime(46348.5875, KYIV) == parsed


@pytest.mark.parametrize("text, reason", [
    ("31.02.2026 10:00", "не існує"),
    ("22.11.2026", "лише дату"),
    ("завтра", "не розпізнано"),
    ("25:61", "не розпізнано"),
])
def test_bad_times_explain_themselves_in_ukrainian(text, reason):
    with pytest.raises(TimeError, match=reason):
        parse_datetime(text, KYIV)


def test_a_date_alone_means_end_of_day_for_the_time_to_fix():
    parsed = parse_datetime("25.11.2026", KYIV, date_only_end=True)
    assert parsed.replace(tzinfo=None) == datetime(2026, 11, 25, 23, 59)


def test_interval_across_the_autumn_change_counts_real_time():
    # Kyiv leaves summer time on 25.10.2026 at 04:00 (+03:00) → 03:00 (+02:00).
    before = parse_datetime("25.10.2026 02:50", KYIV)
    after = parse_datetime("25.10.2026 03:50", KYIV)  # the repeated hour: first reading (+03:00)
    assert between(before, after) == timedelta(hours=1)
    later = parse_datetime("25.10.2026 05:00", KYIV)
    assert between(before, later) == timedelta(hours=3, minutes=10)  # wall clock says 2 h 10 min


def test_interval_across_the_spring_change_counts_real_time():
    # 29.03.2026 03:00 (+02:00) → 04:00 (+03:00)
    before = parse_datetime("29.03.2026 02:40", KYIV)
    after = parse_datetime("29.03.2026 04:10", KYIV)
    assert between(before, after) == timedelta(minutes=30)


def test_a_time_inside_the_spring_gap_moves_forward_like_a_clock():
    parsed = parse_datetime("29.03.2026 03:30", KYIV)
    assert parsed.astimezone(timezone.utc) == datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc)


def test_report_days_accept_both_spellings():
    assert parse_day("01.11.2026", KYIV) == parse_day("2026-11-01", KYIV)
    with pytest.raises(TimeError):
        parse_day("11/2026", KYIV)
