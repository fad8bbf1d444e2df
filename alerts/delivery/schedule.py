"""Digest schedules and quiet hours: parse a subscription's settings and find when things are due.

Schedule forms (times are wall-clock in the schedule's IANA zone: the one written after the
time, else the subscription's timezone passed as `default_zone`, else UTC):

    immediate                  send as soon as something is queued
    hourly                     at the top of every hour (UTC)
    every 30m | every 2h       on multiples of the period counted from the Unix epoch (UTC)
    daily 08:00 [Europe/London]
    weekdays 08:00 [Zone]      Monday to Friday
    weekly mon 08:00 [Zone]    one day a week: mon..sun or monday..sunday, any case

Periodic forms are exact in UTC, so a DST change never stretches or shrinks an interval.
Clock-time forms are computed per local calendar day, so a DST change never skips or doubles
a digest: a time that does not exist that day (inside the spring-forward gap) is read with the
offset before the change, i.e. it moves forward by the gap (RFC 5545's rule: 01:30 in London
on 2026-03-29 fires at 02:30 BST), and an ambiguous autumn time fires at its first occurrence.

Quiet hours ("22:00-07:00", in the subscription's zone) follow what the wall clock shows: they
start when the clock first reaches the start time and end when it last passes the end time. A
time skipped by a spring-forward gap counts as passed when the clock jumps over it, and an end
time that the autumn overlap repeats counts at its second pass, so one night's quiet hours never
stop and restart. (A slot is a moment and keeps RFC 5545's reading; quiet hours are a span of
the clock face, so they follow the clock.) A slot at a quiet-hours edge behaves alike on every
day: at the start it is inside and waits; at the end it is outside and goes.

Pure: no I/O, no clock of its own; every datetime in and out is aware UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EVERY = re.compile(r"^every\s+(\d+)\s*(m|min|mins|minutes?|h|hours?)$", re.IGNORECASE)
# daily 08:00 | weekdays 08:00 | weekly <day> 08:00, each with an optional zone.
_AT = re.compile(
    r"^(daily|weekdays|weekly(?:\s+(\S+))?)\s+(\d{1,2}):(\d{2})(?:\s+(\S+))?$", re.IGNORECASE
)
_QUIET = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")
MIN_PERIOD = timedelta(minutes=1)
MAX_PERIOD = timedelta(days=7)

EVERY_DAY = frozenset(range(7))
MONDAY_TO_FRIDAY = frozenset(range(5))
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS = {n: i for i, name in enumerate(_DAY_NAMES) for n in (name, name[:3])}

FORMS = (
    "accepted forms: 'immediate', 'hourly', 'every 30m', 'every 2h', 'daily 08:00', "
    "'weekdays 08:00' or 'weekly mon 08:00' (days mon..sun or monday..sunday); the daily, "
    "weekdays and weekly forms take an optional IANA zone after the time, "
    "e.g. 'daily 08:00 Europe/London'"
)


class ScheduleError(ValueError):
    """A schedule or quiet-hours string that cannot be understood; the message says what is
    expected."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule: `immediate`, a fixed `period`, or a clock time `at` on `days`.

    `days` are weekday numbers (Monday 0 .. Sunday 6) and only matter with `at`. `zone` is
    the zone of `at`, and for every form the zone digests show times in.
    """

    spec: str
    immediate: bool = False
    period: timedelta | None = None
    at: time | None = None
    zone: str = "UTC"
    days: frozenset[int] = EVERY_DAY

    def next_after(self, now: datetime) -> datetime | None:
        """The first due time strictly after `now` (aware UTC); None for `immediate`."""
        _check_aware(now)
        if self.immediate:
            return None
        if self.period is not None:
            elapsed = now - _EPOCH
            periods = elapsed // self.period + 1
            return _EPOCH + periods * self.period
        assert self.at is not None
        tz = ZoneInfo(self.zone)
        local_day = now.astimezone(tz).date()
        # From yesterday (covers every offset) to a week ahead (covers a weekly slot); the
        # candidates rise with the day, so the first one after `now` is the answer.
        for offset in range(-1, 9):
            day = local_day + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            candidate = _local_to_utc(datetime.combine(day, self.at), tz)
            if candidate > now:
                return candidate
        raise AssertionError("unreachable: a slot occurs at least once a week")


def parse_schedule(spec: str, default_zone: str = "UTC") -> Schedule:
    """Parse a schedule string; raises ScheduleError naming the problem and the accepted forms."""
    text = " ".join(spec.split())
    if not text:
        raise ScheduleError(f"schedule is empty; {FORMS}")
    try:
        schedule = _parse(text, default_zone)
    except ScheduleError as exc:
        raise ScheduleError(f"schedule {spec!r}: {exc}; {FORMS}") from None
    if schedule.at is not None and not _known_zone(schedule.zone):
        # Config errors already name the field, so this one leads with the zone.
        source = "the subscription's timezone, " if schedule.zone == default_zone else ""
        raise ScheduleError(
            f"unknown time zone {schedule.zone!r} ({source}in schedule {spec!r}; use an IANA "
            f"name such as Europe/London); {FORMS}"
        )
    return schedule


def _parse(text: str, default_zone: str) -> Schedule:
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
            raise ScheduleError("the period must be at least 1 minute")
        if period > MAX_PERIOD:
            raise ScheduleError("the period must be at most 7 days")
        return Schedule(spec=text, period=period, zone=default_zone)
    if m := _AT.match(text):
        kind, day_name, hour, minute, zone = m.groups()
        kind = kind.split()[0].lower()
        if kind == "weekly":
            if day_name is None:
                raise ScheduleError("weekly needs a day before the time")
            days = frozenset({_parse_day(day_name)})
        else:
            days = MONDAY_TO_FRIDAY if kind == "weekdays" else EVERY_DAY
        at = _time_of_day(int(hour), int(minute))
        # The subscription's timezone applies unless the schedule names its own.
        zone = zone or default_zone
        return Schedule(spec=text, at=at, zone=zone, days=days)
    raise ScheduleError("not understood")


def _parse_day(name: str) -> int:
    try:
        return _DAYS[name.lower()]
    except KeyError:
        raise ScheduleError(
            f"{name!r} is not a day of the week (use mon, tue, wed, thu, fri, sat, sun "
            "or the full name)"
        ) from None


def _time_of_day(hour: int, minute: int) -> time:
    if hour == 24 and minute == 0:
        raise ScheduleError("24:00 is not a time of day (write midnight as 00:00)")
    if hour > 23 or minute > 59:
        raise ScheduleError(f"{hour:02d}:{minute:02d} is not a time of day")
    return time(hour, minute)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window, in a subscription's zone, when only urgent alerts are sent.

    `start` is inclusive and `end` exclusive; `start > end` means the window crosses midnight.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ScheduleError(
                f"quiet hours '{self}': start and end are the same; "
                "give a window such as '22:00-07:00'"
            )

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """Parse "HH:MM-HH:MM" ("22:00-07:00" crosses midnight); raises ScheduleError."""
        cleaned = text.strip()
        m = _QUIET.match(cleaned)
        if m is None:
            empty = " is empty" if not cleaned else " not understood"
            raise ScheduleError(
                f"quiet hours {text!r}{empty}; use 'HH:MM-HH:MM' in the subscription's zone, "
                "e.g. '22:00-07:00' (over midnight) or '12:00-13:00'"
            )
        try:
            start = _time_of_day(int(m.group(1)), int(m.group(2)))
            end = _time_of_day(int(m.group(3)), int(m.group(4)))
        except ScheduleError as exc:
            raise ScheduleError(f"quiet hours {text!r}: {exc}") from None
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, now: datetime, zone: str) -> bool:
        """Whether `now` (aware) falls inside quiet hours in `zone`."""
        _check_aware(now)
        return self._end_of_period_containing(now, ZoneInfo(zone)) is not None

    def end_after(self, now: datetime, zone: str) -> datetime:
        """The UTC instant the quiet period around `now` ends; `now` itself if not quiet."""
        _check_aware(now)
        tz = ZoneInfo(zone)
        end = now.astimezone(UTC)
        # Periods may touch or overlap when an autumn overlap repeats both ends: follow on.
        while (later := self._end_of_period_containing(end, tz)) is not None:
            end = later
        return end

    def _end_of_period_containing(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """The latest end of the nightly periods that contain `now`; None if there is none."""
        local_day = now.astimezone(tz).date()
        ends = [
            end
            for start, end in (self._period(local_day + timedelta(days=d), tz) for d in (-2, -1, 0))
            if start <= now < end
        ]
        return max(ends, default=None)

    def _period(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The instants of the period that starts on local `day`."""
        end_day = day + timedelta(days=1) if self.start > self.end else day
        start = _clock_shows(datetime.combine(day, self.start), tz, last=False)
        end = _clock_shows(datetime.combine(end_day, self.end), tz, last=True)
        return start, end


