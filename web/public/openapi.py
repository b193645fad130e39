"""The OpenAPI 3.1 document of the JSON API, served at /api/openapi.json.

Schemas are closed (`additionalProperties: false`): a field that is not described here, such as a dispatcher's
contact, makes the tests' validation of real responses fail.
"""

from __future__ import annotations

import copy
from typing import Any

from outages.records.model import RECORD_KINDS

_INSTANT = {
    "type": "string", "format": "date-time",
    # Always in the city's zone, with its offset (never "Z").
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$",
}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _filter_params() -> list[dict[str, Any]]:
    return [
        {"name": "district", "in": "query", "schema": {"type": "string"}, "example": "Центральний",
         "description": "District name or alias; several comma-separated or repeated. Unknown names are ignored."},
        {"name": "service", "in": "query", "schema": {"type": "string"}, "example": "Водопостачання",
         "description": "Service name or alias; several comma-separated or repeated. Unknown names are ignored."},
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}, "example": "Соборна 12",
         "description": "An address: a street alone (every record on it) or a street and a house (only records "
                        "covering that house or the whole street). Case, apostrophes, street types, Russian "
                        "spellings, former names and small typos do not matter."},
    ]


_CHANGE_VALUE = {"anyOf": [
    {"type": "string"}, {"type": "boolean"}, {"type": "null"},
    {"type": "array", "items": {"type": "string"}},
]}

_OUTAGE_REQUIRED = [
    "number", "kind", "status", "state", "overdue", "executor", "service", "districts", "addresses", "summary", "cause",
    "impact", "event_at", "expected_end", "recorded_at", "updated_at", "resolved_at", "deadline", "revision", "url",
    "api_url", "source", "status_reason",
]

