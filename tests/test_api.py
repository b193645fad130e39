"""The JSON API, checked against the OpenAPI document it serves: every real response must validate."""

from __future__ import annotations

import pytest
from conftest import DEMO_NOW
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

NOW = DEMO_NOW
DOC = "urn:outages-openapi"


@pytest.fixture
def client(demo_client):
    return demo_client


@pytest.fixture
def openapi(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    validate_spec(doc)  # a valid OpenAPI 3.1 document, by the reference validator
    return doc


def check(openapi, client, url: str, template: str, status: int = 200):
    """GET url; assert the status and that the body validates against the document's schema for it."""
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    answer = openapi["paths"][template]["get"]["responses"][str(status)]
    if "$ref" in answer:
        answer = openapi["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = answer["content"]["application/json"]["schema"]
    registry = Registry().with_resource(DOC, Resource.from_contents(openapi, default_specification=DRAFT202012))
    # A "#/components/…" reference is resolved inside the registered document.
    validator = Draft202012Validator({"$ref": DOC + schema["$ref"]} if "$ref" in schema else schema,
                                     registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
    body = response.get_json()
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return body


def test_list_validates_and_holds_every_record(openapi, client) -> None:
    body = check(openapi, client, "/api/v1/outages", "/api/v1/outages")
    assert body["total"] == 17 and body["count"] == 17
    assert [o["number"] for o in body["outages"]] == list(range(17, 0, -1))
    assert body["updated_at"] == "2026-11-22T22:05:00+02:00"
    first = body["outages"][-1]
    assert first["url"] == "http://localhost/outages/1"
    assert first["event_at"] == "2026-11-23T09:00:00+02:00"
    assert first["deadline"] == {"met": True, "delay_minutes": None, "lead_hours": 120.79}


@pytest.mark.parametrize("query, numbers", [
    ("status=active", {1, 2, 3, 5, 8, 9, 10, 12, 13, 14, 15, 16, 17}),
    ("status=resolved", {4, 6, 7, 11}),
    ("status=resolved&kind=emergency&district=Заводський", {7, 11}),
    ("kind=planned&service=Електропостачання", {2, 14, 17}),
    ("q=Соборна&status=active", {1, 5, 13}),
    ("district=Корабельний,Інгульський&kind=emergency", {4, 6, 8, 12}),
])
def test_filters(openapi, client, query, numbers) -> None:
    body = check(openapi, client, f"/api/v1/outages?{query}", "/api/v1/outages")
    assert {o["number"] for o in body["outages"]} == numbers
    assert body["total"] == len(numbers)


def test_paging_follows_next_links_to_the_end(openapi, client) -> None:
    seen, url, pages = [], "/api/v1/outages?limit=5&status=all", 0
    while url:
        body = check(openapi, client, url.removeprefix("http://localhost"), "/api/v1/outages")
        seen += [o["number"] for o in body["outages"]]
        url, pages = body["links"]["next"], pages + 1
    assert pages == 4
    assert seen == list(range(17, 0, -1))


def test_one_record_with_its_history(openapi, client) -> None:
    body = check(openapi, client, "/api/v1/outages/4", "/api/v1/outages/{number}")
    assert body["status"] == "resolved" and body["resolved_at"] == "2026-11-21T18:45:00+02:00"
    assert [h["kind"] for h in body["history"]] == ["created", "updated", "resolved"]
    assert body["history"][1]["changed"] == {"expected_end": {"old": "2026-11-21T15:00:00+02:00",
                                                              "new": "2026-11-21T19:00:00+02:00"}}
    for change in body["history"]:
        assert client.get(change["cap_url"].removeprefix("http://localhost")).status_code == 200
    # Record 5 was late: its breach is in `deadline`, not a public change.
    late = check(openapi, client, "/api/v1/outages/5", "/api/v1/outages/{number}")
    assert late["deadline"]["met"] is False
    assert [h["kind"] for h in late["history"]] == ["created"]


@pytest.mark.parametrize("url", ["/api/v1/outages/999", "/api/v1/outages/abc", "/api/v1/outages/0x1"])
def test_unknown_record_is_a_json_404(openapi, client, url) -> None:
    body = check(openapi, client, url, "/api/v1/outages/{number}", 404)
    assert body["error"]["message"].startswith("Запису №")


@pytest.mark.parametrize("query, word", [
    ("status=open", "status"), ("kind=drill", "kind"), ("limit=0", "limit"), ("limit=5000", "limit"),
    ("offset=-1", "offset"), ("limit=ten", "limit"),
])
def test_bad_parameters_say_what_is_allowed(openapi, client, query, word) -> None:
    body = check(openapi, client, f"/api/v1/outages?{query}", "/api/v1/outages", 400)
    assert body["error"]["message"].startswith(f"Параметр {word}:")
    assert word in body["error"]["message_en"]


def test_no_personal_data_and_open_to_other_sites(client) -> None:
    for url in ["/api/v1/outages", *(f"/api/v1/outages/{n}" for n in range(1, 18))]:
        response = client.get(url)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        text = response.get_data(as_text=True)
        for private in ("Ігор Бондар", "050 111 22 33", "i.bondar@example.org", "Черговий диспетчер",
                        "Вікторія Руденко", "063 222 33 44", "contact", "phone", "email"):
            assert private not in text, (url, private)


def test_any_query_gets_a_documented_answer(openapi, client) -> None:
    """Whatever a bot puts in the query string: 200 with a valid list, or 400 with a valid error; never a 500."""
    from urllib.parse import urlencode

    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st

    words = st.one_of(st.sampled_from(["active", "resolved", "all", "emergency", "planned", "Центральний",
                                       "Ліфти", "5", "0", "-1", "1000", "1001", "", "Соборна"]),
                      st.text(max_size=30))
    params = st.dictionaries(st.sampled_from(["district", "service", "q", "status", "kind", "limit", "offset"]),
                             words, max_size=5)

    @hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(params)
    def run(query: dict[str, str]) -> None:
        url = "/api/v1/outages?" + urlencode(query)
        status = client.get(url).status_code
        assert status in (200, 400), (query, status)
        check(openapi, client, url, "/api/v1/outages", status)

    run()