def check_zone(zone: str) -> None:
    """Raise ScheduleError unless `zone` is a known IANA time zone."""
    if not _known_zone(zone):
        raise ScheduleError(f"unknown time zone {zone!r} (use an IANA name such as Europe/London)")


def _known_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _local_to_utc(naive: datetime, tz: ZoneInfo) -> datetime:
    """Wall-clock time in `tz` to UTC for a schedule slot: gaps move forward, ambiguous times
    take the first.

    With fold=0 zoneinfo resolves both cases with the offset in force before the transition:
    a time inside a spring-forward gap lands the gap's length later, and an ambiguous autumn
    time is its first occurrence.
    """
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _clock_shows(naive: datetime, tz: ZoneInfo, *, last: bool) -> datetime:
    """The instant the wall clock in `tz` shows `naive`: its first showing, or with `last` its
    last (they differ in an autumn overlap); for a time a gap skips, the instant of the jump."""
    early = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    late = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if late >= early:  # the time exists: once (equal) or twice (fold=1 is the later)
        return late if last else early
    # Inside a gap fold=1 reads the time with the later (larger) offset, an instant before the
    # jump, and fold=0 with the earlier offset, an instant after it.
    return _offset_change(late, early, tz)


def _offset_change(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The instant in (before, after] at which `tz`'s UTC offset changes, to the second."""
    offset = before.astimezone(tz).utcoffset()
    lo, hi = int(before.timestamp()), int(after.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == offset:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)