_OUTAGE_PROPERTIES: dict[str, Any] = {
    "number": {"type": "integer", "minimum": 1, "description": "The record number (№)."},
    "kind": {"type": "string", "enum": ["emergency", "planned"]},
    "status": {"type": "string", "enum": ["active", "resolved", "cancelled"]},
    "source": {"type": "string", "enum": ["form", "phone"],
               "description": "Where the record came from: a row of the utilities' form, or a phone report entered "
                              "by the contact centre (regulation 7.8)."},
    "status_reason": {"type": "string", "description": "The contact centre's reason for a cancellation (a false "
                                                       "alarm) or a resolution it entered; empty otherwise."},
    "state": {"type": "string", "enum": ["active", "overdue", "ended", "resolved", "cancelled"],
              "description": "The record's one computed state at the time of the answer: active; overdue (an "
                             "emergency past its term with no update); ended (planned works past their stated "
                             "end); resolved; cancelled (a false alarm)."},
    "overdue": {"type": "boolean", "description": "An emergency, active, and the expected end has passed with no "
                                                  "update (state overdue)."},
    "executor": {"type": "string", "description": "The utility responsible."},
    "service": {"type": "string"},
    "districts": {"type": "array", "items": {"type": "string"}},
    "addresses": {"type": "string"},
    "summary": {"type": "string"},
    "cause": {"type": "string"},
    "impact": {"type": "string", "description": "Consequences for residents."},
    "event_at": {"$ref": "#/components/schemas/Instant",
                 "description": "When the emergency happened / when the works start."},
    "expected_end": _nullable({"$ref": "#/components/schemas/Instant"}),
    "recorded_at": {"$ref": "#/components/schemas/Instant", "description": "When the utility first reported it."},
    "updated_at": {"$ref": "#/components/schemas/Instant"},
    "resolved_at": _nullable({"$ref": "#/components/schemas/Instant"}),
    "deadline": {"$ref": "#/components/schemas/Deadline"},
    "revision": {"type": "integer", "minimum": 1},
    "url": {"type": "string", "format": "uri", "description": "The record's public page."},
    "api_url": {"type": "string", "format": "uri"},
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Outage hub API",
        "version": "1.0.0",
        "summary": "Emergencies and planned works on municipal services of the city.",
        "description": (
            "Read-only open data: every emergency and planned works record with its timeliness and history. "
            "Times are in the city's zone (Europe/Kyiv by default) with their UTC offset. Texts are in Ukrainian, "
            "as the utilities wrote them. No personal data of dispatchers is ever published."
        ),
        "license": {"name": "MIT", "identifier": "MIT"},
    },
    "servers": [{"url": "/"}],
    "paths": {
        "/api/v1/outages": {
            "get": {
                "operationId": "listOutages",
                "summary": "Records matching the filters, newest record number first",
                "parameters": [
                    *_filter_params(),
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["active", "resolved",
                                                                                             "all"],
                                                                  "default": "all"}},
                    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["emergency", "planned"]}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                ],
                "responses": {
                    "200": {"description": "A page of records",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OutageList"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                },
            },
        },
        "/api/v1/outages/{number}": {
            "get": {
                "operationId": "getOutage",
                "summary": "One record with its public history",
                "parameters": [{"name": "number", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1}}],
                "responses": {
                    "200": {"description": "The record",
                            "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/OutageDetail"}}}},
                    "404": {"description": "No such record",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            },
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "getOpenAPI",
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1 document",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            },
        },
    },
    "components": {
        "responses": {
            "BadRequest": {"description": "A parameter has a value it cannot have",
                           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        },
        "schemas": {
            "Instant": _INSTANT,
            "AddressItem": {
                "type": "object", "additionalProperties": False,
                "required": ["street", "known", "whole", "houses"],
                "properties": {
                    "street": {"type": "string", "description": "As the city's street list names it, or as typed."},
                    "known": {"type": "boolean", "description": "Whether the city's street list has it."},
                    "whole": {"type": "boolean", "description": "No houses named: the whole street."},
                    "houses": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False, "required": ["lo", "hi", "parity", "suffix"],
                        "properties": {
                            "lo": {"type": "integer"},
                            "hi": {"type": ["integer", "null"], "description": "null: to the end of the street"},
                            "parity": {"type": ["string", "null"], "enum": ["odd", "even", None]},
                            "suffix": {"type": "string", "description": "Of a single house: «а», «/1», «к2»."},
                        },
                    }},
                },
            },
            "Deadline": {
                "type": "object", "additionalProperties": False,
                "description": "Timeliness (regulation 7.2, 7.3): an emergency is recorded ≤ 30 min after the event "
                               "(delay_minutes), planned works ≥ 72 h before they start (lead_hours).",
                "required": ["met", "delay_minutes", "lead_hours"],
                "properties": {
                    "met": {"type": "boolean"},
                    "delay_minutes": {"type": ["number", "null"]},
                    "lead_hours": {"type": ["number", "null"]},
                },
            },
            "Outage": {"type": "object", "additionalProperties": False, "required": _OUTAGE_REQUIRED,
                       "properties": _OUTAGE_PROPERTIES},
            "Change": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "kind", "at", "revision", "changed", "cap_url"],
                "properties": {
                    "id": {"type": "integer"},
                    "kind": {"type": "string", "enum": list(RECORD_KINDS)},
                    "at": {"$ref": "#/components/schemas/Instant"},
                    "revision": {"type": "integer", "minimum": 1},
                    "changed": {
                        "type": "object",
                        "propertyNames": {"enum": ["executor", "service", "districts", "addresses", "summary",
                                                   "cause", "impact", "event_at", "expected_end", "kind", "status",
                                                   "deadline_met"]},
                        "additionalProperties": {
                            "type": "object", "additionalProperties": False, "required": ["old", "new"],
                            "properties": {"old": _CHANGE_VALUE, "new": _CHANGE_VALUE},
                        },
                    },
                    "cap_url": {"type": "string", "format": "uri",
                                "description": "The CAP 1.2 message announcing this change."},
                },
            },
            "OutageDetail": {
                "type": "object", "additionalProperties": False, "required": [*_OUTAGE_REQUIRED, "history"],
                "properties": _OUTAGE_PROPERTIES | {
                    "history": {"type": "array", "items": {"$ref": "#/components/schemas/Change"},
                                "description": "Public changes, oldest first (breaches are in `deadline`)."},
                    "parsed_addresses": {"type": "array", "items": {"$ref": "#/components/schemas/AddressItem"},
                                         "description": "`addresses` as the hub read it: streets and houses."},
                },
            },
            "OutageList": {
                "type": "object", "additionalProperties": False,
                "required": ["outages", "total", "count", "limit", "offset", "filters", "updated_at", "links"],
                "properties": {
                    "outages": {"type": "array", "items": {"$ref": "#/components/schemas/Outage"}},
                    "total": {"type": "integer", "minimum": 0},
                    "count": {"type": "integer", "minimum": 0},
                    "limit": {"type": "integer", "minimum": 1},
                    "offset": {"type": "integer", "minimum": 0},
                    "filters": {
                        "type": "object", "additionalProperties": False,
                        "required": ["district", "service", "q", "status", "kind"],
                        "properties": {
                            "district": {"type": "array", "items": {"type": "string"}},
                            "service": {"type": "array", "items": {"type": "string"}},
                            "q": {"type": "string"},
                            "status": {"type": "string", "enum": ["active", "resolved", "cancelled", "all"]},
                            "kind": {"type": ["string", "null"], "enum": ["emergency", "planned", None]},
                        },
                    },
                    "updated_at": _nullable({"$ref": "#/components/schemas/Instant"}),
                    "links": {
                        "type": "object", "additionalProperties": False, "required": ["self", "next"],
                        "properties": {"self": {"type": "string", "format": "uri"},
                                       "next": {"type": ["string", "null"], "format": "uri"}},
                    },
                },
            },
            "Error": {
                "type": "object", "additionalProperties": False, "required": ["error"],
                "properties": {"error": {
                    "type": "object", "additionalProperties": False, "required": ["status", "message", "message_en"],
                    "properties": {"status": {"type": "integer"}, "message": {"type": "string"},
                                   "message_en": {"type": "string"}},
                }},
            },
        },
    },
}


def document() -> dict[str, Any]:
    """A copy: callers may not change the served document."""
    return copy.deepcopy(_DOCUMENT)
