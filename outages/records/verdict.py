"""The verdict on a form row: the one text the dispatcher's sheet, `outages check` (table and JSON) and the
reporter's confirmation mail all show, and the pieces every rejection reason is written with.

A verdict is made only from what a decision keeps in the store (status, kind, action, record, deadline, errors,
notes such as a street the city's catalogue lacks), so a row that has not changed shows the same text on every
sync. Rejection reasons are written where the problem is found (parse, rules, planner) with the helpers below,
so that each one quotes the refused value the same way, shows times the same way and offers what would be
accepted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from outages.display import clip
from outages.records.model import Action, Deadline
from outages.settings import Rules
from outages.text import fold, one_line

if TYPE_CHECKING:
    from outages.records.planner import Decision

TIME_FORMAT = "ДД.ММ.РРРР ГГ:ХХ"
# Close enough to be the same name mistyped: «Центральнй», «КП Водоканл». Chosen on the demo city's names,
# where unrelated names («КП «Зеленбуд»» against «КП «Теплоенерго»») score 56 or less.
SUGGEST_SCORE = 80
SHORT_LIST = 10  # a list of known names this short is easier to read than a guess
OPEN_RECORDS_SHOWN = 10
MAX_LENGTH = 2000  # a sheet cell holds 50,000 characters; a verdict that long helps nobody


# ---- pieces of rejection reasons ----

def quote(value: object) -> str:
    """«value» in Ukrainian quotes; quotes inside become „…“, so «КП «Зеленбуд»» reads «КП „Зеленбуд“»."""
    text = one_line(value)
    inner = text.replace("«", "„").replace("»", "“")
    return f"«{inner}»"


def typed_time(moment: datetime, tz: tzinfo) -> str:
    """A time as the dispatcher types it (ДД.ММ.РРРР ГГ:ХХ), in the city's zone: a time read back from the store
    (an edited row's entry, a record's event) comes in UTC and must not be shown so."""
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def choices(names: Iterable[str]) -> str:
    """«A», «B» або «C»."""
    quoted = [quote(name) for name in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " або " + quoted[-1]


def suggest(value: str, known: Mapping[str, str] | Iterable[str]) -> str:
    """What would be accepted instead of `value`: the nearest known name if one is close, else the names
    when there are few, else the three nearest. `known` maps each accepted spelling to its proper name
    (aliases included), or is just the names."""
    spellings = dict(known) if isinstance(known, Mapping) else {name: name for name in known}
    folded: dict[str, str] = {}
    for spelling, name in spellings.items():
        folded.setdefault(fold(spelling), name)
    names = list(dict.fromkeys(spellings.values()))
    best = process.extractOne(fold(value), list(folded), scorer=fuzz.WRatio, score_cutoff=SUGGEST_SCORE)
    if best is not None:
        return f"можливо, {quote(folded[best[0]])}?"
    if len(names) <= SHORT_LIST:
        return "оберіть " + choices(names)
    nearest: list[str] = []
    for spelling, _score, _index in process.extract(fold(value), list(folded), scorer=fuzz.WRatio, limit=10):
        if folded[spelling] not in nearest:
            nearest.append(folded[spelling])
    return "найближчі відомі: " + choices(nearest[:3])


def open_records(executor: str, numbers: list[int]) -> str:
    """The utility's open records, for a follow-up that named a number the hub does not know for it."""
    if not numbers:
        return f"відкритих записів у {executor} немає (про нову подію надішліть «Нове повідомлення»)"
    shown = ", ".join(f"№{n}" for n in numbers[-OPEN_RECORDS_SHOWN:])
    more = len(numbers) - OPEN_RECORDS_SHOWN
    return f"відкриті записи {executor}: {shown}" + (f" (і ще {more} раніших)" if more > 0 else "")


# ---- the verdict ----

def text(decision: Decision, rules: Rules) -> str:
    """The verdict on one row, in the words the dispatcher reads in «Статус обробки»."""
    said = _text(decision, rules)
    if decision.status == "accepted" and decision.notes:  # «вулицю «…» не знайдено в довіднику міста»
        said = "; ".join([said, *decision.notes])
        said = clip(said, MAX_LENGTH)
    return said


def _text(decision: Decision, rules: Rules) -> str:
    if decision.status != "accepted":
        said = "Відхилено: " + "; ".join(decision.errors or ["причину не вказано"])
        return clip(said, MAX_LENGTH)
    number = decision.record
    if decision.action is Action.UPDATE:
        return f"Прийнято: оновлення №{number}"
    if decision.action is Action.RESOLVE:
        return f"Прийнято: №{number} ліквідовано"
    if decision.deadline is None:
        return f"Прийнято, №{number}"
    return accepted(number, decision.deadline, rules)


def accepted(number: int | None, deadline: Deadline, rules: Rules) -> str:
    """A new record with its timeliness: the norm and by how much it was met or missed."""
    if deadline.delay_minutes is not None:
        norm = rules.emergency_max_delay_minutes
        delay = minutes_after(deadline, rules)
        if deadline.met:
            return f"Прийнято, №{number}, вчасно (внесено через {delay} хв)"
        return (f"Прийнято, №{number}: внесено через {delay} хв після події — "
                f"на {_whole(delay - norm)} хв пізніше норми ({_whole(norm)} хв)")
    norm = rules.planned_min_lead_hours
    lead = hours_ahead(deadline, rules)
    if deadline.met:
        return f"Прийнято, №{number}, вчасно (повідомлено за {lead} год до початку)"
    told = f"повідомлено за {lead} год до початку" if lead >= 0 else f"повідомлено через {-lead} год після початку"
    return f"Прийнято, №{number}: {told} — на {_whole(norm - lead)} год пізніше норми ({_whole(norm)} год)"


# Amounts are whole minutes (emergencies) or hours (planned works), rounded half up, except that a missed
# deadline is never shown as met: 30.2 minutes after the event reads 31, not 30.

def minutes_after(deadline: Deadline, rules: Rules) -> int:
    """Whole minutes from the event to the entry, as the verdict states them."""
    norm = rules.emergency_max_delay_minutes
    delay = _round(deadline.delay_minutes or 0.0)
    return max(0, min(delay, math.floor(norm))) if deadline.met else max(delay, math.floor(norm) + 1)


def minutes_late(deadline: Deadline, rules: Rules) -> float:
    """By how many minutes an emergency missed the norm (0 when on time)."""
    return 0 if deadline.met else minutes_after(deadline, rules) - rules.emergency_max_delay_minutes


def hours_ahead(deadline: Deadline, rules: Rules) -> int:
    """Whole hours between the entry and the start of planned works, as the verdict states them."""
    norm = rules.planned_min_lead_hours
    lead = _round(deadline.lead_hours or 0.0)
    return max(lead, math.ceil(norm)) if deadline.met else min(lead, math.ceil(norm) - 1)


def _round(value: float) -> int:
    """Half up, as people round (Python's round() goes to even: 49.5 → 49)."""
    return math.floor(value + 0.5)


def _whole(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))
