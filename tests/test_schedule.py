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


# -- weekdays and weekly ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        ("weekdays 08:00", {0, 1, 2, 3, 4}),
        ("weekly mon 08:00", {0}),
        ("weekly Sunday 08:00", {6}),
        ("WEEKLY FRI 08:00", {4}),
        ("weekly wednesday 8:00", {2}),
        ("  weekly   thu   08:00  ", {3}),
    ],
)
def test_day_forms_parse(spec: str, days: set[int]) -> None:
    s = parse_schedule(spec)
    assert s.days == days
    assert s.at is not None and s.at.hour == 8
    assert not s.immediate and s.period is None


def test_daily_fires_every_day() -> None:
    assert parse_schedule("daily 08:00").days == set(range(7))


def test_zone_in_spec_overrides_the_subscription_zone() -> None:
    assert parse_schedule("weekly mon 08:00", "Asia/Tokyo").zone == "Asia/Tokyo"
    s = parse_schedule("weekdays 08:00 America/New_York", "Asia/Tokyo")
    assert s.zone == "America/New_York"
    # Monday 2026-01-05 08:00 EST == 13:00 UTC.
    assert s.next_after(utc(2026, 1, 5)) == utc(2026, 1, 5, 13)


def test_weekdays_skip_the_weekend() -> None:
    s = parse_schedule("weekdays 08:00 Europe/London")
    # Friday 2026-01-09 after the slot -> Monday 2026-01-12.
    assert s.next_after(utc(2026, 1, 9, 8)) == utc(2026, 1, 12, 8)
    assert s.next_after(utc(2026, 1, 10, 12)) == utc(2026, 1, 12, 8)  # Saturday
    assert s.next_after(utc(2026, 1, 12, 7, 59)) == utc(2026, 1, 12, 8)  # Monday, before
    assert s.next_after(utc(2026, 1, 12, 8)) == utc(2026, 1, 13, 8)  # Monday, at: Tuesday


def test_weekly_fires_on_its_day() -> None:
    s = parse_schedule("weekly wed 17:30", "Europe/London")
    # Wednesday 2026-01-07 17:30 GMT.
    assert s.next_after(utc(2026, 1, 7, 17, 29)) == utc(2026, 1, 7, 17, 30)
    assert s.next_after(utc(2026, 1, 7, 17, 30)) == utc(2026, 1, 14, 17, 30)
    assert s.next_after(utc(2026, 1, 8)) == utc(2026, 1, 14, 17, 30)


def test_weekly_day_follows_the_local_calendar() -> None:
    # Monday 09:00 in Tokyo is Sunday 00:00 UTC; Sunday evening UTC is already Monday there.
    s = parse_schedule("weekly mon 09:00 Asia/Tokyo")
    assert s.next_after(utc(2026, 1, 4, 0, 0)) == utc(2026, 1, 5, 0, 0)
    assert s.next_after(utc(2026, 1, 4, 23, 0)) == utc(2026, 1, 5, 0, 0)


# -- DST: walk next_after across both transitions ---------------------------------------

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
# Every transition of 2026 in both zones falls on a Sunday.
SPRING = {LONDON: date(2026, 3, 29), NEW_YORK: date(2026, 3, 8)}
AUTUMN = {LONDON: date(2026, 10, 25), NEW_YORK: date(2026, 11, 1)}


def _walk(spec: str, start: datetime, end: datetime) -> list[datetime]:
    """Feed next_after its own answers from `start` until `end`."""
    s = parse_schedule(spec)
    times, now = [], start
    while (nxt := s.next_after(now)) is not None and nxt < end:
        assert nxt > now
        times.append(nxt)
        now = nxt
    return times


def _grid_answers(spec: str, start: datetime, end: datetime, step: timedelta) -> set[datetime]:
    """next_after asked every `step`: any instant must point at one of the walked slots."""
    s = parse_schedule(spec)
    answers = set()
    now = start
    while now < end:
        nxt = s.next_after(now)
        assert nxt is not None
        if nxt < end:
            answers.add(nxt)
        now += step
    return answers


# (spec, transition day, that day's slot in UTC). Gap times move forward by the gap
# (02:30 BST / 03:30 EDT); ambiguous times take their first (summer-time) occurrence.
DST_DAYS = [
    ("{} 08:00 Europe/London", SPRING[LONDON], utc(2026, 3, 29, 7)),
    ("{} 01:30 Europe/London", SPRING[LONDON], utc(2026, 3, 29, 1, 30)),
    ("{} 08:00 Europe/London", AUTUMN[LONDON], utc(2026, 10, 25, 8)),
    ("{} 01:30 Europe/London", AUTUMN[LONDON], utc(2026, 10, 25, 0, 30)),
    ("{} 08:00 America/New_York", SPRING[NEW_YORK], utc(2026, 3, 8, 12)),
    ("{} 02:30 America/New_York", SPRING[NEW_YORK], utc(2026, 3, 8, 7, 30)),
    ("{} 08:00 America/New_York", AUTUMN[NEW_YORK], utc(2026, 11, 1, 13)),
    ("{} 01:30 America/New_York", AUTUMN[NEW_YORK], utc(2026, 11, 1, 5, 30)),
]


