"""`--source` dispatch: gsheet:KEY[#WORKSHEET], a published CSV URL (no credentials), a file; the default."""

from __future__ import annotations

import pytest
from conftest import DEMO_CSV
from fake_sheets import KEY

from outages.records.parse import UnusableInput
from sheets.gsheet import GSheetSource
from sheets.published import PublishedCSV
from sheets.sources import FileSource, open_source


def test_specs_pick_their_source(settings):
    assert isinstance(open_source("gsheet:abc#Відповіді", settings), GSheetSource)
    assert open_source("gsheet:abc#Відповіді", settings).label == "gsheet:abc#Відповіді"
    assert isinstance(open_source("https://example.org/pub?output=csv", settings), PublishedCSV)
    assert isinstance(open_source(str(DEMO_CSV), settings), FileSource)


def test_without_a_source_the_error_says_what_to_set(run_cli):
    assert run_cli("init").exit_code == 0
    out = run_cli("sync")
    assert out.exit_code != 0
    assert "Джерело не задано" in out.output and "OUTAGES_SHEETS_KEY" in out.output


@pytest.mark.clock
def test_the_published_csv_needs_no_credentials(live, run_cli, monkeypatch):
    monkeypatch.delenv("OUTAGES_GOOGLE_CREDENTIALS")
    url = f"{live.fake.base_url}/published/{KEY}.csv"
    monkeypatch.setenv("OUTAGES_SOURCE", url)
    out = run_cli("sync")
    assert out.exit_code == 0, out.output
    assert "нових (new) 17" in out.output and "ліквідовано (resolved) 4" in out.output
    assert "відхилено (rejected) 9" in out.output
    again = run_cli("sync", "--source", url)
    assert "без змін (unchanged) 34" in again.output
    assert live.fake.header(KEY)[-1] == "Адреса електронної пошти"  # read only: nothing written back
    assert live.fake.calls(live.email) == []


@pytest.mark.clock
def test_the_published_csv_is_retried_and_explains_a_wrong_link(live, run_cli):
    live.fake.fail("published", 503, times=2)
    out = run_cli("check", f"{live.fake.base_url}/published/{KEY}.csv")
    assert out.exit_code == 0 and "прийнято (accepted): 25" in out.output
    page = run_cli("check", f"{live.fake.base_url}/published/{KEY}.html")
    assert page.exit_code != 0 and "веб-сторінка, а не CSV" in page.output
    gone = run_cli("check", f"{live.fake.base_url}/published/nope.csv")
    assert gone.exit_code != 0 and "HTTP 404" in gone.output and "Опублікувати в інтернеті" in gone.output


def test_a_gsheet_spec_without_a_key_is_refused(settings):
    try:
        open_source("gsheet:", settings)
    except UnusableInput as exc:
        assert "OUTAGES_SHEETS_KEY" in str(exc)
    else:
        raise AssertionError("no error")
