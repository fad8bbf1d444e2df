"""One JSON error object for every refusal, and the JSON response the API answers with.

    {"error": {"code": "machine_code", "message": "human text", "field": "limit" | null}}

`code` is stable (clients branch on it); `message` is for people and may change; `field`
names the query parameter or body field at fault, else null.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

# Status -> the code used when nothing more precise applies.
DEFAULT_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "busy",
    500: "internal_error",
    503: "unavailable",
}
ERROR_CODES = (
    *DEFAULT_CODES.values(),
    "bad_parameter",
    "unknown_parameter",
    "repeated_parameter",
    "invalid_token",
    "insufficient_scope",
    "bad_field",
    "bad_json",
    "already_exists",
    "file_managed",
)


class JsonResponse(JSONResponse):
    """Compact UTF-8 JSON with `<`, `>` and `&` escaped as \\u003c...: the same data for
    any JSON parser, but feed text such as `</script>` can never be read as markup even by
    a client that wrongly pastes the body into a page."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return text.encode("utf-8")


class ApiError(Exception):
    """A refusal, answered as the error object with `status`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def bad_parameter(field: str, message: str, code: str = "bad_parameter") -> ApiError:
    """A 400 naming the query parameter at fault."""
    return ApiError(400, code, message, field=field)


def error_response(error: ApiError) -> JsonResponse:
    """The error object for `error`."""
    body = {"error": {"code": error.code, "message": error.message, "field": error.field}}
    return JsonResponse(body, status_code=error.status, headers=error.headers)
