"""What an operator does to records from the console (issue 19; regulation 4.10 and 7.8): enter a phone report,
correct a record, cancel a false alarm, resolve, record a relay confirmed by phone, resend a failed message.

Each action is one transaction: the record's change, its event (which queues who must be told, as a sync's would)
and the audit row commit together or not at all. A refused action raises Refused with every reason, in the words
the form's verdicts use, and stores nothing.

Corrections stand against the sheet: a sync of an unchanged sheet leaves records alone, so only a later edit of the
dispatcher's own row changes the record again (its «edited» event follows the correction in the record's story).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import Connection, Engine, select, update

from outages.console import audit
from outages.officials import relay
from outages.places import index as address_index
from outages.places.addresses import parse_addresses
from outages.records import rules
from outages.records.districts import index as index_districts
from outages.records.events import NewEvent, emit
from outages.records.model import Kind, SheetRow
from outages.records.parse import FORM_FIELD_UK, HeaderMap, parse_row
from outages.records.planner import Plan, State, decide
from outages.records.sync import _json, apply, load_state, lock_for_sync
from outages.records.verdict import typed_time
from outages.schema import outbox, records
from outages.settings import FIELDS, Settings
from outages.text import clean, one_line
from outages.times import TimeError, between, parse_datetime

# The phone report's fields (pinned by the issue); `reported_at` is when the utility called, `caller` who did.
PHONE_FIELDS = ("kind", "executor", "service", "districts", "addresses", "summary", "cause", "impact", "event_at",
                "expected_end", "reported_at", "caller")
# What a correction may change: the record's own fields (not when it was reported, nor who called).
CORRECTABLE = ("kind", "executor", "service", "districts", "addresses", "summary", "cause", "impact", "event_at",
               "expected_end")
REASON_CHARS = 1000
CALLER_CHARS = 200


class Refused(Exception):
    """The action was not taken; `errors` say why, one reason per refused value."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Done:
    number: int
    said: str  # what the operator reads back: the verdict of an entry, what changed for a correction


def enter(engine: Engine, form: Mapping[str, str], *, actor: str, settings: Settings, now: datetime) -> Done:
    """A phone report (7.8): the same rules and verdict words as a form row, the deadline measured to when the
    utility called (`reported_at`, default now). Told, published and fanned out exactly like a form record."""
    caller = one_line(form.get("caller"))[:CALLER_CHARS]
    if not caller:
        raise Refused(["Не заповнено: хто телефонував (прізвище, посада, телефон)"])
    values = {name: form.get(name, "") for name in PHONE_FIELDS if name not in ("reported_at", "caller")}
    values["recorded_at"] = form.get("reported_at") or now
    values["action"] = ""  # a new record
    sub = parse_row(SheetRow(number=0, values={}), _headers(settings), settings, fields=values)
    if sub.kind is None and not form.get("kind"):
        sub.errors.append("Не заповнено: тип (аварійна ситуація чи планові роботи)")
    with engine.begin() as conn:
        lock_for_sync(conn)  # the next number is taken under the same lock a sync takes
        state = load_state(conn)
        decision = decide(sub, "", None, State(records=state.records, next_number=state.next_number), settings, now)
        if decision.status != "accepted":
            raise Refused(list(decision.errors))
        _not_twice(conn, sub)
        the_plan = Plan(source="phone", decisions=[decision], rules=settings.rules)
        said = the_plan.verdict(decision)
        number = decision.record
        assert number is not None
        apply(conn, the_plan, now, settings, sheet=False)
        conn.execute(update(records).where(records.c.number == number).values(source="phone", caller=caller))
        audit.write(conn, at=now, actor=actor, action="record_new", object=audit.record_object(number),
                    after=_public_fields(conn, number) | {"caller": caller, "verdict": said})
    return Done(number, said)


def correct(engine: Engine, number: int, form: Mapping[str, str], reason: str, *, actor: str, settings: Settings,
            now: datetime) -> Done:
    """Change any of the record's fields given in `form` (absent fields stay). Officials already told get one
    «ВИПРАВЛЕНО» mail naming old → new; pages, feeds, CAP and the channel post follow."""
    reason = _reason(reason)
    given = {name: form[name] for name in CORRECTABLE if name in form}
    with engine.begin() as conn:
        lock_for_sync(conn)
        current = _open_record(conn, number, "виправити")
        new = _parsed(given, current, settings, now)
        changed = {name: [_json(current[name]), _json(value)] for name, value in new.items() if current[name] != value}
        if not changed:
            raise Refused(["Нічого не змінено: значення збігаються з записом"])
        kind = Kind(new.get("kind", current["kind"]))
        event_at = new.get("event_at", current["event_at"])
        deadline = rules.deadline(kind, current["first_recorded_at"], event_at, settings.rules)
        values = dict(new, deadline_met=deadline.met, delay_minutes=deadline.delay_minutes,
                      lead_hours=deadline.lead_hours, revision=current["revision"] + 1, last_changed_at=now)
        if current["deadline_met"] != deadline.met:
            changed["deadline_met"] = [current["deadline_met"], deadline.met]
        conn.execute(update(records).where(records.c.number == number).values(**values))
        if "districts" in new:
            index_districts(conn, {number: new["districts"]})
        if "addresses" in new:
            address_index.write(conn, {number: parse_addresses(new["addresses"], settings.streets)})
        emit(conn, [NewEvent(number, "corrected", now, values["revision"], {"changed": changed, "reason": reason})],
             now, settings)
        audit.write(conn, at=now, actor=actor, action="record_correct", object=audit.record_object(number),
                    reason=reason, before={k: v[0] for k, v in changed.items()},
                    after={k: v[1] for k, v in changed.items()})
    return Done(number, ", ".join(FORM_FIELD_UK.get(name, name) for name in changed if name != "deadline_met"))


