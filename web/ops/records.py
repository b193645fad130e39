"""`/ops/records/new` (a phone report, 7.8), `/ops/records/<n>` (a record's whole story with its actions) and
`POST /ops/outbox/<id>/resend`. Every action goes through outages/console/actions.py, which audits it with the
signed-in person as its actor; a refused action shows its reasons beside the form (422) and changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from outages.console import actions
from outages.console.story import story
from outages.records.model import Kind
from web import hub
from web.ops.access import page

bp = Blueprint("records", __name__)

FIELD_CHARS = 5000  # a form field longer than this is not a report: cut before it reaches the parser
KIND_UK = {Kind.EMERGENCY.value: "Аварійна ситуація", Kind.PLANNED.value: "Планові роботи"}


@bp.get("/records/new", endpoint="new")
def new() -> Any:
    h = hub()
    return _new_page({"kind": "emergency", "reported_at": _local(h.now())})


@bp.post("/records/new", endpoint="enter")
def enter() -> Any:
    h = hub()
    form = _form(actions.PHONE_FIELDS)
    try:
        done = actions.enter(h.engine, form, actor=current_user.email, settings=h.settings, now=h.now())
    except actions.Refused as refused:
        return _new_page(form, refused.errors, 422)
    return redirect(url_for("ops.records.show", number=done.number, said=done.said), code=303)


@bp.get("/records/<int:number>", endpoint="show")
def show(number: int) -> Any:
    return _record_page(number)


@bp.post("/records/<int:number>/correct", endpoint="correct")
def correct(number: int) -> Any:
    h = hub()
    given = {name: value for name, value in _form(actions.CORRECTABLE).items() if name in request.form}
    return _act(number, "correct", lambda: actions.correct(
        h.engine, number, given, request.form.get("reason", ""), actor=current_user.email, settings=h.settings,
        now=h.now()))


@bp.post("/records/<int:number>/cancel", endpoint="cancel")
def cancel(number: int) -> Any:
    h = hub()
    return _act(number, "cancel", lambda: actions.cancel(
        h.engine, number, request.form.get("reason", ""), actor=current_user.email, settings=h.settings,
        now=h.now()))


@bp.post("/records/<int:number>/resolve", endpoint="resolve")
def resolve(number: int) -> Any:
    h = hub()
    return _act(number, "resolve", lambda: actions.resolve(
        h.engine, number, request.form.get("reason", ""), _cut(request.form.get("resolved_at", "")),
        actor=current_user.email, settings=h.settings, now=h.now()))


@bp.post("/records/<int:number>/relay", endpoint="relay")
def relay(number: int) -> Any:
    h = hub()
    return _act(number, "relay", lambda: actions.relay_by_phone(
        h.engine, number, _cut(request.form.get("recipient", "")), _cut(request.form.get("who", "")),
        actor=current_user.email, now=h.now()))


@bp.post("/outbox/<int:outbox_id>/resend", endpoint="resend")
def resend(outbox_id: int) -> Any:
    h = hub()
    try:
        done = actions.resend(h.engine, outbox_id, actor=current_user.email, now=h.now())
    except actions.Refused as refused:
        return page("problem.html", 422, title="Не надіслано повторно", message="; ".join(refused.errors))
    if done.number:
        return redirect(url_for("ops.records.show", number=done.number, said=f"повідомлення {outbox_id}: "
                                + done.said, _anchor="messages"), code=303)
    return redirect(url_for("ops.today.index", said=f"повідомлення {outbox_id}: {done.said}"), code=303)


# ---- pages ----

def _act(number: int, form: str, run) -> Any:  # noqa: ANN001
    try:
        done = run()
    except actions.Refused as refused:
        return _record_page(number, form=form, errors=refused.errors, values=dict(request.form), status=422)
    return redirect(url_for("ops.records.show", number=number, said=done.said), code=303)


def _record_page(number: int, *, form: str = "", errors: list[str] | None = None,
                 values: Mapping[str, str] | None = None, status: int = 200) -> Any:
    h = hub()
    now = h.now()
    with h.engine.connect() as conn:
        found = story(conn, number, now, h.settings)
    if found is None:
        abort(404)
    record = found.record
    current = {
        "kind": record.kind.value, "executor": record.executor, "service": record.service,
        "districts": ", ".join(record.districts), "addresses": record.addresses, "summary": record.summary,
        "cause": record.cause, "impact": record.impact, "event_at": _local(record.event_at),
        "expected_end": _local(record.expected_end),
    }
    return page("record.html", status, title=f"Запис №{number}", story=found, r=record, current=current,
                form=form, errors=errors or [], values=values or {}, said=request.args.get("said", "")[:300],
                kinds=KIND_UK, choices=_choices(), now_local=_local(now), open=record.status == "active")


def _new_page(values: Mapping[str, str], errors: list[str] | None = None, status: int = 200) -> Any:
    return page("record_new.html", status, title="Новий запис за телефонним дзвінком", values=values,
                errors=errors or [], kinds=KIND_UK, choices=_choices())


def _choices() -> dict[str, list[str]]:
    """The city's own names, offered as suggestions (datalist) so a typed value matches the directories."""
    settings = hub().settings
    return {"districts": [d.name for d in settings.districts.entries],
            "services": [s.name for s in settings.services.entries],
            "executors": [u.name for u in settings.utilities.entries] if settings.utilities else []}


def _form(names: tuple[str, ...]) -> dict[str, str]:
    return {name: _cut(request.form.get(name, "")) for name in names}


def _cut(value: str) -> str:
    return value[:FIELD_CHARS]


def _local(moment: datetime | None) -> str:
    """The value of an <input type="datetime-local"> in the city's time."""
    if moment is None:
        return ""
    return moment.astimezone(hub().settings.tz).strftime("%Y-%m-%dT%H:%M")
