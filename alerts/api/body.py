"""Request bodies: one JSON object, read with a size limit, and a watchlist out of it.

A watchlist is checked exactly as a `[[watchlists]]` table of feeds.toml is (the config's
own checks: keys, types, names, importance, urgent entries, then `watchlist_problems` for
terms, queries, regexes and entities), and the first problem answers 400 with `field`
naming the key at fault: "terms", "queries[1]", "entities[0]", an unknown key itself.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from starlette.requests import Request

from alerts.api.errors import ApiError
from alerts.config import _Checker, _watchlist
from alerts.domain import Watchlist
from alerts.matching import watchlist_problems

MAX_BODY_BYTES = 64 * 1024
MAX_FIELD_LENGTH = 200
# `watchlist_problems` names entries by kind ("query[2]"); the API by key ("queries[2]").
_ENTRY_FIELDS = {"query": "queries"}
_ENTITY_PROBLEM = re.compile(r"(entities\[\d+\]): (.*)", re.DOTALL)


def bad_field(field: str, message: str, code: str = "bad_field") -> ApiError:
    """A 400 naming the body field at fault."""
    field = field[:MAX_FIELD_LENGTH]
    return ApiError(400, code, f"{field}: {message}", field=field)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object: 413 past MAX_BODY_BYTES, 400 when not a JSON object."""
    too_large = ApiError(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    try:
        data = json.loads(bytes(body), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        message = "the body must be a JSON object (Content-Type: application/json)"
        if isinstance(exc, json.JSONDecodeError):
            message += f"; {exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise ApiError(400, "bad_json", message) from None
    try:
        # A lone surrogate ("\ud800") parses, but no database takes it.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "bad_json", "the body holds a lone surrogate (\\ud800...)") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object, not " + _kind(data))
    return data


def _no_constant(text: str) -> NoReturn:
    raise ValueError(f"{text} is not a JSON number")


def _kind(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")


class _FieldChecker(_Checker):
    """The config's checker, keeping (field, message) instead of file locations."""

    def __init__(self) -> None:
        super().__init__("request", "")
        self.found: list[tuple[str, str]] = []

    def add(self, table: str, index: int | None, key: str, message: str, label: str = "") -> None:
        if key == "entities" and (m := _ENTITY_PROBLEM.fullmatch(message)):
            key, message = m.group(1), m.group(2)
        self.found.append((key or "body", message))


def parse_watchlist(raw: dict[str, Any]) -> Watchlist:
    """The watchlist `raw` describes (feeds.toml's keys); 400 naming the first bad field."""
    check = _FieldChecker()
    try:
        watchlist = _watchlist(check, 0, raw)
    except (TypeError, AttributeError, ValueError) as exc:
        raise bad_field("body", f"not a watchlist: {exc}") from None
    if check.found:
        raise bad_field(*check.found[0])
    assert watchlist is not None  # a missing name is among check.found
    if "\x00" in watchlist.description:
        raise bad_field("description", "must not hold a NUL character")
    for problem in watchlist_problems(watchlist):
        kind, bracket, rest = problem.entry.partition("[")
        raise bad_field(_ENTRY_FIELDS.get(kind, kind) + bracket + rest, problem.message)
    return watchlist


def parse_days(raw: dict[str, Any], *, default: int, most: int) -> int:
    """`days` taken out of `raw`: a whole number from 1 to `most`."""
    value = raw.pop("days", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise bad_field("days", f"must be a whole number from 1 to {most}")
    return value
