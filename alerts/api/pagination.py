"""`limit` and the opaque `cursor`: keyset pages over ids, newest first.

A cursor is URL-safe base64 (unpadded) of the decimal id of the last row of the previous
page; the next page starts below it. Clients must treat it as opaque: only its being
accepted back is promised.
"""

from __future__ import annotations

import base64
import binascii
import re

from alerts.api.errors import ApiError, bad_parameter

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 40
_DIGITS = re.compile(r"[0-9]{1,6}")  # ASCII only: int() would take "٣", "+3" and "1_0"
_ID = re.compile(r"[1-9][0-9]{0,18}")  # below 2**63: fits every database's integer


def parse_limit(text: str | None) -> int:
    """The page size: DEFAULT_LIMIT when absent, else 1..MAX_LIMIT."""
    if text is None:
        return DEFAULT_LIMIT
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise bad_parameter("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def encode_cursor(last_id: int) -> str:
    """The cursor of the page after the row `last_id`."""
    return base64.urlsafe_b64encode(str(last_id).encode("ascii")).decode("ascii").rstrip("=")


MAX_ID = 2**31 - 1


def decode_cursor(text: str | None) -> int | None:
    """The id a cursor points below; None when absent."""
    if text is None:
        return None
    error: ApiError = bad_parameter("cursor", "cursor is not one this API gave out")
    if not text or len(text) > MAX_CURSOR_LENGTH:
        raise error
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        digits = raw.decode("ascii")
    except (binascii.Error, ValueError):
        raise error from None
    # Ids are 32-bit integers on PostgreSQL: a bigger one is no id this API gave out.
    if not _ID.fullmatch(digits) or int(digits) > MAX_ID:
        raise error
    return int(digits)
