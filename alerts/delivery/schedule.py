"""Digest schedules: parse a subscription's `schedule` and find the next time it is due.

Forms (times are wall-clock in the schedule's IANA zone, default UTC):

    immediate                  send as soon as something is queued
    hourly                     at the top of every hour
    every 30m | every 2h       on multiples of the period counted from the Unix epoch (UTC)
    daily 08:00 [Europe/London]

Pure: no I/O. Daily times are computed per local calendar day, so a DST change never skips
or doubles a day's digest: a time that does not exist that day (inside the spring-forward gap)
fires at the first valid instant after it, an ambiguous one (autumn) fires at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EVERY = re.compile(r"^every\s+(\d+)\s*(m|min|mins|minutes?|h|hours?)$", re.IGNORECASE)
_DAILY = re.compile(r"^daily\s+(\d{1,2}):(\d{2})(?:\s+(\S+))?$", re.IGNORECASE)
MIN_PERIOD = timedelta(minutes=1)


class ScheduleError(ValueError):
    """A schedule string that cannot be understood; the message says what is expected."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule. `period` for fixed periods, `at` for daily sends.

    `zone` is the daily time's zone, and for every form the zone digests show times in.
    """

    spec: str
    immediate: bool = False
    period: timedelta | None = None
    at: time | None = None
    zone: str = "UTC"

    def next_after(self, now: datetime) -> datetime | None:
        """The first due time strictly after `now` (aware UTC); None for `immediate`."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if self.immediate:
            return None
        if self.period is not None:
            elapsed = now - _EPOCH
            periods = elapsed // self.period + 1
            return _EPOCH + periods * self.period
        assert self.at is not None
        tz = ZoneInfo(self.zone)
        local_day = now.astimezone(tz).date()
        # Yesterday..tomorrow covers every offset; take the first candidate after now.
        for offset in (-1, 0, 1, 2):
            day = local_day + timedelta(days=offset)
            candidate = _local_to_utc(datetime.combine(day, self.at), tz)
            if candidate > now:
                return candidate
        raise AssertionError("unreachable: a daily time always occurs within two days")


def _local_to_utc(naive: datetime, tz: ZoneInfo) -> datetime:
    """Wall-clock time in `tz` to UTC: gaps move forward, ambiguous times take the first.

    With fold=0 zoneinfo resolves both cases with the offset in force before the
    transition: a time inside a spring-forward gap lands just after the gap, and an
    ambiguous autumn time is its first occurrence.
    """
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def parse_schedule(spec: str, default_zone: str = "UTC") -> Schedule:
    """Parse a schedule string; raises ScheduleError with the accepted forms."""
    text = " ".join(spec.split())
    lowered = text.lower()
    if lowered == "immediate":
        return Schedule(spec=text, immediate=True, zone=default_zone)
    if lowered == "hourly":
        return Schedule(spec=text, period=timedelta(hours=1), zone=default_zone)
    if m := _EVERY.match(text):
        amount = int(m.group(1))
        unit = m.group(2).lower()
        period = timedelta(hours=amount) if unit.startswith("h") else timedelta(minutes=amount)
        if period < MIN_PERIOD:
            raise ScheduleError(f"schedule {spec!r}: the period must be at least 1 minute")
        if period > timedelta(days=7):
            raise ScheduleError(f"schedule {spec!r}: the period must be at most 7 days")
        return Schedule(spec=text, period=period, zone=default_zone)
    if m := _DAILY.match(text):
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour > 23 or minute > 59:
            raise ScheduleError(f"schedule {spec!r}: {hour:02d}:{minute:02d} is not a time of day")
        zone = m.group(3) or default_zone
        check_zone(zone)
        return Schedule(spec=text, at=time(hour, minute), zone=zone)
    raise ScheduleError(
        f"schedule {spec!r} not understood; use 'immediate', 'hourly', 'every 30m', "
        "'every 2h' or 'daily 08:00 Europe/London'"
    )


def check_zone(zone: str) -> None:
    """Raise ScheduleError unless `zone` is a known IANA time zone."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"unknown time zone {zone!r} (use an IANA name such as Europe/London)"
        ) from exc
