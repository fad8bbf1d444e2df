"""Date parsing for list files: record dates are lenient, file dates are checked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def day(value: str, fmt: str = "%Y-%m-%d") -> date | None:
    """A record's date in `fmt`, or None when absent or malformed.

    Lenient on purpose: one entry with "dd/mm/1950" must not sink a 20,000-entry list.
    """
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.strptime(value[:10] if fmt == "%Y-%m-%d" else value, fmt).date()  # noqa: DTZ007
    except ValueError:
        return None


def instant(value: str) -> datetime | None:
    """An ISO 8601 date or date-time as aware UTC (naive values are taken as UTC)."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def midnight(value: date | None) -> datetime | None:
    """A date as midnight UTC (files that publish a date only)."""
    return None if value is None else datetime.combine(value, time(0), tzinfo=UTC)
