"""Open311 GeoReport v2 under /open311/v2 (web/open311/, issue 20), on both stores at a pinned clock.

Every JSON answer is checked against its schema in docs/open311/ (derived from the GeoReport v2 spec), and every
GET is asked again as XML, which must carry the same fields. The flows are the residents': a report the known
records answer (the record made by a real sync, then resolved by the sheet), a report that waits for the contact
centre (a token, then accepted or rejected), and what must never show: a name, an e-mail, a phone, a report
nobody has accepted."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from rows import emergency, resolve, table

from outages import db
from outages.records.sync import sync
from outages.reports.intake import Intake, submit
from outages.reports.moderate import moderate
from outages.reports.store import by_token
from outages.settings import load
from web import create_app
from web.formats import PUBLIC_BLUEPRINTS
from web.publish import _public

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=KYIV)  # within office hours, the record of tests/rows.py live
EVENING = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)  # after the sheet's «Ліквідовано» row of 17:55
SCHEMAS = {path.name.removesuffix(".schema.json"): Draft202012Validator(json.loads(path.read_text("utf-8")))
           for path in (Path(__file__).resolve().parent.parent / "docs" / "open311").glob("*.schema.json")}
REPORTER = {"first_name": "Олена", "last_name": "Коваль", "email": "olena.koval@example.org", "phone": "0671234567"}
PRIVATE = ("Олена", "Коваль", "olena.koval@example.org", "0671234567", "example.org")


class Api:
    """The Open311 door through Flask's test client: each JSON answer validated against its schema, each GET asked
    again as XML and compared, every body kept (to search for contacts)."""

    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.hub = app.extensions["outages"]
        self.bodies: list[str] = []

    def get(self, path: str, schema: str, status: int = 200):
        answer = self.client.get(f"/open311/v2/{path.replace('.FMT', '.json')}")
        data = self._read(answer, schema, status)
        assert answer.headers["Cache-Control"] == "no-cache"
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        xml = self.client.get(f"/open311/v2/{path.replace('.FMT', '.xml')}")
        assert (xml.status_code, xml.mimetype) == (status, "text/xml")
        self.bodies.append(xml.get_data(as_text=True))
        assert xml.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        assert from_xml(xml.data) == plain(data), path
        return data

    def post(self, fmt: str = "json", status: int = 200, **fields):
        answer = self.client.post(f"/open311/v2/requests.{fmt}", data=fields)
        if fmt == "xml":
            assert (answer.status_code, answer.mimetype) == (status, "text/xml")
            self.bodies.append(answer.get_data(as_text=True))
            return from_xml(answer.data)
        return self._read(answer, "service_request_post_response", status)

    def _read(self, answer, schema: str, status: int):
        assert (answer.status_code, answer.mimetype) == (status, "application/json"), answer.get_data(as_text=True)
        self.bodies.append(answer.get_data(as_text=True))
        data = answer.get_json()
        SCHEMAS["errors" if status >= 400 else schema].validate(data)
        return data


def from_xml(body: bytes):
    """An Open311 XML answer as the JSON answer's shape, each value as text."""
    root = etree.fromstring(body)
    if root.tag == "discovery":
        return {child.tag: ([{field.tag: ([f.text for f in field] if field.tag == "formats" else field.text or "")
                              for field in endpoint} for endpoint in child] if child.tag == "endpoints"
                            else child.text or "") for child in root}
    return [{field.tag: field.text or "" for field in item} for item in root]


def plain(data):
    """JSON values as XML writes them: text, booleans as true/false, null as an empty element."""
    if isinstance(data, list):
        return [plain(item) for item in data]
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    if isinstance(data, bool):
        return "true" if data else "false"
    return "" if data is None else data if isinstance(data, str) else str(data)


def api_for(settings, engine, now: datetime = NOW) -> Api:
    app = create_app(settings, engine=engine)
    api = Api(app)
    api.hub.clock = lambda: now
    return api


def at(api: Api, moment: datetime) -> None:
    api.hub.clock = lambda: moment


