"""A third-party GeoReport v2 client against the hub's /open311/v2, over real HTTP on 127.0.0.1.

The client is `georeport` from PyPI (the maintained Python 3 one; `open311` and `three` are Python 2 only and fail
on import). It reads: services, requests with its filters, one request, in JSON and in XML (its own xmltodict
parsing). It cannot create a request (its README says so), so the POST is what any app does, a form POST through
`requests` (the library georeport itself uses); everything read back goes through the client's own methods,
unpatched. One store (SQLite): the wire is the point here; tests/test_open311.py runs the flows on PostgreSQL too.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from georeport import GeoReport
from rows import emergency, resolve, table
from werkzeug.serving import make_server

from outages.records.sync import sync
from outages.reports.moderate import moderate
from outages.reports.store import by_token
from web import create_app

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=KYIV)
EVENING = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)


@pytest.fixture
def hub_server(settings, engine):
    """The app on a loopback port; `clock[0]` is the instant it reads."""
    clock = [NOW]
    app = create_app(settings, engine=engine)
    app.extensions["outages"].clock = lambda: clock[0]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/open311/v2", clock
    server.shutdown()
    thread.join(10)


def post(root: str, **fields) -> list[dict]:
    answer = requests.post(f"{root}/requests.json", data=fields, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_a_civic_client_reads_services_and_follows_a_report_to_done(hub_server, settings, engine, output_format):
    root, clock = hub_server
    client = GeoReport(root, output_format=output_format)
    services = client.get_service_list()
    assert ("water", "Водопостачання") in [(s["service_code"], s["service_name"]) for s in services]

    sync(engine, table(emergency()), settings, NOW)
    sid = post(root, service_code="water", address_string="Соборна 12", description="Немає води",
               first_name="Олена", last_name="Коваль", email="olena@example.org")[0]["service_request_id"]
    shown = client.get_service_request(sid)
    assert (shown["service_request_id"], shown["status"], shown["status_notes"], shown["address"]) == (
        sid, "open", "Повідомлення взято до розгляду: №1", "вул. Соборна, 12")
    assert "Олена" not in str(shown) and "olena@example.org" not in str(shown)

    sync(engine, table(emergency(), resolve(1)), settings, EVENING)
    clock[0] = EVENING
    shown = client.get_service_request(sid)
    assert (shown["status"], shown["status_notes"], shown["updated_datetime"]) == (
        "closed", "Роботу виконано", "2026-11-22T18:00:00+02:00")
    print(f"georeport ({output_format}): {len(services)} services; request {sid} open, then closed «Роботу виконано»")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_civic_client_sees_a_waiting_report_only_once_accepted(hub_server, settings, engine):
    root, clock = hub_server
    client = GeoReport(root)
    token = post(root, service_code="roads", address_string="Соборна 14", description="Яма")[0]["token"]
    assert client.get_service_requests(service_code="roads") == []
    with engine.begin() as conn:
        report_id = by_token(conn, token).id
        moderate(conn, settings, report_id, "accept", actor="operator@example.net", now=NOW + timedelta(minutes=5))
    assert requests.get(f"{root}/tokens/{token}.json", timeout=10).json()[0]["service_request_id"] == str(report_id)
    listed = client.get_service_requests(service_code="roads", status="open",
                                         start_date="2026-11-22T00:00:00+02:00", end_date="2026-11-22T23:59:59+02:00")
    assert [(r["service_request_id"], r["status_notes"]) for r in listed] == [
        (str(report_id), "Повідомлення взято до розгляду")]
    assert client.get_service_requests(status="closed") == []
    print(f"georeport: request {report_id} listed once accepted")
