"""The OpenAPI 3.1 document of the API, written by hand as data.

Paths are relative to the server URL `/api`. A test checks the document against the
OpenAPI 3.1 schema, that its routes and the app's are the same, and that answers have the
documented keys; keep this file and `views.py` in step.
"""

from __future__ import annotations

from typing import Any

from alerts.api.body import MAX_BODY_BYTES
from alerts.api.errors import ERROR_CODES
from alerts.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from alerts.api.watchlists import DEFAULT_DAYS, MAX_DAYS, MAX_PREVIEW_ITEMS, PREVIEW_NAME
from alerts.domain import DeliveryStatus, EntityKind, Importance

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
                    "field": _nullable(
                        "string", description="The query parameter or body field at fault."
                    ),
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
_ENTRIES = {
    "oneOf": [_STR, {"type": "array", "items": _STR, "minItems": 1}],
    "description": "A non-empty list of strings (one string is taken as a list of one).",
}
_WATCHLIST_FIELDS: dict[str, Any] = {
    "name": {
        "type": "string",
        "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$",
        "description": "Letters, digits, '.', '_' or '-'; at most 80 characters.",
    },
    "description": _STR,
    "importance": {
        "type": "string",
        "enum": [i.value for i in Importance],
        "default": Importance.NORMAL.value,
    },
    "terms": {**_ENTRIES, "description": "Keywords and phrases; `sanction*` is a prefix."},
    "queries": {**_ENTRIES, "description": "Boolean queries (AND, OR, NOT, NEAR, field:)."},
    "regexes": _ENTRIES,
    "entities": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": _STR,
                "kind": {"type": "string", "enum": [k.value for k in EntityKind]},
                "aliases": _STRINGS,
                "weak_aliases": _STRINGS,
                "identifiers": _STRINGS,
                "id": _STR,
            },
            "additionalProperties": False,
        },
    },
    "exclude": {**_ENTRIES, "description": "Queries that drop an item's matches."},
    "urgent": {**_ENTRIES, "description": "Entries (as written above) always urgent."},
}


def _watchlist_input(required: list[str], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": {**_WATCHLIST_FIELDS, **extra},
        "additionalProperties": False,
        "description": description,
    }