def no_contacts(api: Api) -> None:
    for body in api.bodies:
        for private in PRIVATE:
            assert private not in body


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_discovery_and_services_list_what_the_city_takes_reports_of(settings, engine):
    api = api_for(settings, engine)
    found = api.get("discovery.FMT", "discovery")
    assert found["endpoints"][0]["url"] == "http://localhost/open311/v2"
    assert found["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert found["key_service"] == "Ключ API не потрібен."
    services = {s["service_code"]: s for s in api.get("services.FMT", "services")}
    assert services["water"] == {"service_code": "water", "service_name": "Водопостачання",
                                 "description": "Водопостачання — КП «Водоканал»", "metadata": False,
                                 "type": "batch", "keywords": "Холодне водопостачання, Вода",
                                 "group": "Комунальні послуги"}
    assert len(services) == 10
    refused = api.get("services/water.FMT", "errors", 404)
    assert "metadata false" in refused[0]["description"]
    assert api.get("services/nothing.FMT", "errors", 404)[0]["description"].startswith("service_code: послуги")
    assert api.client.get("/open311/v2/services.csv").get_json()[0]["code"] == 404
    print(f"{len(services)} services, JSON and XML alike; definitions 404")


def test_a_report_the_known_record_answers_is_open_then_closed_with_the_record(settings, engine):
    sync(engine, table(emergency()), settings, NOW)
    api = api_for(settings, engine)
    taken = api.post(service_code="water", address_string="Соборна 12", description="Немає води з ранку",
                     **REPORTER)
    assert set(taken[0]) == {"service_request_id", "service_notice", "account_id"}
    assert taken[0]["service_notice"].startswith("Про це вже відомо: запис №1, Водопостачання — Порив водогону.")
    sid = taken[0]["service_request_id"]
    shown = api.get(f"requests/{sid}.FMT", "service_requests")
    assert shown == [{
        "service_request_id": sid, "status": "open", "status_notes": "Повідомлення взято до розгляду: №1",
        "service_name": "Водопостачання", "service_code": "water",
        "description": "",  # the resident's own words wait until a person of the contact centre has read them
        "agency_responsible": "КП «Водоканал»", "service_notice": "", "requested_datetime": "2026-11-22T15:00:00+02:00",
        "updated_datetime": "2026-11-22T15:00:00+02:00", "address": "вул. Соборна, 12"}]
    assert [r["service_request_id"] for r in api.get("requests.FMT?status=open", "service_requests")] == [sid]
    with engine.begin() as conn:  # an operator reads it: accepting a report open through its record only checks it
        moderate(conn, settings, int(sid), "accept", actor="olha@contact.example.org", now=NOW)
    checked = api.get(f"requests/{sid}.FMT", "service_requests")[0]
    assert (checked["description"], checked["status_notes"]) == ("Немає води з ранку",
                                                                 "Повідомлення взято до розгляду: №1")

    sync(engine, table(emergency(), resolve(1)), settings, EVENING)  # the utility's «Ліквідовано» row
    at(api, EVENING)
    closed = api.get(f"requests/{sid}.FMT", "service_requests")[0]
    assert (closed["status"], closed["status_notes"]) == ("closed", "Роботу виконано")
    assert closed["updated_datetime"] == "2026-11-22T18:00:00+02:00"
    assert api.get("requests.FMT?status=open", "service_requests") == []
    assert [r["status"] for r in api.get("requests.FMT?status=closed", "service_requests")] == ["closed"]
    no_contacts(api)
    print(f"known record: open «Повідомлення взято до розгляду: №1», then closed «Роботу виконано»; "
          f"{len(api.bodies)} answers without a contact")


def test_a_report_waits_for_the_contact_centre_and_is_public_only_once_accepted(settings, engine):
    api = api_for(settings, engine)
    waiting = api.post("xml", service_code="water", address_string="вул. Соборна, 14",
                       description="Тече вода у підвалі", **REPORTER)
    assert list(waiting[0]) == ["token", "service_notice"]
    assert waiting[0]["service_notice"].startswith("Повідомлення отримано. Контакт-центр перевірить його")
    token = waiting[0]["token"]
    assert api.get(f"tokens/{token}.FMT", "token") == [{"service_request_id": None, "token": token}]
    assert api.get("requests.FMT", "service_requests") == []

    with engine.connect() as conn:
        report_id = _id_of(conn, token)
    api.get(f"requests/{report_id}.FMT", "errors", 404)
    with engine.begin() as conn:
        moderate(conn, settings, report_id, "accept", actor="operator@example.net", now=NOW + timedelta(minutes=5))

    assert api.get(f"tokens/{token}.FMT", "token") == [{"service_request_id": str(report_id), "token": token}]
    listed = api.get("requests.FMT", "service_requests")
    assert [(r["service_request_id"], r["status"], r["status_notes"], r["address"]) for r in listed] == [
        (str(report_id), "open", "Повідомлення взято до розгляду", "вул. Соборна, 14")]
    assert listed[0]["updated_datetime"] == "2026-11-22T15:05:00+02:00"
    assert api.get(f"requests/{report_id}.FMT", "service_requests") == listed
    no_contacts(api)
    print(f"token null until accepted, then id {report_id}; {len(api.bodies)} answers without a contact")


def test_a_rejected_report_is_never_public(settings, engine):
    api = api_for(settings, engine)
    token = api.post(service_code="roads", address_string="Соборна 14", description="Реклама", **REPORTER)[0]["token"]
    with engine.begin() as conn:
        report_id = _id_of(conn, token)
        moderate(conn, settings, report_id, "reject", actor="operator@example.net", now=NOW)
    assert api.get(f"tokens/{token}.FMT", "token") == [{"service_request_id": None, "token": token}]
    assert api.get("requests.FMT", "service_requests") == []
    assert api.get(f"requests.FMT?service_request_id={report_id}", "service_requests") == []
    assert api.get(f"requests/{report_id}.FMT", "errors", 404)[0]["description"].startswith("service_request_id:")
    assert api.get("tokens/unknown-token.FMT", "errors", 404) == [{"code": 404,
                                                                 "description": "token: такого токена немає."}]
    no_contacts(api)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_get_requests_filters(settings, engine):
    # Public reports at known times (contact centre's decisions), one rejected, one older than the 90-day window.
    made = {}
    plan = [("old", "water", NOW - timedelta(days=100), "accept"),
            ("water", "water", NOW - timedelta(days=3), "accept"),
            ("power", "power", NOW - timedelta(days=2), "done"), ("gas", "gas", NOW - timedelta(days=1), "accept"),
            ("hidden", "gas", NOW - timedelta(hours=1), "reject")]
    for name, code, when, action in plan:
        with engine.begin() as conn:
            report = submit(conn, settings, Intake(service_code=code, address="Соборна 14", source="open311"),
                            when).report
            moderate(conn, settings, report.id, action, actor="operator@example.net", now=when)
        made[name] = str(report.id)
    api = api_for(settings, engine)

    def ids(args: str) -> list[str]:
        return sorted(r["service_request_id"] for r in api.get(f"requests.FMT{args}", "service_requests"))

    cases = [
        ("", ["water", "power", "gas"]),  # the last 90 days
        ("?status=open", ["water", "gas"]),
        ("?status=closed", ["power"]),
        ("?status=open,closed", ["water", "power", "gas"]),
        ("?service_code=water,power", ["water", "power"]),
        ("?start_date=2026-11-20T15:00:00%2B02:00", ["power", "gas"]),  # from the second day back, inclusive
        ("?end_date=2026-11-20T15:00:00Z", ["water", "power"]),
        ("?start_date=2026-08-01T00:00:00Z&end_date=2026-08-31T00:00:00Z", ["old"]),
        (f"?service_request_id={made['old']},{made['gas']},{made['hidden']},x", ["old", "gas"]),  # overrides all
        ("?service_request_id=x", []),
        ("?jurisdiction_id=", ["water", "power", "gas"]),
    ]
    for args, expected in cases:
        assert ids(args) == sorted(made[name] for name in expected), args
    refused = [("?start_date=yesterday", "start_date:"), ("?status=pending", "status:"),
               ("?start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z", "end_date:"),
               ("?start_date=2026-11-22T00:00:00Z&end_date=2026-11-01T00:00:00Z", "end_date:")]
    for args, field in refused:
        assert api.get(f"requests.FMT{args}", "errors", 400)[0]["description"].startswith(field), args
    assert api.get("requests.FMT?jurisdiction_id=elsewhere", "errors", 404)[0]["description"].startswith(
        "jurisdiction_id:")
    print(f"{len(cases)} filters answered, {len(refused)} refused with 400")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_what_the_resident_must_fix_is_a_400_naming_the_field(settings, engine):
    api = api_for(settings, engine)
    cases = [
        ({"service_code": "water", "lat": "48.92", "long": "24.71"}, ["address_string: потрібна адреса"]),
        ({"service_code": "", "address_string": ""}, ["service_code: Оберіть послугу", "address_string: Вкажіть"]),
        ({"service_code": "water", "address_string": "Соборна 14", "description": "в" * 4001},
         ["description: Опис задовгий: 4001 символів, можна до 4000."]),
        ({"service_code": "water", "address_string": "Соборна 14", "email": "not an address"}, ["email: Адреса"]),
    ]
    for fields, starts in cases:
        errors = api.post(status=400, **fields)
        assert [e["code"] for e in errors] == [400] * len(starts)
        assert all(e["description"].startswith(s) for e, s in zip(errors, starts)), errors
    xml = api.post("xml", status=400, service_code="water", lat="48.92")
    assert xml[0]["code"] == "400" and xml[0]["description"].startswith("address_string:")
    assert api.post(status=200, service_code="water", address_string="Соборна 14", description="в" * 4000)
    print(f"{len(cases)} refusals, each naming its field")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_too_many_reports_from_one_client_are_a_429_with_retry_after(settings, engine):
    api = api_for(settings, engine)
    for _ in range(10):  # reports.limit_per_hour
        api.post(service_code="water", address_string="Соборна 14")
    answer = api.client.post("/open311/v2/requests.json",
                             data={"service_code": "water", "address_string": "Соборна 14"})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3600"
    SCHEMAS["errors"].validate(answer.get_json())
    assert answer.get_json()[0] == {"code": 429, "description": "Забагато повідомлень з цієї адреси: спробуйте через "
                                                                 "60 хв."}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_api_keys_and_jurisdiction_where_the_city_sets_them(env, tmp_path, monkeypatch):
    config = tmp_path / "city.toml"
    config.write_text('[reports]\nopen311_keys = ["k1"]\nopen311_jurisdiction = "city.example"\n', encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    settings = load()
    engine = db.engine_for(settings)
    db.upgrade(engine)
    api = api_for(settings, engine)
    report = {"service_code": "water", "address_string": "Соборна 14"}
    assert api.post(status=403, **report)[0]["description"].startswith("api_key: немає ключа")
    assert api.post(status=403, api_key="k2", **report)[0]["description"].startswith("api_key: ключ api_key недійсний")
    assert api.post(status=404, api_key="k1", jurisdiction_id="elsewhere", **report)[0]["code"] == 404
    assert "token" in api.post(api_key="k1", **report)[0]
    assert "token" in api.post(api_key="k1", jurisdiction_id="city.example", **report)[0]
    assert api.get("discovery.FMT", "discovery")["key_service"].startswith("Ключ API (api_key) для POST")
    assert len(api.get("services.FMT?jurisdiction_id=city.example", "services")) == 10
    engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_open311_is_never_cached_nor_published(settings, engine):
    app = create_app(settings, engine=engine)
    assert not any(name.startswith("open311") for name in PUBLIC_BLUEPRINTS)
    for path in ("/open311/v2/requests.json", "/open311/v2/services.xml", "/open311/v2/discovery.json"):
        assert not _public(app.url_map, path), path
    answer = app.test_client().get("/open311/v2/services.json")
    assert "ETag" not in answer.headers and answer.headers["Cache-Control"] == "no-cache"


def _id_of(conn, token: str) -> int:
    return by_token(conn, token).id