def cancel(engine: Engine, number: int, reason: str, *, actor: str, settings: Settings, now: datetime) -> Done:
    """A false alarm: cancelled everywhere, and everyone told of it gets exactly one «СКАСОВАНО» message."""
    reason = _reason(reason)
    with engine.begin() as conn:
        lock_for_sync(conn)
        current = _open_record(conn, number, "скасувати")
        revision = current["revision"] + 1
        conn.execute(update(records).where(records.c.number == number).values(
            status="cancelled", status_reason=reason, revision=revision, last_changed_at=now))
        emit(conn, [NewEvent(number, "cancelled", now, revision,
                             {"reason": reason, "changed": {"status": [current["status"], "cancelled"]}})],
             now, settings)
        audit.write(conn, at=now, actor=actor, action="record_cancel", object=audit.record_object(number),
                    reason=reason, before={"status": current["status"]}, after={"status": "cancelled"})
    return Done(number, "скасовано")


def resolve(engine: Engine, number: int, reason: str, resolved_at: str | datetime | None, *, actor: str,
            settings: Settings, now: datetime) -> Done:
    """The utility reported the end by phone: resolved as a form's «Ліквідовано» row would, with the operator's
    words as the update's text."""
    reason = _reason(reason)
    at = _resolved_at(resolved_at, settings) if resolved_at else now
    with engine.begin() as conn:
        lock_for_sync(conn)
        current = _open_record(conn, number, "завершити")
        errors = []
        skew = timedelta(minutes=settings.rules.clock_skew_minutes)
        if between(now, at) > skew:
            errors.append(f"Час завершення ({typed_time(at, settings.tz)}) пізніший за поточний час: вкажіть, коли"
                          " роботи справді завершено")
        if at < current["event_at"]:
            errors.append(f"Час завершення ({typed_time(at, settings.tz)}) раніший за час настання події"
                          f" ({typed_time(current['event_at'], settings.tz)})")
        if errors:
            raise Refused(errors)
        revision = current["revision"] + 1
        conn.execute(update(records).where(records.c.number == number).values(
            status="resolved", resolved_at=at, status_reason=reason, revision=revision, last_changed_at=at))
        emit(conn, [NewEvent(number, "resolved", at, revision,
                             {"text": reason, "source": "console",
                              "changed": {"status": [current["status"], "resolved"]}})], now, settings)
        audit.write(conn, at=now, actor=actor, action="record_resolve", object=audit.record_object(number),
                    reason=reason, before={"status": current["status"]},
                    after={"status": "resolved", "resolved_at": _json(at)})
    return Done(number, "завершено")


def relay_by_phone(engine: Engine, number: int, recipient: str, who: str, *, actor: str, now: datetime) -> Done:
    """An official confirmed by phone that they relayed the record (7.6–7.7): as if they had clicked the link."""
    who = one_line(who)[:CALLER_CHARS]
    if not who:
        raise Refused(["Не заповнено: хто підтвердив передачу (прізвище, посада)"])
    with engine.begin() as conn:
        message = relay.message_for(conn, number, relay.recipient_key(recipient))
        if message is None:
            raise Refused([f"Адресата {one_line(recipient)!r} не просили передати запис №{number}"])
        if relay.confirmation(conn, message.id) is not None:
            raise Refused([f"Передачу запису №{number} адресатом {message.recipient} уже підтверджено"])
        relay.confirm(conn, number, relay.recipient_key(recipient), now, remote_addr="phone",
                      user_agent=f"телефоном: {who}")
        audit.write(conn, at=now, actor=actor, action="relay_by_phone", object=audit.record_object(number),
                    reason=who, after={"recipient": message.recipient, "outbox": message.id})
    return Done(number, f"передачу підтверджено: {message.recipient}")


