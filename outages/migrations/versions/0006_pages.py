"""Public pages at scale (issue 8, pages): districts one per row, indexes for the public lists, first headlines.

Revision ID: 0006_pages
Revises: 0005_addresses
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006_pages"
down_revision = "0005_addresses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_districts",
        sa.Column("record_number", sa.Integer, sa.ForeignKey("records.number"), primary_key=True),
        sa.Column("district", sa.String(200), primary_key=True),
    )
    op.create_index("ix_record_districts_district", "record_districts", ["district", "record_number"])
    op.create_index("ix_records_list_event", "records", ["status", "kind", "event_at"])
    op.create_index("ix_records_list_resolved", "records", ["status", "resolved_at"])
    op.create_index("ix_records_first_recorded", "records", ["first_recorded_at"])
    op.create_index("ix_records_last_changed", "records", ["last_changed_at"])
    op.create_index("ix_events_created", "events", ["created_at"])
    op.create_index("ix_events_at", "events", ["at", "id"])
    conn = op.get_bind()
    records = sa.table("records", sa.column("number", sa.Integer), sa.column("districts", sa.JSON),
                       sa.column("summary", sa.Text))
    rows = [{"record_number": number, "district": name}
            for number, districts in conn.execute(sa.select(records.c.number, records.c.districts))
            for name in dict.fromkeys(_list(districts))]
    if rows:
        conn.execute(sa.table("record_districts", sa.column("record_number"), sa.column("district")).insert(), rows)
    _restore_first_summaries(conn, records)


def _list(value):  # noqa: ANN001, ANN202
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value or ()]


def _restore_first_summaries(conn, records) -> None:  # noqa: ANN001
    """Until now an update's «Коротка інформація» replaced the record's: the headline lost what happened. The
    first summary survives as the old value of the first update or resolution that changed it; put it back."""
    events = sa.table("events", sa.column("id", sa.Integer), sa.column("record_number", sa.Integer),
                      sa.column("kind", sa.String), sa.column("data", sa.JSON))
    query = (sa.select(events.c.record_number, events.c.kind, events.c.data)
             .where(events.c.kind.in_(("edited", "updated", "resolved"))).order_by(events.c.id))
    first: dict[int, str] = {}
    overwritten: set[int] = set()
    for number, kind, data in conn.execute(query):
        if isinstance(data, str):
            data = json.loads(data)
        pair = (data or {}).get("changed", {}).get("summary")
        if not (isinstance(pair, list) and len(pair) == 2):
            continue
        if kind == "edited":  # a correction of the first row: its text is the headline
            first[number] = pair[1] or ""
        else:
            first.setdefault(number, pair[0] or "")
            overwritten.add(number)
    for number in sorted(overwritten):
        if first[number]:
            conn.execute(records.update().where(records.c.number == number).values(summary=first[number]))

def downgrade() -> None:
    op.drop_index("ix_events_at", "events")
    op.drop_index("ix_events_created", "events")
    op.drop_index("ix_records_last_changed", "records")
    op.drop_index("ix_records_first_recorded", "records")
    op.drop_index("ix_records_list_resolved", "records")
    op.drop_index("ix_records_list_event", "records")
    op.drop_index("ix_record_districts_district", "record_districts")
    op.drop_table("record_districts")
