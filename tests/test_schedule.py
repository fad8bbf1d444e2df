"""Digest schedules, including both DST transitions."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from alerts.delivery.schedule import ScheduleError, parse_schedule


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_immediate_has_no_next_time() -> None:
    assert parse_schedule("immediate").next_after(utc(2026, 1, 1)) is None


def test_hourly_and_every_are_aligned_to_the_epoch() -> None:
    assert parse_schedule("hourly").next_after(utc(2026, 3, 1, 10, 59, 59)) == utc(2026, 3, 1, 11)
    assert parse_schedule("hourly").next_after(utc(2026, 3, 1, 11)) == utc(2026, 3, 1, 12)
    every = parse_schedule("every 15m")
    assert every.next_after(utc(2026, 3, 1, 10, 7)) == utc(2026, 3, 1, 10, 15)
    assert parse_schedule("every 2h").period == timedelta(hours=2)


def test_daily_in_a_zone() -> None:
    s = parse_schedule("daily 08:00 Europe/London")
    # Winter: London is UTC+0.
    assert s.next_after(utc(2026, 1, 10, 7, 59)) == utc(2026, 1, 10, 8)
    assert s.next_after(utc(2026, 1, 10, 8, 0)) == utc(2026, 1, 11, 8)
    # Summer: UTC+1.
    assert s.next_after(utc(2026, 7, 10, 6)) == utc(2026, 7, 10, 7)


def _fire_times(spec: str, start: datetime, days: int) -> list[datetime]:
    s = parse_schedule(spec)
    times, now = [], start
    while now < start + timedelta(days=days):
        nxt = s.next_after(now)
        assert nxt is not None and nxt > now
        times.append(nxt)
        now = nxt
    return times


@pytest.mark.parametrize(
    ("spec", "start"),
    [
        # Spring forward in London: 2026-03-29 01:00 UTC; 01:30 local does not exist that day.
        ("daily 01:30 Europe/London", utc(2026, 3, 26)),
        ("daily 08:00 Europe/London", utc(2026, 3, 26)),
        # Fall back: 2026-10-25 01:00 UTC; 01:30 local happens twice that day.
        ("daily 01:30 Europe/London", utc(2026, 10, 22)),
        ("daily 08:00 America/New_York", utc(2026, 11, 28)),
        ("daily 02:30 America/New_York", utc(2026, 3, 6)),
    ],
)
def test_one_digest_per_local_day_across_dst(spec: str, start: datetime) -> None:
    times = _fire_times(spec, start, days=7)
    zone = parse_schedule(spec).zone
    from zoneinfo import ZoneInfo

    local_days = [t.astimezone(ZoneInfo(zone)).date() for t in times]
    assert len(local_days) == len(set(local_days)), "a day got two digests"
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(local_days))


def test_gap_time_fires_after_the_gap() -> None:
    s = parse_schedule("daily 01:30 Europe/London")
    fired = s.next_after(utc(2026, 3, 28, 12))
    # 01:30 GMT would be inside the gap; it fires at 02:30 BST == 01:30 UTC.
    assert fired == utc(2026, 3, 29, 1, 30)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("weekly", "not understood"),
        ("daily 25:00", "not a time of day"),
        ("daily 08:00 Mars/Olympus", "unknown time zone"),
        ("every 0m", "at least 1 minute"),
        ("every 9999h", "at most 7 days"),
    ],
)
def test_bad_schedules_say_why(spec: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(spec)


def test_default_zone_applies() -> None:
    assert parse_schedule("daily 08:00", "Asia/Tokyo").zone == "Asia/Tokyo"


def test_every_form_carries_the_zone_for_display() -> None:
    for spec in ("immediate", "hourly", "every 15m"):
        assert parse_schedule(spec, "Europe/London").zone == "Europe/London"