def resend(engine: Engine, outbox_id: int, *, actor: str, now: datetime) -> Done:
    """Queue a failed message again, as it was rendered. Its give-up window starts again now: a message that
    failed after a day of a dead mail server gets a full window on the next try."""
    with engine.begin() as conn:
        row = conn.execute(select(outbox.c.status, outbox.c.record_number, outbox.c.recipient, outbox.c.channel)
                           .where(outbox.c.id == outbox_id)).first()
        if row is None:
            raise Refused([f"Повідомлення {outbox_id} не знайдено"])
        if row.status != "failed":
            raise Refused([f"Повідомлення {outbox_id} не було відхилене (стан: {row.status}): повторювати нічого"])
        conn.execute(update(outbox).where(outbox.c.id == outbox_id, outbox.c.status == "failed").values(
            status="queued", next_attempt_at=now, created_at=now, failed_at=None, claimed_by=None, claimed_at=None))
        audit.write(conn, at=now, actor=actor, action="message_resend",
                    object=audit.record_object(row.record_number) if row.record_number else f"outbox:{outbox_id}",
                    before={"status": "failed"}, after={"status": "queued", "outbox": outbox_id,
                                                        "channel": row.channel})
    return Done(row.record_number or 0, "повторно поставлено в чергу")


# ---- helpers ----

def _not_twice(conn: Connection, sub) -> None:  # noqa: ANN001
    """A phone report sent twice (a double click, a second operator taking the same call) is refused, naming the
    record the first one made: the same utility, service, event time and summary, still active."""
    same = conn.execute(select(records.c.number).where(
        records.c.source == "phone", records.c.status == "active", records.c.executor == sub.executor,
        records.c.service == sub.service, records.c.event_at == sub.event_at, records.c.summary == sub.summary,
    ).limit(1)).scalar()
    if same is not None:
        raise Refused([f"Такий запис уже внесено: №{same} (той самий виконавець, послуга, час події й опис)"])


def _headers(settings: Settings) -> HeaderMap:
    return settings.built(_header_map)


def _header_map(settings: Settings) -> HeaderMap:
    # The form's own headers: a console entry is read by the sheet's parser, field by field.
    return HeaderMap(tuple(settings.columns[name] for name in FIELDS), settings)


def _reason(reason: str | None) -> str:
    text = clean(reason or "")[:REASON_CHARS]
    if not text:
        raise Refused(["Не заповнено: причина (її побачать мешканці й посадовці)"])
    return text


def _open_record(conn: Connection, number: int, verb: str) -> dict[str, Any]:
    row = conn.execute(select(records).where(records.c.number == number)).first()
    if row is None:
        raise Refused([f"Запис №{number} не знайдено"])
    if row.status == "cancelled":
        raise Refused([f"Запис №{number} уже скасовано: {row.status_reason}"])
    if row.status == "resolved":
        raise Refused([f"Запис №{number} уже завершено (ліквідовано): його не можна {verb}"])
    return row._asdict()


def _parsed(given: Mapping[str, str], current: Mapping[str, Any], settings: Settings,
            now: datetime) -> dict[str, Any]:
    """The given fields read as a form row would be (known districts, services, utilities; day-first times), and
    checked against the record's other fields (time order)."""
    if not given:
        return {}
    values: dict[str, Any] = {name: given[name] for name in given}
    values.update(recorded_at=current["first_recorded_at"], action="")
    sub = parse_row(SheetRow(number=0, values={}), _headers(settings), settings, fields=values)
    errors = list(sub.errors)
    out: dict[str, Any] = {}
    for name in given:
        value = getattr(sub, name)
        if name in sub.invalid:
            continue
        if name in settings.rules.required_fields and value in (None, "", ()):
            errors.append(f"Не заповнено: {FORM_FIELD_UK.get(name, name)}")
            continue
        out[name] = list(value) if name == "districts" else (value.value if name == "kind" else value)
    event_at = out.get("event_at", current["event_at"])
    end = out.get("expected_end", current["expected_end"])
    if end is not None and event_at is not None and end < event_at:
        errors.append(f"Термін ліквідації ({typed_time(end, settings.tz)}) раніший за час настання події"
                      f" ({typed_time(event_at, settings.tz)})")
    kind = out.get("kind", current["kind"])
    if kind == Kind.EMERGENCY.value and event_at is not None and between(current["first_recorded_at"], event_at) > \
            timedelta(minutes=settings.rules.clock_skew_minutes):
        errors.append(f"Час настання аварії ({typed_time(event_at, settings.tz)}) пізніший за час внесення"
                      f" ({typed_time(current['first_recorded_at'], settings.tz)})")
    if errors:
        raise Refused(errors)
    return out


def _resolved_at(value: str | datetime, settings: Settings) -> datetime:
    try:
        return parse_datetime(value, settings.tz)
    except TimeError as exc:
        raise Refused([f"Час завершення: {exc}"]) from None


def _public_fields(conn: Connection, number: int) -> dict[str, Any]:
    row = conn.execute(select(records).where(records.c.number == number)).first()
    return {name: _json(row._mapping[name]) for name in CORRECTABLE}
