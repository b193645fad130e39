"""Sync against a real store (SQLite and PostgreSQL): numbering, idempotence, edits, updates, identity."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from rows import emergency, planned, resolve, table, update
from sqlalchemy import func, select

from outages.records import views as queries
from outages.records.sync import check, sync
from outages.schema import events, records, submissions, sync_runs

KYIV = ZoneInfo("Europe/Kyiv")
# After the last stamp the rows below carry (19:30): a stamp later than the clock is refused as implausible.
NOW = datetime(2026, 11, 22, 19, 45, tzinfo=KYIV)


def event_kinds(engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(events.c.record_number, events.c.kind).order_by(events.c.id))]


def record(engine, number):
    with engine.connect() as conn:
        return queries.get_record(conn, number, NOW)


def test_numbers_start_at_1_in_sheet_order_and_late_rows_raise_a_breach(engine, settings):
    result = sync(engine, table(
        emergency(),
        emergency(recorded_at="22.11.2026 15:00", summary="Друга аварія"),  # 80 min after the event: late
        planned(),
    ), settings, NOW)
    assert [d.record for d in result.plan.decisions] == [1, 2, 3]
    assert result.counts["new"] == 3 and result.counts["late"] == 1
    assert event_kinds(engine) == [(1, "created"), (2, "created"), (2, "breach"), (3, "created")]
    late = record(engine, 2)
    assert late.deadline.met is False and late.deadline.delay_minutes == 80.0
    assert record(engine, 3).deadline.lead_hours == 72.0


def test_the_same_input_twice_changes_nothing(engine, settings):
    rows = table(emergency(), update(1), planned(), emergency(districts="Марс", recorded_at="22.11.2026 14:09"))
    sync(engine, rows, settings, NOW)
    before = event_kinds(engine)
    again = sync(engine, rows, settings, NOW)
    assert again.counts == {"new": 0, "updated": 0, "resolved": 0, "rejected": 0, "late": 0, "unchanged": 4,
                            "overdue": 0}
    assert event_kinds(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(sync_runs)).scalar() == 2


def test_an_edited_row_updates_its_record_and_keeps_the_first_recorded_time(engine, settings):
    sync(engine, table(emergency()), settings, NOW)
    # Google rewrites the timestamp when a response is edited: two hours later would make it late.
    edited = emergency(recorded_at="22.11.2026 16:05:00", summary="Порив водогону Ø100, уточнено")
    result = sync(engine, table(edited), settings, NOW)
    assert result.counts["updated"] == 1 and result.counts["new"] == 0
    rec = record(engine, 1)
    assert rec.summary == "Порив водогону Ø100, уточнено"
    assert rec.first_recorded_at == datetime(2026, 11, 22, 14, 5, 33, tzinfo=KYIV)
    assert rec.deadline.met and rec.revision == 2
    kinds = [e.kind for e in queries_history(engine, 1)]
    assert kinds == ["created", "edited"]


def queries_history(engine, number):
    with engine.connect() as conn:
        return queries.history(conn, number)


def test_update_changes_the_expected_end_and_keeps_history_then_resolve_closes(engine, settings):
    sync(engine, table(emergency(), update(1)), settings, NOW)
    rec = record(engine, 1)
    assert rec.expected_end == datetime(2026, 11, 22, 23, 0, tzinfo=KYIV)
    updated = queries_history(engine, 1)[-1]
    assert updated.kind == "updated"
    assert updated.data["old_expected_end"].startswith("2026-11-22T18:00:00")  # 20:00 Kyiv in UTC
    assert updated.data["new_expected_end"].startswith("2026-11-22T21:00:00")
    result = sync(engine, table(emergency(), update(1), resolve(1)), settings, NOW)
    assert result.counts["resolved"] == 1
    rec = record(engine, 1)
    assert rec.status == "resolved" and rec.resolved_at == datetime(2026, 11, 22, 17, 50, tzinfo=KYIV)
    late_update = sync(engine, table(emergency(), update(1), resolve(1),
                                     update(1, recorded_at="22.11.2026 19:30", expected_end="23.11.2026 08:00")),
                       settings, NOW)
    assert late_update.plan.decisions[-1].status == "rejected"
    assert "уже закрито" in late_update.plan.decisions[-1].errors[0]


def test_follow_ups_need_a_known_number_of_the_same_utility(engine, settings):
    result = sync(engine, table(
        emergency(),
        update(7),
        update(1, executor="АТ «Обленерго»"),
        update(1, reference=""),
        update(1, reference="сім"),
    ), settings, NOW)
    errors = [d.errors for d in result.plan.decisions]
    assert "№7 не знайдено" in errors[1][0]
    assert "інший виконавець (КП «Водоканал»)" in errors[2][0]
    assert "вкажіть номер повідомлення" in errors[3][0]
    assert "має бути цілим числом" in errors[4][0]
    assert [d.status for d in result.plan.decisions] == ["accepted"] + ["rejected"] * 4


def test_rows_sorted_or_deleted_between_syncs_create_no_duplicates(engine, settings):
    a, b, c = emergency(), planned(), emergency(summary="Третя", recorded_at="22.11.2026 14:06")
    sync(engine, table(a, b, c), settings, NOW)
    reordered = sync(engine, table(c, a, b), settings, NOW)
    assert reordered.counts["unchanged"] == 3 and reordered.counts["new"] == 0
    assert [d.record for d in reordered.plan.decisions] == [3, 1, 2]
    shifted = sync(engine, table(a, c), settings, NOW)  # b deleted: c moves up a row
    assert shifted.counts["unchanged"] == 2 and shifted.counts["updated"] == 0
    appended = sync(engine, table(a, c, emergency(summary="Четверта", recorded_at="22.11.2026 14:07")),
                    settings, NOW)
    assert [d.record for d in appended.plan.decisions] == [1, 3, 4]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar() == 4


def test_a_double_submission_is_rejected_with_a_reason(engine, settings):
    result = sync(engine, table(emergency(), emergency(recorded_at="22.11.2026 14:06:10")), settings, NOW)
    second = result.plan.decisions[1]
    assert second.status == "rejected" and "Повторне надсилання" in second.errors[0] and "(№1)" in second.errors[0]


def test_a_rejected_row_fixed_later_is_accepted_with_its_first_time(engine, settings):
    broken = emergency(districts="Південний")
    first = sync(engine, table(broken), settings, NOW)
    assert first.plan.decisions[0].status == "rejected"
    fixed = sync(engine, table(emergency(recorded_at="22.11.2026 15:30")), settings, NOW)
    decision = fixed.plan.decisions[0]
    assert decision.status == "accepted" and decision.record == 1 and decision.deadline.met
    assert record(engine, 1).first_recorded_at == datetime(2026, 11, 22, 14, 5, 33, tzinfo=KYIV)


def test_blank_rows_are_skipped_not_reported(engine, settings):
    result = sync(engine, table(emergency(), None, {"summary": "   "}, planned()), settings, NOW)
    assert [d.row for d in result.plan.decisions] == [2, 5]


def test_overdue_is_flagged_once_per_expected_end(engine, settings):
    sync(engine, table(emergency()), settings, NOW)  # expected end 20:00, now 18:00
    later = datetime(2026, 11, 22, 21, 0, tzinfo=KYIV)
    assert sync(engine, table(emergency()), settings, later).counts["overdue"] == 1
    assert sync(engine, table(emergency()), settings, later).counts["overdue"] == 0
    with engine.connect() as conn:
        assert queries.get_record(conn, 1, later).overdue
    # A new expected end clears it; passing that one flags it again.
    sync(engine, table(emergency(), update(1)), settings, later)
    with engine.connect() as conn:
        assert not queries.get_record(conn, 1, later).overdue
    assert [k for _, k in event_kinds(engine)] == ["created", "overdue", "updated"]


def test_a_failing_sync_leaves_the_store_unchanged(engine, settings):
    sync(engine, table(emergency()), settings, NOW)
    before = event_kinds(engine)

    def explode(conn, result):
        raise RuntimeError("write-back failed")

    with pytest.raises(RuntimeError):
        sync(engine, table(emergency(), planned(), update(1)), settings, NOW, after=explode)
    assert event_kinds(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(submissions)).scalar() == 1
    assert sync(engine, table(emergency(), planned(), update(1)), settings, NOW).counts["new"] == 1


def test_check_predicts_exactly_what_sync_does(engine, settings):
    rows = table(emergency(), planned(recorded_at="22.11.2026 09:00"), update(1), update(9), resolve(2,
                 executor="АТ «Обленерго»"), emergency(kind="Щось"))
    predicted = check(engine, rows, settings, NOW).as_json()
    done = sync(engine, rows, settings, NOW).plan.as_json()
    assert predicted == done
    assert predicted["summary"] == {"accepted": 4, "rejected": 2, "late": 1}


def test_the_same_sheet_read_as_an_export_or_through_the_api_is_the_same_content(engine, settings):
    # An export shows times as text; the Sheets API gives serial numbers, XLSX gives datetimes.
    sync(engine, table(emergency(), update(1)), settings, NOW)
    as_api = emergency(recorded_at=46348.58719, event_at=46348.56944444444, expected_end=46348.83333333333)
    as_xlsx = update(1, recorded_at=datetime(2026, 11, 22, 16, 0), expected_end=datetime(2026, 11, 22, 23, 0))
    again = sync(engine, table(as_api, as_xlsx), settings, NOW)
    assert again.counts["unchanged"] == 2 and again.counts["updated"] == 0
    assert [k for _, k in event_kinds(engine)] == ["created", "updated"]


def test_rows_are_recognised_by_their_cells_and_by_their_content_alike(engine, settings):
    rows = table(emergency(), update(1), planned())
    sync(engine, rows, settings, NOW)
    with engine.begin() as conn:  # as stored before fingerprints existed (migration 0004)
        conn.execute(submissions.update().values(raw_hash=None))
    again = sync(engine, rows, settings, NOW)
    assert again.counts["unchanged"] == 3 and again.counts["new"] == again.counts["updated"] == 0
    # Different cells, same content (spaces a phone added): still the same submission, and no event.
    spaced = table(emergency(summary="Порив  водогону "), update(1), planned())
    assert sync(engine, spaced, settings, NOW).counts["unchanged"] == 3
    with engine.connect() as conn:
        prints = dict(conn.execute(select(submissions.c.row_number, submissions.c.raw_hash)).all())
    assert None not in prints.values()
    assert sync(engine, spaced, settings, NOW).counts["unchanged"] == 3
    assert [k for _, k in event_kinds(engine)] == ["created", "updated", "created"]


def test_the_planner_reads_the_records_a_push_names_and_keeps_its_own_changes_over_the_stored_ones():
    """A push of one row reads one record, not the year's; whatever the planner changed stays changed when
    something later reads them all (a verdict listing a utility's open records)."""
    from outages.records.planner import KnownRecord, LazyRecords

    at = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)

    def rec(number: int, status: str) -> KnownRecord:
        return KnownRecord(number, "КП «Водоканал»", "emergency", status, at, None, at, True)

    stored = {1: rec(1, "active"), 2: rec(2, "active"), 3: rec(3, "active")}
    reads: list[object] = []

    def load() -> dict:
        reads.append("all")
        return dict(stored)

    def load_one(number: int):
        reads.append(number)
        return stored.get(number)

    records = LazyRecords(load, load_one)
    assert records.get(2).status == "active" and records.get(9) is None and 9 not in records
    assert reads == [2, 9]
    records[2] = rec(2, "resolved")  # a «Ліквідовано» row earlier in the sheet
    records[4] = rec(4, "active")  # a new record made by this sheet
    assert sorted(n for n, r in records.items() if r.status != "resolved") == [1, 3, 4]
    assert reads == [2, 9, "all"]


