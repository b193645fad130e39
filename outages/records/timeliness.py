"""The timeliness report per utility (regulation 6.2.3): records, on time, late, median and worst case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from outages.records.model import Kind
from outages.records.views import RecordView


@dataclass(frozen=True)
class UtilityLine:
    executor: str
    kind: Kind
    records: int
    on_time: int
    late: int
    median: float | None  # minutes after the event (emergency) or hours before the start (planned)
    worst: float | None  # the longest delay, or the shortest lead

    @property
    def unit(self) -> str:
        return "minutes" if self.kind is Kind.EMERGENCY else "hours"

    def as_json(self) -> dict[str, Any]:
        share = round(self.on_time / self.records, 4) if self.records else None
        return {"executor": self.executor, "kind": self.kind.value, "records": self.records,
                "on_time": self.on_time, "late": self.late, "on_time_share": share,
                "median": self.median, "worst": self.worst, "unit": self.unit}


@dataclass(frozen=True)
class DeadlineReport:
    since: datetime | None
    until: datetime | None
    lines: list[UtilityLine]
    breaches: list[RecordView]
    # False alarms cancelled by the contact centre: not reports of anything, so neither on time nor late; counted
    # apart per utility so a utility's share of cancelled records is still visible.
    cancelled: dict[str, int] = field(default_factory=dict)

    def as_json(self, tz) -> dict[str, Any]:  # noqa: ANN001
        return {
            "period": {"since": self.since.isoformat() if self.since else None,
                       "until": self.until.isoformat() if self.until else None},
            "utilities": [line.as_json() for line in self.lines],
            "breaches": [_breach_json(record, tz) for record in self.breaches],
            "cancelled": [{"executor": name, "records": count} for name, count in sorted(self.cancelled.items())],
        }


def _measure(record: RecordView) -> float | None:
    if record.kind is Kind.EMERGENCY:
        return record.deadline.delay_minutes
    return record.deadline.lead_hours


def build(records: list[RecordView], since: datetime | None = None, until: datetime | None = None) -> DeadlineReport:
    groups: dict[tuple[str, Kind], list[RecordView]] = {}
    cancelled: dict[str, int] = {}
    for record in records:
        if record.status == "cancelled":
            cancelled[record.executor] = cancelled.get(record.executor, 0) + 1
            continue
        groups.setdefault((record.executor, record.kind), []).append(record)
    lines = []
    for (executor, kind), group in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1].value)):
        values = [v for v in map(_measure, group) if v is not None]
        worst = (max(values) if kind is Kind.EMERGENCY else min(values)) if values else None
        late = sum(not r.deadline.met for r in group)
        lines.append(UtilityLine(
            executor=executor, kind=kind, records=len(group), on_time=len(group) - late, late=late,
            median=round(median(values), 2) if values else None, worst=worst,
        ))
    breaches = sorted((r for r in records if not r.deadline.met and r.status != "cancelled"),
                      key=lambda r: r.first_recorded_at)
    return DeadlineReport(since=since, until=until, lines=lines, breaches=breaches, cancelled=cancelled)


def _breach_json(record: RecordView, tz) -> dict[str, Any]:  # noqa: ANN001
    return {
        "record": record.number, "executor": record.executor, "kind": record.kind.value,
        "service": record.service, "districts": list(record.districts),
        "event_at": record.event_at.astimezone(tz).isoformat(),
        "recorded_at": record.first_recorded_at.astimezone(tz).isoformat(),
        "delay_minutes": record.deadline.delay_minutes, "lead_hours": record.deadline.lead_hours,
    }