_SCHEMAS["WatchlistInput"] = _watchlist_input(
    ["name"], "A watchlist as a [[watchlists]] table of feeds.toml, checked the same way."
)
_SCHEMAS["WatchlistReplacement"] = _watchlist_input(
    [], "As WatchlistInput; `name`, when given, must be the name in the address."
)
_SCHEMAS["PreviewInput"] = _watchlist_input(
    [],
    f"A watchlist to try (`name` defaults to {PREVIEW_NAME!r}; a saved watchlist's name adds "
    "its imported entities and compares with it), and how many days back to look.",
    days={"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": DEFAULT_DAYS},
)
_SCHEMAS["PreviewItem"] = _object(
    {
        "id": _INT,
        "feed": _STR,
        "title": _STR,
        "link": _nullable("string"),
        "fetched_at": _TIME,
        "story_key": _STR,
        "matches": {"type": "array", "items": _ref("Match")},
    }
)
_SCHEMAS["Preview"] = _object(
    {
        "watchlist": _STR,
        "days": _INT,
        "since": _TIME,
        "until": _TIME,
        "scanned": {**_INT, "description": "Items fetched in the window."},
        "matched": {**_INT, "description": "Items the watchlist matches."},
        "alerts": {**_INT, "description": "Stories matched: what subscribers would get."},
        "per_day": {
            "type": "array",
            "description": "Alerts (stories) per UTC day, every day of the window.",
            "items": _object({"date": {"type": "string", "format": "date"}, "alerts": _INT}),
        },
        "items": {
            "type": "array",
            "items": _ref("PreviewItem"),
            "description": f"The matched items, newest first, at most {MAX_PREVIEW_ITEMS}.",
        },
        "saved_exists": {**_BOOL, "description": "Whether a saved watchlist has this name."},
        "added": {
            "type": "array",
            "items": _INT,
            "description": "Ids of items matched now but not by the saved version.",
        },
        "removed": {
            "type": "array",
            "items": _INT,
            "description": "Ids of items the saved version matches and this one does not.",
        },
    },
    "What a watchlist would have matched among recently stored items.",
)
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
    "watchlistName": {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 80},
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
    "Forbidden": _error("The token does not allow the action (`read`, `edit:watchlists`)."),
    "BadBody": _error(
        "The body is not a JSON object, or a field is bad (`field` names it: `terms`, "
        "`queries[1]`, an unknown key...)."
    ),
    "NotFound": _error("No watchlist has this name."),
    "Conflict": _error(
        "`already_exists`: the name is taken; `file_managed`: the config file declares "
        "this watchlist, and the next `alerts sync` or restart would overwrite the change."
    ),
    "TooLarge": _error(f"The body is larger than {MAX_BODY_BYTES} bytes."),
    "Unavailable": {
        **_error("The database cannot be reached; try again later."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
    "Busy": {
        **_error("`busy`: as many previews as the service runs at once are running."),
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


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


def _answer(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _refusals(*statuses: str) -> dict[str, Any]:
    names = {
        "400": "BadBody",
        "401": "Unauthorized",
        "403": "Forbidden",
        "404": "NotFound",
        "409": "Conflict",
        "413": "TooLarge",
        "429": "Busy",
        "503": "Unavailable",
    }
    return {s: {"$ref": f"#/components/responses/{names[s]}"} for s in statuses}


_EDIT = ("400", "401", "403", "404", "409", "413", "503")
_WATCHLISTS = _list_operation("listWatchlists", "Every enabled watchlist.", "WatchlistList")
_WATCHLISTS["post"] = {
    "operationId": "createWatchlist",
    "summary": "Create a watchlist (needs `edit:watchlists`); the matcher picks it up.",
    "requestBody": _body("WatchlistInput"),
    "responses": {
        "201": _answer("Created: the watchlist as saved.", "Watchlist"),
        **_refusals("400", "401", "403", "409", "413", "503"),
    },
}
_NAME_IN_PATH = [{"$ref": "#/components/parameters/watchlistName"}]
_WATCHLIST = {
    "put": {
        "operationId": "replaceWatchlist",
        "parameters": _NAME_IN_PATH,
        "summary": "Replace a watchlist's entries (needs `edit:watchlists`).",
        "requestBody": _body("WatchlistReplacement"),
        "responses": {"200": _answer("The watchlist as saved.", "Watchlist"), **_refusals(*_EDIT)},
    },
    "delete": {
        "operationId": "deleteWatchlist",
        "parameters": _NAME_IN_PATH,
        "summary": "Delete a watchlist (needs `edit:watchlists`).",
        "responses": {
            "204": {"description": "Deleted."},
            **_refusals("400", "401", "403", "404", "409", "503"),
        },
    },
}
_PREVIEW = {
    "post": {
        "operationId": "previewWatchlist",
        "summary": "What a watchlist would match in the last `days` days (needs `read`).",
        "requestBody": _body("PreviewInput"),
        "responses": {
            "200": _answer("The preview.", "Preview"),
            **_refusals("400", "401", "403", "413", "429", "503"),
        },
    }
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Sanctions Alerts API",
        "version": VERSION,
        "description": (
            "Access to sources, watchlists, items with their match explanations and "
            "deliveries; watchlists can be previewed against recent items, created, replaced "
            "and deleted (with a token allowing `edit:watchlists`). Send an API token "
            "(`alerts tokens create`) as "
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
        "/v1/watchlists": _WATCHLISTS,
        "/v1/watchlists/preview": _PREVIEW,
        "/v1/watchlists/{name}": _WATCHLIST,
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