@pytest.mark.parametrize("one, other", [
    ({"Виконавець": "КП «Водоканал»\x1fАварія", "Тип": ""}, {"Виконавець": "КП «Водоканал»", "Тип": "\x1fАварія"}),
    ({"Термін ліквідації": 46348.5}, {"Термін ліквідації": "46348.5"}),  # a serial number is not its text
    ({"Термін ліквідації": None}, {"Термін ліквідації": ""}),
    ({"Термін ліквідації": 46348}, {"Термін ліквідації": 46348.0}),
    ({"Термін ліквідації": True}, {"Термін ліквідації": 1}),
])
def test_cells_that_differ_never_share_a_fingerprint(settings, one, other):
    """A row whose fingerprint the store holds is taken as unchanged without being read: different cells must
    never give the same fingerprint, whatever their types or the separators inside them."""
    from outages.records.model import SheetRow
    from outages.records.parse import HeaderMap, raw_fingerprint

    headers = tuple(settings.columns.values())
    mapped = HeaderMap(headers, settings)
    base = dict.fromkeys(headers, "x")
    first, second = (raw_fingerprint(SheetRow(2, base | cells), mapped) for cells in (one, other))
    assert first != second
    assert raw_fingerprint(SheetRow(2, base | one), mapped) == first  # and the same cells always give the same


def test_a_table_handed_over_to_the_sync_is_let_go_of_before_the_writes(engine, settings, tmp_path):
    """A year's export is 100 MiB of rows: once planned, the sync must not keep them through its writes (file and
    published-CSV sources hand the table over; a source that writes verdicts back keeps its own reference)."""
    import gc
    import weakref

    from rows import write_csv

    from outages.worker import Batch
    from sheets.files import read_file

    batch = Batch(read_file(write_csv(tmp_path / "rows.csv", emergency(), update(1), planned())))
    gone = weakref.ref(batch.table)
    seen: dict[str, bool] = {}

    def after(conn, result) -> None:
        gc.collect()
        seen["alive"] = gone() is not None

    result = sync(engine, batch.take_table(), settings, NOW, after=after)
    assert result.counts["new"] == 2 and result.counts["updated"] == 1
    assert seen == {"alive": False}
    assert batch.table.rows == () and batch.table.source == result.plan.source
