"""Residents' reports on the site (issue 20): /report (the form and its answer), /report/status/<token>,
/report/confirm/<token>, the public list /reports, and the utility's «Прийнято в роботу» link /reports/take/<token>.
The core is outages/reports/."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__)
