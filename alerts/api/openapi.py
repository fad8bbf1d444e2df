"""The OpenAPI 3.1 document of the API, written by hand as data.

Paths are relative to the server URL `/api`. A test checks the document against the
OpenAPI 3.1 schema, that its routes and the app's are the same, and that answers have the
documented keys; keep this file and `views.py` in step.
"""

from __future__ import annotations

from typing import Any

from alerts.api.errors import ERROR_CODES
from alerts.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from alerts.domain import DeliveryStatus, Importance

VERSION = "1.0.0"


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A closed object whose every property is always present (null when unknown)."""
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_TIME = {"type": "string", "format": "date-time"}
_STRINGS = {"type": "array", "items": _STR}

_SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {
                        **_STR,
                        "description": "Stable machine code.",
                        "examples": list(ERROR_CODES),
                    },
                    "message": {**_STR, "description": "For people; may change."},
                    "field": _nullable("string", description="The query parameter at fault."),
                }
            )
        },
        "Every refusal (4xx, 5xx) has this body.",
    ),
    "Source": _object(
        {
            "name": _STR,
            "title": _STR,
            "kind": {**_STR, "description": "feed, html, json or list"},
            "issuer": {
                **_STR,
                "description": "Who publishes it (US, EU, UK, UN...); may be empty.",
            },
            "url": {**_STR, "description": "Current URL (a permanent redirect replaces it)."},
            "enabled": _BOOL,
            "official": _BOOL,
            "interval_seconds": _INT,
            "last_success_at": _nullable("string", format="date-time"),
            "last_error_at": _nullable("string", format="date-time"),
            "last_error": _nullable("string"),
            "error_streak": {**_INT, "description": "Failed polls in a row."},
            "next_poll_at": _nullable("string", format="date-time"),
            "item_count": _INT,
            "anomalies": {**_STRINGS, "description": "Oddities of its identifiers, newest last."},
        }
    ),
    "Watchlist": _object(
        {
            "name": _STR,
            "description": _STR,
            "importance": {"type": "string", "enum": [i.value for i in Importance]},
            "terms": _STRINGS,
            "queries": _STRINGS,
            "regexes": _STRINGS,
            "entities_count": _INT,
            "exclusions": _STRINGS,
            "urgent": {**_STRINGS, "description": "Entries whose matches are always urgent."},
        }
    ),
    "Match": _object(
        {
            "watchlist": _STR,
            "term": {**_STR, "description": "The watchlist entry as written."},
            "kind": _STR,
            "field": {**_STR, "description": "title, summary, content, source or tag"},
            "matched": {**_STR, "description": "The spelling found when not the entry itself."},
            "snippet": _STR,
            "highlight": {
                "type": ["array", "null"],
                "items": _INT,
                "minItems": 2,
                "maxItems": 2,
                "description": "[start, end) of the hit within the snippet.",
            },
            "score": {"type": "number", "description": "1 exact; below 1 for fuzzy hits."},
        },
        "Why an item matched a watchlist.",
    ),
    "Designation": _object(
        {
            "list": _STR,
            "id": _STR,
            "action": {**_STR, "description": "added, amended or removed"},
            "kind": _STR,
            "name": _STR,
            "aliases": _STRINGS,
            "weak_aliases": _STRINGS,
            "programmes": _STRINGS,
            "changed": _STRINGS,
            "listed": _STR,
        },
        "The sanctions-list change an item was made from.",
    ),
    "Item": _object(
        {
            "id": _INT,
            "feed": _STR,
            "title": _STR,
            "summary": {**_STR, "description": "Plain text, as published."},
            "link": _nullable("string"),
            "canonical_url": _nullable("string"),
            "guid": _nullable("string"),
            "published_at": _nullable("string", format="date-time"),
            "fetched_at": _TIME,
            "authors": _STRINGS,
            "tags": _STRINGS,
            "story_key": _STR,
            "story_reason": _STR,
            "revision": _INT,
            "facets": _object(
                {
                    "values": {"type": "object", "additionalProperties": _STRINGS},
                    "reasons": {"type": "object", "additionalProperties": _STRINGS},
                }
            ),
            "designation": {"oneOf": [_ref("Designation"), {"type": "null"}]},
            "matches": {"type": "array", "items": _ref("Match")},
        }
    ),
    "Attempt": _object(
        {
            "attempt": _INT,
            "started_at": _TIME,
            "latency_ms": _INT,
            "outcome": _STR,
            "status": _nullable("integer", description="HTTP status or SMTP reply code."),
            "error": _nullable("string"),
        }
    ),
    "Delivery": _object(
        {
            "id": _INT,
            "kind": {**_STR, "description": "digest, confirm, test or ops"},
            "subscription": _nullable("string"),
            "channel": _STR,
            "status": {"type": "string", "enum": [s.value for s in DeliveryStatus]},
            "attempts": _INT,
            "last_status": _nullable("integer"),
            "last_error": _nullable("string"),
            "created_at": _TIME,
            "sent_at": _nullable("string", format="date-time"),
            "next_attempt_at": _nullable("string", format="date-time"),
            "entry_count": _INT,
            "attempt_log": {"type": "array", "items": _ref("Attempt")},
        }
    ),
}
for _name in ("Source", "Watchlist"):
    _SCHEMAS[f"{_name}List"] = _object({"data": {"type": "array", "items": _ref(_name)}})
for _name in ("Item", "Delivery"):
    _SCHEMAS[f"{_name}Page"] = _object(
        {
            "data": {"type": "array", "items": _ref(_name)},
            "next_cursor": _nullable("string", description="Pass as `cursor` for the next page."),
        }
    )

_PARAMETERS: dict[str, Any] = {
    "limit": {
        "name": "limit",
        "in": "query",
        "description": f"Page size, 1 to {MAX_LIMIT}.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    "cursor": {
        "name": "cursor",
        "in": "query",
        "description": "The `next_cursor` of the previous page (opaque).",
        "schema": {"type": "string", "maxLength": 40},
    },
    "feed": {
        "name": "feed",
        "in": "query",
        "description": "Only this source's items (an unknown name gives none).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "since": {
        "name": "since",
        "in": "query",
        "description": "Only items fetched at or after this time (with an offset, e.g. Z).",
        "schema": {"type": "string", "format": "date-time"},
    },
    "status": {
        "name": "status",
        "in": "query",
        "schema": {"type": "string", "enum": [s.value for s in DeliveryStatus]},
    },
    "subscription": {
        "name": "subscription",
        "in": "query",
        "description": "Only this subscription's deliveries.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


_RESPONSES: dict[str, Any] = {
    "BadRequest": _error("A bad, unknown or repeated query parameter; `field` names it."),
    "Unauthorized": {
        **_error("No token, or one that is malformed, unknown, expired or revoked."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "Forbidden": _error("The token does not allow `read`."),
    "Unavailable": {
        **_error("The database cannot be reached; try again later."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}


def _list_operation(
    operation_id: str, summary: str, schema: str, parameters: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in parameters],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": _ref(schema)}},
                },
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"},
                "503": {"$ref": "#/components/responses/Unavailable"},
            },
        }
    }


def _document_operation(operation_id: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": "This document (public: no token needed).",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "400": {"$ref": "#/components/responses/BadRequest"},
            },
        }
    }


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Sanctions Alerts API",
        "version": VERSION,
        "description": (
            "Read-only access to sources, watchlists, items with their match explanations "
            "and deliveries. Send an API token (`alerts tokens create`) as "
            "`Authorization: Bearer <token>`. Lists of items and deliveries are newest "
            "first, in pages: pass `next_cursor` back as `cursor` until it is null."
        ),
    },
    "servers": [{"url": "/api"}],
    "security": [{"bearerAuth": []}],
    "paths": {
        "/v1/sources": _list_operation(
            "listSources", "Every source with its health.", "SourceList"
        ),
        "/v1/watchlists": _list_operation(
            "listWatchlists", "Every enabled watchlist.", "WatchlistList"
        ),
        "/v1/items": _list_operation(
            "listItems",
            "Stored items, newest stored first, with their matches.",
            "ItemPage",
            ("feed", "since", "limit", "cursor"),
        ),
        "/v1/deliveries": _list_operation(
            "listDeliveries",
            "Deliveries, newest first, with their attempts.",
            "DeliveryPage",
            ("status", "subscription", "limit", "cursor"),
        ),
        "/v1/openapi.json": _document_operation("openapiV1"),
        "/openapi.json": _document_operation("openapi"),
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API token."}
        },
        "schemas": _SCHEMAS,
        "parameters": _PARAMETERS,
        "responses": _RESPONSES,
    },
}
