"""The fake Sheets API is held to Google's discovery document for Sheets v4, so it cannot drift from the real
API: every method it serves exists there with the same HTTP method, parameters and body schemas are checked on
each request, and the shapes it answers with are checked against the declared response schemas."""

from __future__ import annotations

import json

import gspread
import requests
from fake_sheets import DISCOVERY_PATH, KEY, SERVED, Discovery
from google.oauth2.credentials import Credentials


def test_the_discovery_document_is_googles_sheets_v4():
    doc = json.loads(DISCOVERY_PATH.read_text(encoding="utf-8"))
    assert (doc["name"], doc["version"], doc["rootUrl"]) == ("sheets", "v4", "https://sheets.googleapis.com/")


def test_every_served_method_is_a_real_one_with_its_http_method():
    discovery = Discovery()
    expected = {"spreadsheets.get": "GET", "spreadsheets.batchUpdate": "POST", "spreadsheets.values.get": "GET",
                "spreadsheets.values.batchGet": "GET", "spreadsheets.values.batchUpdate": "POST"}
    assert set(SERVED) == set(expected)
    for mid, verb in expected.items():
        assert discovery.methods[mid]["httpMethod"] == verb
    # Paths as gspread builds them resolve to those methods.
    assert discovery.match("GET", "/v4/spreadsheets/k1")[0] == "spreadsheets.get"
    assert discovery.match("POST", "/v4/spreadsheets/k1:batchUpdate")[0] == "spreadsheets.batchUpdate"
    assert discovery.match("GET", "/v4/spreadsheets/k1/values/%27S%27%21A1%3AB2") == (
        "spreadsheets.values.get", {"spreadsheetId": "k1", "range": "'S'!A1:B2"})
    assert discovery.match("GET", "/v4/spreadsheets/k1/values:batchGet")[0] == "spreadsheets.values.batchGet"
    assert discovery.match("POST", "/v4/spreadsheets/k1/values:batchUpdate")[0] == "spreadsheets.values.batchUpdate"
    assert discovery.match("DELETE", "/v4/spreadsheets/k1") is None


def test_the_checker_catches_drift():
    discovery = Discovery()
    assert discovery.check_params("spreadsheets.values.get", {"valueRenderOption": ["UNFORMATTED_VALUE"],
                                                               "dateTimeRenderOption": ["SERIAL_NUMBER"]}) == []
    assert discovery.check_params("spreadsheets.values.get", {"valueRenderOptions": ["UNFORMATTED_VALUE"]})
    assert discovery.check_params("spreadsheets.values.get", {"valueRenderOption": ["RAW"]})
    assert discovery.check({"range": "A1", "values": [[1]]}, {"$ref": "ValueRange"}, "r") == []
    assert discovery.check({"range": "A1", "rows": [[1]]}, {"$ref": "ValueRange"}, "r")
    good = {"requests": [{"updateCells": {"start": {"sheetId": 1, "rowIndex": 0, "columnIndex": 0},
                                          "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}],
                                          "fields": "userEnteredValue"}}]}
    assert discovery.check(good, {"$ref": "BatchUpdateSpreadsheetRequest"}, "b") == []
    bad = {"requests": [{"updateCells": {"start": {"sheetId": 1}, "rows": [{"values": [{"value": "x"}]}]}}]}
    assert discovery.check(bad, {"$ref": "BatchUpdateSpreadsheetRequest"}, "b")


def test_an_undeclared_parameter_is_refused_and_recorded(fake):
    token = fake.static_token("t1", "someone")
    fake.add_spreadsheet("k1", [["a"]], shared_with={"someone"})
    answer = requests.get(f"{fake.base_url}/v4/spreadsheets/k1/values/A1", params={"renderOption": "x"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 400
    assert fake.violations == ["spreadsheets.values.get: undeclared query parameter 'renderOption'"]
    fake.violations.clear()


def test_a_dispatcher_client_reads_and_writes_through_batch_get_and_batch_update(live):
    # Another real gspread client (a static token, like a person's session) edits and reads the sheet.
    live.sync()
    token = live.fake.static_token("dispatcher-token", "dispatcher")
    live.fake.books[KEY].shared_with.add("dispatcher")
    client = gspread.Client(auth=Credentials(token=token))
    base = live.fake.base_url  # gspread's helpers hard-code Google's URL: request() takes the fake's
    title = live.fake.sheet(KEY).title
    body = {"valueInputOption": "USER_ENTERED",
            "data": [{"range": f"'{title}'!I2", "values": [["Заміна засувки Ø300 (уточнено)"]]}]}
    answer = client.http_client.request("post", f"{base}/v4/spreadsheets/{KEY}/values:batchUpdate", json=body)
    assert answer.json()["totalUpdatedCells"] == 1
    got = client.http_client.request("get", f"{base}/v4/spreadsheets/{KEY}/values:batchGet",
                                     params={"ranges": [f"'{title}'!I2", f"'{title}'!Q2:R2"],
                                             "valueRenderOption": "UNFORMATTED_VALUE"}).json()
    assert got["valueRanges"][0]["values"] == [["Заміна засувки Ø300 (уточнено)"]]
    assert got["valueRanges"][1]["values"] == [[1, "Прийнято, №1, вчасно (повідомлено за 121 год до початку)"]]
    result, _ = live.sync()
    assert result.counts["updated"] == 1 and live.calls() == ["spreadsheets.values.get"]
