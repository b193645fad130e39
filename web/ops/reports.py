"""`/ops/reports`: residents' reports as the contact centre moderates them (issue 20, seed 002) — the queue
(outages/console/report_queue.py), one report with its audit story, and `POST /ops/reports/<id>/moderate`, which
runs outages/reports/moderate.py in one transaction with the signed-in person as the actor. A refused action shows
the page again with the reason (400) and changes nothing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from outages.console import report_queue as queue
from outages.reports.moderate import ACTIONS, NotAllowed, moderate
from web import hub
from web.ops.access import page

bp = Blueprint("reports", __name__)

NOTE_CHARS = 2000  # an explanation is a paragraph; a longer field is cut before it reaches the core
PART_UK = {"pending": "Чекають модерації", "open": "Передано виконавцю, ще не взято в роботу",
           "closed": "Нещодавно закриті й відхилені"}
DONE_UK = {"accept": "взято до розгляду й передано виконавцю", "reject": "відхилено, не публікується",
           "explain": "закрито з роз'ясненням", "done": "закрито: «Роботу виконано»"}


@bp.get("/reports", endpoint="index")
def index() -> Any:
    h = hub()
    now = h.now()
    name = request.args.get("part", "")
    number = _number(request.args.get("record", ""))
    page_no = _number(request.args.get("page", "")) or 1
    offset = (page_no - 1) * queue.LIMIT
    with h.engine.connect() as conn:
        if number is not None:
            parts = [queue.of_record(conn, h.settings, number, offset=offset)]
        elif name in queue.PARTS:
            parts = [queue.part(conn, h.settings, name, now, offset=offset)]
        else:
            parts = [queue.part(conn, h.settings, p, now) for p in queue.PARTS]
    titles = dict(PART_UK, record=f"Повідомлення, що стежать за записом №{number}")
    single = number is not None or name in queue.PARTS
    return page("reports.html", title="Повідомлення мешканців", parts=parts, titles=titles, now=now,
                single=single, page_no=page_no, paging={"record": number} if number is not None else {"part": name},
                limit=queue.LIMIT, take=lambda r: queue.take_words(r, now, h.settings.tz))


@bp.get("/reports/<int:report_id>", endpoint="show")
def show(report_id: int) -> Any:
    return _report_page(report_id)


@bp.post("/reports/<int:report_id>/moderate", endpoint="moderate")
def moderate_view(report_id: int) -> Any:
    h = hub()
    action = request.form.get("action", "")[:20]
    note = request.form.get("note", "")[:NOTE_CHARS]
    record_text = request.form.get("record", "").strip().lstrip("№")[:20]
    record = _number(record_text)
    values = {"action": action, "note": note, "record": record_text}
    if record_text and record is None:
        return _report_page(report_id, error=f"Номер запису «{record_text}» — не число.", values=values, status=400)
    try:
        with h.engine.begin() as conn:
            done = moderate(conn, h.settings, report_id, action, actor=current_user.email, now=h.now(), note=note,
                            record=record)
    except NotAllowed as refused:
        return _report_page(report_id, error=str(refused), values=values, status=400)
    said = DONE_UK.get(action) or f"додано до запису №{done.record_number}"
    return redirect(url_for("ops.reports.show", report_id=report_id, said=f"№{report_id} {said}"), code=303)


def _report_page(report_id: int, *, error: str = "", values: dict[str, str] | None = None, status: int = 200) -> Any:
    h = hub()
    now = h.now()
    with h.engine.connect() as conn:
        item = queue.one(conn, h.settings, report_id, now)
        entries = queue.story(conn, report_id) if item is not None else []
    if item is None:
        abort(404)
    return page("reports_one.html", status, title=f"Повідомлення №{report_id}", item=item, r=item.report,
                entries=entries, error=error, values=values or {}, actions=ACTIONS, now=now,
                said=request.args.get("said", "")[:300], take=lambda r: queue.take_words(r, now, h.settings.tz))


def _number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and 0 < len(text) < 10 and int(text) > 0 else None
