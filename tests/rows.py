"""Building response-sheet rows in tests, with the default headers."""

from __future__ import annotations

from typing import Any

from outages.demo.build import HEADERS
from outages.records.model import SheetRow, SheetTable

FIELD_HEADERS = dict(zip(
    ("recorded_at", "executor", "kind", "action", "reference", "service", "districts", "addresses", "summary",
     "cause", "impact", "expected_end", "event_at", "contact_name", "contact_phone", "reporter_email"),
    HEADERS,
))


def emergency(**over: Any) -> dict[str, Any]:
    row = {
        "recorded_at": "22.11.2026 14:05:33", "executor": "КП «Водоканал»", "kind": "Аварійна ситуація",
        "action": "", "reference": "", "service": "Водопостачання", "districts": "Центральний",
        "addresses": "вул. Соборна, 12", "summary": "Порив водогону", "cause": "Корозія", "impact": "Немає води",
        "expected_end": "22.11.2026 20:00", "event_at": "22.11.2026 13:40", "contact_name": "Іван Петренко",
        "contact_phone": "0501234567", "reporter_email": "ivan@example.org",
    }
    row.update(over)
    return row


def planned(**over: Any) -> dict[str, Any]:
    row = emergency(kind="Планові роботи", executor="АТ «Обленерго»", service="Електропостачання",
                    summary="Заміна трансформатора", recorded_at="20.11.2026 09:00",
                    event_at="23.11.2026 09:00", expected_end="23.11.2026 17:00")
    row.update(over)
    return row


def update(ref: int, **over: Any) -> dict[str, Any]:
    row = {name: "" for name in FIELD_HEADERS}
    row.update(recorded_at="22.11.2026 16:00", executor="КП «Водоканал»", action="Оновлення", reference=str(ref),
               expected_end="22.11.2026 23:00")
    row.update(over)
    return row


def resolve(ref: int, **over: Any) -> dict[str, Any]:
    # Before 18:00, the clock most tests sync at: a stamp later than the sync's clock is refused as implausible.
    row = update(ref, action="Ліквідовано", expected_end="", recorded_at="22.11.2026 17:55",
                 event_at="22.11.2026 17:50")
    row.update(over)
    return row


def table(*rows: dict[str, Any] | None, source: str = "test") -> SheetTable:
    """Rows in sheet order from row 2; None leaves a blank row."""
    out = []
    for number, fields in enumerate(rows, start=2):
        fields = fields or {}
        out.append(SheetRow(number=number, values={FIELD_HEADERS[k]: v for k, v in fields.items()}))
    return SheetTable(source=source, headers=tuple(HEADERS), rows=tuple(out))


def write_csv(path, *rows: dict[str, Any] | None) -> str:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for fields in rows:
            fields = fields or {}
            writer.writerow([fields.get(name, "") for name in FIELD_HEADERS])
    return str(path)