def _local(t: datetime, zone: str) -> datetime:
    return t.astimezone(ZoneInfo(zone))


@pytest.mark.parametrize(("template", "day", "slot"), DST_DAYS)
def test_daily_across_dst(template: str, day: date, slot: datetime) -> None:
    spec = template.format("daily")
    s = parse_schedule(spec)
    assert s.at is not None
    start, end = utc(*(day - timedelta(days=5)).timetuple()[:3]), utc(*(day + timedelta(days=6)).timetuple()[:3])
    times = _walk(spec, start, end)
    local_days = [_local(t, s.zone).date() for t in times]
    # Exactly one firing per local day, no day skipped.
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(local_days))
    assert len(times) >= 10
    assert slot in times
    for t in times:
        if t != slot:  # every other day fires at the written wall time
            assert _local(t, s.zone).time() == s.at
    # Asking at any 10-minute point never yields a slot the walk did not see.
    assert _grid_answers(spec, start, end, timedelta(minutes=10)) <= set(times)


@pytest.mark.parametrize(("template", "day", "slot"), DST_DAYS)
def test_weekly_across_dst(template: str, day: date, slot: datetime) -> None:
    # The transition is on a Sunday: a Sunday schedule lands on it.
    spec = template.format("weekly sun")
    s = parse_schedule(spec)
    start = utc(*(day - timedelta(days=21)).timetuple()[:3])
    end = utc(*(day + timedelta(days=22)).timetuple()[:3])
    times = _walk(spec, start, end)
    local_days = [_local(t, s.zone).date() for t in times]
    assert all(d.weekday() == 6 for d in local_days)
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(local_days))
    assert len(times) == 6
    assert slot in times
    assert all(_local(t, s.zone).time() == s.at for t in times if t != slot)
    assert _grid_answers(spec, start, end, timedelta(minutes=30)) <= set(times)


@pytest.mark.parametrize(("template", "day", "slot"), DST_DAYS)
def test_weekdays_across_dst(template: str, day: date, slot: datetime) -> None:
    spec = template.format("weekdays")
    s = parse_schedule(spec)
    start = utc(*(day - timedelta(days=9)).timetuple()[:3])
    end = utc(*(day + timedelta(days=10)).timetuple()[:3])
    times = _walk(spec, start, end)
    local_days = [_local(t, s.zone).date() for t in times]
    assert len(local_days) == len(set(local_days)), "a day got two digests"
    # Every Monday-to-Friday in range, and nothing else; the Sunday transition is skipped.
    expected = [
        d
        for d in (start.date() + timedelta(days=i) for i in range(20))
        if d.weekday() < 5 and start < utc(*d.timetuple()[:3]) + timedelta(days=1) <= end
    ]
    assert sorted(set(local_days)) == local_days
    assert set(expected) - {expected[0], expected[-1]} <= set(local_days)
    assert all(d.weekday() < 5 for d in local_days)
    # Friday before and Monday after the change both fire at the written wall time, so their
    # UTC times differ by the change in offset.
    assert all(_local(t, s.zone).time() == s.at for t in times)
    assert slot not in times
    assert _grid_answers(spec, start, end, timedelta(minutes=10)) <= set(times)


@pytest.mark.parametrize("zone", [LONDON, NEW_YORK])
@pytest.mark.parametrize("spec", ["hourly", "every 2h", "every 45m"])
@pytest.mark.parametrize("season", [SPRING, AUTUMN])
def test_periods_stay_exact_in_utc_across_dst(zone: str, spec: str, season: dict[str, date]) -> None:
    s = parse_schedule(spec, zone)
    assert s.period is not None
    day = season[zone]
    start = utc(*(day - timedelta(days=1)).timetuple()[:3])
    times = _walk(spec + "", start, start + timedelta(days=3)) if False else []
    now = start
    while now < start + timedelta(days=3):
        nxt = s.next_after(now)
        assert nxt is not None
        times.append(nxt)
        now = nxt
    assert all(b - a == s.period for a, b in itertools.pairwise(times))
    assert len(times) == timedelta(days=3) // s.period


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "schedule is empty"),
        ("   ", "schedule is empty"),
        ("weekly funday 08:00", "'funday' is not a day of the week"),
        ("weekly 08:00", "weekly needs a day"),
        ("weekdays 24:00", "24:00 is not a time of day (write midnight as 00:00)"),
        ("daily 24:00", "24:00 is not a time of day"),
        ("weekly mon 07:60", "07:60 is not a time of day"),
        ("weekdays 08:00 Europe/Londn", "unknown time zone 'Europe/Londn'"),
        ("weekdays", "not understood"),
        ("monthly 08:00", "not understood"),
    ],
)
def test_bad_new_forms_say_why_and_list_the_forms(spec: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(spec)
    assert message in str(caught.value)
    assert "accepted forms" in str(caught.value)
    assert "weekly mon 08:00" in str(caught.value)


def test_unknown_subscription_zone_is_named_as_such() -> None:
    with pytest.raises(ScheduleError, match="subscription's timezone"):
        parse_schedule("daily 08:00", "Mars/Olympus")
