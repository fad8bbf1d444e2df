"""Digest schedules, including both DST transitions."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.delivery.schedule import QuietHours, ScheduleError, parse_schedule


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


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


def midnight(day: date, days: int = 0) -> datetime:
    """00:00 UTC of `day` shifted by `days`."""
    return datetime.combine(day + timedelta(days=days), time(), UTC)


def local(t: datetime, zone: str) -> datetime:
    return t.astimezone(ZoneInfo(zone))


def walk(spec: str, start: datetime, end: datetime) -> list[datetime]:
    """Feed next_after its own answers from `start` until `end`."""
    s = parse_schedule(spec)
    times, now = [], start
    while (nxt := s.next_after(now)) is not None and nxt < end:
        assert nxt > now
        times.append(nxt)
        now = nxt
    return times


def grid_answers(spec: str, start: datetime, end: datetime, step: timedelta) -> set[datetime]:
    """next_after asked every `step` from `start`; the answers before `end`."""
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


# (spec template, transition day, that day's slot in UTC). A gap time moves forward by the
# gap (02:30 BST, 03:30 EDT); an ambiguous time takes its first (summer-time) occurrence.
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


def test_the_transition_slots_are_what_the_table_says() -> None:
    # Spelled out once in local terms, so the table above is not taken on trust.
    assert local(utc(2026, 3, 29, 1, 30), LONDON).strftime("%H:%M %Z") == "02:30 BST"
    first = local(utc(2026, 10, 25, 0, 30), LONDON)
    assert (first.strftime("%H:%M %Z"), first.fold) == ("01:30 BST", 0)
    assert local(utc(2026, 3, 8, 7, 30), NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"
    first = local(utc(2026, 11, 1, 5, 30), NEW_YORK)
    assert (first.strftime("%H:%M %Z"), first.fold) == ("01:30 EDT", 0)


@pytest.mark.parametrize(("template", "day", "slot"), DST_DAYS)
def test_daily_across_dst(template: str, day: date, slot: datetime) -> None:
    spec = template.format("daily")
    s = parse_schedule(spec)
    start, end = midnight(day, -5), midnight(day, 6)
    times = walk(spec, start, end)
    local_days = [local(t, s.zone).date() for t in times]
    # Exactly one firing per local day, none skipped, the transition day included.
    assert local_days == [day + timedelta(days=i) for i in range(-5, 6)]
    assert slot in times
    # Every other day fires at the written wall time.
    assert all(local(t, s.zone).time() == s.at for t in times if t != slot)
    # Asking at any 10-minute point never yields a slot the walk did not see.
    assert grid_answers(spec, start, end, timedelta(minutes=10)) <= set(times)


@pytest.mark.parametrize(("template", "day", "slot"), DST_DAYS)
def test_weekly_across_dst(template: str, day: date, slot: datetime) -> None:
    # The transitions are on Sundays: a Sunday schedule lands on them.
    spec = template.format("weekly sun")
    s = parse_schedule(spec)
    start, end = midnight(day, -20), midnight(day, 22)
    times = walk(spec, start, end)
    local_days = [local(t, s.zone).date() for t in times]
    assert local_days == [day + timedelta(weeks=w) for w in range(-2, 4)]
    assert slot in times
    assert all(local(t, s.zone).time() == s.at for t in times if t != slot)
    assert grid_answers(spec, start, end, timedelta(minutes=30)) <= set(times)


@pytest.mark.parametrize(("template", "day", "slot"), DST_DAYS)
def test_weekdays_across_dst(template: str, day: date, slot: datetime) -> None:
    spec = template.format("weekdays")
    s = parse_schedule(spec)
    # Monday of the week before the (Sunday) transition to the Saturday after it.
    start, end = midnight(day, -13), midnight(day, 6)
    times = walk(spec, start, end)
    local_days = [local(t, s.zone).date() for t in times]
    weekdays = [day + timedelta(days=i) for i in range(-13, 6)]
    assert local_days == [d for d in weekdays if d.weekday() < 5]
    # Friday before and Monday after the change both fire at the written wall time (so
    # their UTC times differ by the change of offset); the Sunday slot never fires.
    assert all(local(t, s.zone).time() == s.at for t in times)
    assert slot not in times
    assert grid_answers(spec, start, end, timedelta(minutes=10)) <= set(times)


@pytest.mark.parametrize("zone", [LONDON, NEW_YORK])
@pytest.mark.parametrize("spec", ["hourly", "every 2h", "every 45m"])
@pytest.mark.parametrize("season", [SPRING, AUTUMN], ids=["spring", "autumn"])
def test_periods_stay_exact_in_utc_across_dst(
    zone: str, spec: str, season: dict[str, date]
) -> None:
    s = parse_schedule(spec, zone)
    assert s.period is not None
    start, end = midnight(season[zone], -1), midnight(season[zone], 2)
    times = walk(spec, start, end)
    assert all(b - a == s.period for a, b in itertools.pairwise(times))
    # Both ends sit on the epoch-aligned grid: every slot in between fired, none twice.
    assert times[0] == start + s.period
    assert times[-1] == end - s.period


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


# -- quiet hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("22:00-07:00", time(22), time(7)),
        ("12:00-13:00", time(12), time(13)),
        (" 9:30 - 17:45 ", time(9, 30), time(17, 45)),
        ("23:00–00:00", time(23), time(0)),  # an en dash, as pasted from documents
    ],
)
def test_quiet_hours_parse(text: str, start: time, end: time) -> None:
    quiet = QuietHours.parse(text)
    assert (quiet.start, quiet.end) == (start, end)
    assert QuietHours.parse(str(quiet)) == quiet


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("22:00-22:00", "start and end are the same"),
        ("25:00-07:00", "25:00 is not a time of day"),
        ("22:00-24:00", "write midnight as 00:00"),
        ("22:00-07:60", "07:60 is not a time of day"),
        ("22-7", "not understood; use 'HH:MM-HH:MM'"),
        ("22:00", "not understood"),
        ("", "is empty"),
    ],
)
def test_bad_quiet_hours_say_why(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        QuietHours.parse(text)
    assert message in str(caught.value)


NIGHT = QuietHours.parse("22:00-07:00")
LUNCH = QuietHours.parse("12:00-13:00")


@pytest.mark.parametrize(
    ("quiet", "now", "inside", "ends"),
    [
        (NIGHT, utc(2026, 1, 10, 21, 59), False, None),
        (NIGHT, utc(2026, 1, 10, 22, 0), True, utc(2026, 1, 11, 7)),  # start is inside
        (NIGHT, utc(2026, 1, 10, 23, 59), True, utc(2026, 1, 11, 7)),
        (NIGHT, utc(2026, 1, 11, 0, 0), True, utc(2026, 1, 11, 7)),  # after midnight
        (NIGHT, utc(2026, 1, 11, 6, 59), True, utc(2026, 1, 11, 7)),
        (NIGHT, utc(2026, 1, 11, 7, 0), False, None),  # end is outside
        (NIGHT, utc(2026, 1, 11, 12, 0), False, None),
        (LUNCH, utc(2026, 1, 10, 11, 59), False, None),
        (LUNCH, utc(2026, 1, 10, 12, 30), True, utc(2026, 1, 10, 13)),
        (LUNCH, utc(2026, 1, 10, 13, 0), False, None),
        (LUNCH, utc(2026, 1, 10, 23, 0), False, None),
    ],
)
def test_quiet_hours_in_winter_london(
    quiet: QuietHours, now: datetime, inside: bool, ends: datetime | None
) -> None:
    # London is UTC+0 in January, so these read as local times.
    assert quiet.contains(now, LONDON) is inside
    assert quiet.end_after(now, LONDON) == (ends or now)


def test_quiet_hours_are_in_the_given_zone() -> None:
    # 22:00-07:00 in New York (EST, UTC-5) is 03:00-12:00 UTC.
    assert NIGHT.contains(utc(2026, 1, 10, 11, 59), NEW_YORK)
    assert not NIGHT.contains(utc(2026, 1, 10, 2, 59), NEW_YORK)
    assert NIGHT.end_after(utc(2026, 1, 10, 5), NEW_YORK) == utc(2026, 1, 10, 12)
    # Any aware input will do; the answer is UTC.
    ends = NIGHT.end_after(datetime(2026, 1, 10, 0, tzinfo=ZoneInfo(NEW_YORK)), NEW_YORK)
    assert ends == utc(2026, 1, 10, 12)
    assert ends.tzinfo is UTC


def test_quiet_hours_need_an_aware_clock() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        NIGHT.contains(datetime(2026, 1, 10), LONDON)


@pytest.mark.parametrize(
    ("zone", "night", "starts", "ends"),
    [
        # 22:00 GMT -> 07:00 BST: eight hours of real time.
        (LONDON, date(2026, 3, 28), utc(2026, 3, 28, 22), utc(2026, 3, 29, 6)),
        # 22:00 BST -> 07:00 GMT: ten hours.
        (LONDON, date(2026, 10, 24), utc(2026, 10, 24, 21), utc(2026, 10, 25, 7)),
        (NEW_YORK, date(2026, 3, 7), utc(2026, 3, 8, 3), utc(2026, 3, 8, 11)),
        (NEW_YORK, date(2026, 10, 31), utc(2026, 11, 1, 2), utc(2026, 11, 1, 12)),
    ],
)
def test_overnight_quiet_hours_across_dst(
    zone: str, night: date, starts: datetime, ends: datetime
) -> None:
    minute = timedelta(minutes=1)
    assert not NIGHT.contains(starts - minute, zone)
    assert NIGHT.contains(starts, zone)
    assert NIGHT.contains(ends - minute, zone)
    assert not NIGHT.contains(ends, zone)
    assert NIGHT.end_after(starts, zone) == ends
    assert NIGHT.end_after(ends - minute, zone) == ends


@pytest.mark.parametrize(
    ("zone", "day"),
    [(z, d[z]) for z in (LONDON, NEW_YORK) for d in (SPRING, AUTUMN)],
    ids=["london-spring", "london-autumn", "new-york-spring", "new-york-autumn"],
)
@pytest.mark.parametrize("text", ["22:00-07:00", "12:00-13:00", "00:30-04:00"])
def test_quiet_hours_follow_the_wall_clock_minute_by_minute(
    text: str, zone: str, day: date
) -> None:
    """Windows whose ends are not touched by the change: quiet exactly when the clock shows a
    time inside the window, and end_after is the first instant it shows one outside."""
    quiet = QuietHours.parse(text)
    minutes = [midnight(day, -1) + timedelta(minutes=i) for i in range(3 * 24 * 60)]
    flags = [quiet.contains(t, zone) for t in minutes]
    for t, flag in zip(minutes, flags, strict=True):
        shown = local(t, zone).time()
        if quiet.start < quiet.end:
            assert flag is (quiet.start <= shown < quiet.end)
        else:
            assert flag is (shown >= quiet.start or shown < quiet.end)
    # Each quiet minute's end_after is the next minute that is not quiet.
    next_loud = None
    for t, flag in zip(reversed(minutes), reversed(flags), strict=True):
        if not flag:
            next_loud = t
        elif next_loud is not None:
            assert quiet.end_after(t, zone) == next_loud


@pytest.mark.parametrize(
    ("text", "zone", "starts", "ends"),
    [
        # A window containing the gap: 00:30 GMT to 03:00 BST is 90 minutes.
        ("00:30-03:00", LONDON, utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 2)),
        # Containing the overlap: 00:30 BST to 03:00 GMT, both passes of 01:xx included.
        ("00:30-03:00", LONDON, utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 3)),
        # Ending inside the gap: the clock jumps from 00:59:59 GMT over 01:30 to 02:00 BST.
        ("23:00-01:30", LONDON, utc(2026, 3, 28, 23), utc(2026, 3, 29, 1)),
        # Starting inside the gap: quiet starts at the jump.
        ("01:30-06:00", LONDON, utc(2026, 3, 29, 1), utc(2026, 3, 29, 5)),
        # Ending on a repeated time: the last 01:30 (GMT), so quiet does not stop and restart.
        ("22:00-01:30", LONDON, utc(2026, 10, 24, 21), utc(2026, 10, 25, 1, 30)),
        # Starting on a repeated time: its first occurrence (BST).
        ("01:30-06:00", LONDON, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 6)),
        # New York: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
        ("01:00-02:30", NEW_YORK, utc(2026, 3, 8, 6), utc(2026, 3, 8, 7)),
        ("23:00-01:30", NEW_YORK, utc(2026, 11, 1, 3), utc(2026, 11, 1, 6, 30)),
    ],
)
def test_quiet_windows_with_an_end_on_a_dst_change(
    text: str, zone: str, starts: datetime, ends: datetime
) -> None:
    quiet = QuietHours.parse(text)
    second = timedelta(seconds=1)
    assert not quiet.contains(starts - second, zone)
    assert quiet.contains(starts, zone)
    assert quiet.contains(ends - second, zone)
    assert not quiet.contains(ends, zone)
    # From anywhere inside, one end: quiet hours never stop and restart within the night.
    probe = starts
    while probe < ends:
        assert quiet.contains(probe, zone)
        assert quiet.end_after(probe, zone) == ends
        probe += timedelta(minutes=5)
