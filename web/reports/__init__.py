"""Residents' reports on the site (issue 20), one child blueprint per audience, all under the `reports` blueprint:

- resident.py: the resident's door — `/report` (the form and its answer), `/report/status/<token>` (their own
  report), `/report/confirm/<signed>` (their e-mail, confirmed with a button, never by a GET).
- listing.py: what everyone reads — `/reports` (moderated reports only, paged, filtered) and `/reports/<id>`.
- take.py: the utility's «Прийнято в роботу» link from its mail, `/reports/take/<signed>`.
- words.py: the words and links the three share (statuses, service choices, the navigation's links).

The core is outages/reports/. None of these is in web/formats.py's lists: never in the response cache, never in the
static copy. Pages that show a token (a resident's, a utility's) are sent `no-store`.
"""

from __future__ import annotations

from flask import Blueprint

from web.reports import listing, resident, take, words

bp = Blueprint("reports", __name__)
for child in (resident.bp, listing.bp, take.bp):
    bp.register_blueprint(child)
bp.record_once(words.setup)
