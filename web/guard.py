"""Requests the store cannot take, answered with a page that says why instead of a 500 and a traceback.

- A NUL character (U+0000) anywhere in the query or a submitted form: PostgreSQL refuses it in text, so it would
  fail deep inside a write. Refused up front with 400, for every form of the site, present and future.
- The database's disk is full (SQLite's SQLITE_FULL, PostgreSQL's disk_full): 503 with a sentence. The write's
  transaction is rolled back, so what was stored stays whole; the log gets one line for the operator.
"""

from __future__ import annotations

import sqlite3
import sys

from flask import Blueprint, current_app, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import InternalServerError

from outages.db import STORE_FULL, store_full
from web.public.api import error as api_error
from web.public.pages import presenter

bp = Blueprint("guard", __name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(pairs) -> bool:  # noqa: ANN001  (a MultiDict's items)
    return any("\x00" in key or "\x00" in value for key, value in pairs)


@bp.before_app_request
def refuse_nul():  # noqa: ANN201
    # Only a form body is read here: a signed hook's body must reach its view unread (it checks the signature).
    form = request.form.items(multi=True) if request.mimetype in FORM_TYPES else ()
    if _has_nul(request.args.items(multi=True)) or _has_nul(form):
        return _problem(400, "Недопустимий символ у запиті",
                        "Запит містить нульовий символ (U+0000), якого не буває в адресах і тексті. Приберіть його"
                        " і надішліть ще раз.",
                        "The request contains a NUL character (U+0000). Remove it and send again.")
    return None


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(sqlite3.OperationalError)  # a bulk write straight through the driver is not wrapped
def database_trouble(error: Exception):  # noqa: ANN201
    if not store_full(error):
        current_app.log_exception(sys.exc_info())  # as Flask would, with the traceback for the operator
        return InternalServerError(original_exception=error)
    current_app.logger.error("database full: %s", STORE_FULL)
    return _problem(503, "Сервіс тимчасово не може зберегти дані",
                    "Сервіс тимчасово не може зберегти ваш запит: закінчилося місце для даних. Нічого не змінено;"
                    " спробуйте пізніше.",
                    "The service cannot store your request right now: it has run out of room for data. Nothing"
                    " was changed; please try again later.", retry_after=600)


def _problem(status: int, title: str, uk: str, en: str, retry_after: int | None = None):  # noqa: ANN202
    # Each audience in its own form: the API's documented error object, the hook's JSON, a page for people.
    if request.path.startswith("/api/"):
        response = api_error(status, uk, en)
    elif request.blueprint == "hooks":
        response = current_app.make_response((jsonify(ok=False, error=f"{uk} / {en}"), status))
    else:
        response = current_app.make_response((render_template("problem.html", p=presenter(), changed_at=None,
                                                               title=title, uk=uk, en=en), status))
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response
