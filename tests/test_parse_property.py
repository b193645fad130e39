"""Property: whatever a row holds, it is accepted or rejected with a reason — never a crash."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rows import FIELD_HEADERS, emergency

from outages.records.model import SheetRow, SheetTable
from outages.records.parse import read_table
from outages.records.planner import State, plan
from outages.settings import load

SETTINGS = load(environ={})
HEADERS = tuple(FIELD_HEADERS.values())

# Values as they come from CSV, XLSX (datetimes, numbers) and the Sheets API (serial numbers).
plausible = st.sampled_from([
    "22.11.2026 14:05", "05.11.2026 14:10:00", "2026-11-22T14:05:00+02:00", "31.02.2026 10:00", "22.11.2026",
    "Аварійна ситуація", "планові  РОБОТИ", "Оновлення", "ЛІКВІДОВАНО", "№12", "0", "-3", "12.5",
    "Центральний, Інгульський", "центральний;;", "КП «Водоканал»", "Водопостачання", "<script>alert(1)</script>",
    "\x0b\x00\u202e", "\ud800 лонлі сурогат", "\uffff", "", "   ", "/etc/passwd",
])
value = st.one_of(
    st.none(), plausible, st.text(max_size=40), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=40000, max_value=50000),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)), st.booleans(),
)
row_values = st.fixed_dictionaries({}, optional={header: value for header in HEADERS})


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row_values, min_size=1, max_size=6))
def test_any_row_is_accepted_or_rejected_with_a_reason(rows):
    table = SheetTable("prop", HEADERS, tuple(SheetRow(n, v) for n, v in enumerate(rows, start=2)))
    decisions = plan(table, read_table(table, SETTINGS), State(), SETTINGS).decisions
    for decision in decisions:
        assert decision.status in ("accepted", "rejected")
        if decision.status == "rejected":
            assert decision.errors and all(isinstance(e, str) and e.strip() for e in decision.errors)
        else:
            assert decision.record is not None and not decision.errors
        assert all("\ud800" not in error for error in decision.errors)  # what the sheet shows must encode


@hsettings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(FIELD_HEADERS)), value)
def test_one_odd_field_in_a_good_row_never_crashes(field, odd):
    values = {FIELD_HEADERS[k]: v for k, v in emergency().items()}
    values[FIELD_HEADERS[field]] = odd
    table = SheetTable("prop", HEADERS, (SheetRow(2, values),))
    [decision] = plan(table, read_table(table, SETTINGS), State(), SETTINGS).decisions or [None]
    assert decision is None or decision.status in ("accepted", "rejected")
