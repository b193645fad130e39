"""The reports' table of `outages report deadlines` (5.1): per utility, how many reports were forwarded in the
period, how many taken in time, taken late, and not taken yet past their deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from outages.reports.options import report_options
from outages.schema import reports
from outages.settings import Settings


@dataclass(frozen=True)
class UtilityTakes:
    utility: str
    forwarded: int
    in_time: int
    late: int
    not_taken: int  # past the deadline and still not taken

    def as_json(self) -> dict[str, object]:
        return {"utility": self.utility, "forwarded": self.forwarded, "taken_in_time": self.in_time,
                "taken_late": self.late, "not_taken_past_deadline": self.not_taken}


def takes(conn: Connection, settings: Settings, start: datetime, end: datetime, now: datetime) -> list[UtilityTakes]:
    options = report_options(settings)
    utility_of = {s.code: s.utility or "—" for s in options.services}
    counts: dict[str, list[int]] = {}
    rows = conn.execute(select(reports.c.service_code, reports.c.take_due_at, reports.c.taken_at).where(
        reports.c.forwarded_at >= start, reports.c.forwarded_at < end))
    for code, due, taken in rows:
        tally = counts.setdefault(utility_of.get(code, "—"), [0, 0, 0, 0])
        tally[0] += 1
        if taken is not None:
            tally[1 if taken <= due else 2] += 1
        elif due is not None and due <= now:
            tally[3] += 1
    return [UtilityTakes(name, *tally) for name, tally in sorted(counts.items())]
