"""A rejected emergency row fixed by a later row (issue 19).

The contact centre rings the dispatcher about row 37 («Південний» is no district). The dispatcher seldom edits
that response; more often they send the form again, and row 40 is accepted as №52. Row 37 stays rejected in the
sheet (its verdict is still true of it), but nobody has to chase it any more, so the console's worklist leaves it
out. (A row edited into an accepted one needs nothing here: it is accepted, and leaves the list by itself.)

The hub cannot know that two rows tell of one emergency. The rule is the simplest one an operator can check at a
glance: a later row of the same sheet, from the same utility, accepted as a new emergency of the same service at
the same place — naming a street the rejected row named (as the site's search reads streets), or, when the
rejected row named no street, one of its districts, or, when it named neither, anywhere. An unrelated emergency of
the same utility elsewhere in the city does not fix it. Planned works are left as they are: their rows have days,
not minutes, to be put right.

The fix is written into the rejected row's `detail` (`fixed_by`: the record and the row), in the sync's
transaction, so /ops stays one slice of an index and can say what fixed it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from outages.places.addresses import parse_addresses
from outages.places.streets import Streets
from outages.records.model import Kind
from outages.records.planner import PARKED, Plan
from outages.schema import submissions
from outages.settings import Settings
from outages.text import fold

EMERGENCY = Kind.EMERGENCY.value


def waiting(column: Any = submissions.c.detail) -> Any:
    """The SQL condition of a rejected row not fixed by a later one (for the worklist)."""
    return column["fixed_by"].as_string().is_(None)


def mark_fixed(conn: Connection, plan: Plan, settings: Settings) -> int:
    """Mark the rejected emergency rows of this sheet that this sync's new emergencies fix; how many."""
    fixes = sorted((d for d in plan.decisions if d.change == "new" and d.kind is Kind.EMERGENCY
                    and d.submission is not None), key=lambda d: d.row)
    if not fixes:
        return 0  # the common sync: nothing read
    detail = submissions.c.detail
    rows = conn.execute(select(submissions.c.id, submissions.c.row_number, detail).where(
        submissions.c.status == "rejected", submissions.c.source == plan.source,
        submissions.c.row_key.not_like(PARKED + "%"), detail["kind"].as_string() == EMERGENCY, waiting())).all()
    streets: dict[str, frozenset[str]] = {}
    marks = []
    for sid, row, said in rows:
        for fix in fixes:
            sub = fix.submission
            assert sub is not None
            if fix.row > row and _same(said, sub, settings.streets, streets):
                marks.append({"sid": sid, "detail": said | {"fixed_by": {"record": fix.record, "row": fix.row}}})
                break
    if marks:
        conn.execute(update(submissions).where(submissions.c.id == bindparam("sid")), marks)
    return len(marks)


def _same(said: dict[str, Any], sub: Any, catalogue: Streets, cache: dict[str, frozenset[str]]) -> bool:
    if fold(said.get("executor") or "") != fold(sub.executor) or not sub.executor:
        return False
    if fold(said.get("service") or "") != fold(sub.service):
        return False
    named = _streets(said.get("addresses") or "", catalogue, cache)
    if named:
        return bool(named & _streets(sub.addresses, catalogue, cache))
    districts = set(said.get("districts") or ())
    return not districts or bool(districts & set(sub.districts))


def _streets(text: str, catalogue: Streets, cache: dict[str, frozenset[str]]) -> frozenset[str]:
    if text not in cache:
        cache[text] = frozenset(item.street_key for item in parse_addresses(text, catalogue).items)
    return cache[text]
