"""The send decision: every rule with explicit clocks, then simulated weeks across DST."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.delivery.policy import PendingAlert, SendPlan, plan_send
from alerts.delivery.schedule import QuietHours, parse_schedule
from alerts.domain import Importance

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
NIGHT = QuietHours.parse("22:00-07:00")
NORMAL, HIGH, URGENT = Importance.NORMAL, Importance.HIGH, Importance.URGENT
# One of each, queued in this order.
MIXED = (PendingAlert(1, NORMAL), PendingAlert(2, HIGH), PendingAlert(3, URGENT))
QUIET_ONES = MIXED[:2]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def plan(
    now: datetime,
    spec: str = "daily 08:00",
    *,
    next_at: datetime | None,
    pending: tuple[PendingAlert, ...] = MIXED,
    quiet: QuietHours | None = NIGHT,
    imm: Importance | None = None,
    send_empty: bool = False,
    zone: str = LONDON,
) -> SendPlan:
    return plan_send(
        now,
        parse_schedule(spec, zone),
        next_digest_at=next_at,
        pending=pending,
        quiet=quiet,
        zone=zone,
        immediate_importance=imm,
        send_empty=send_empty,
    )


# -- every rule, one clock at a time (London in January: local time == UTC) ---------------

NOON, LATE, DAWN = utc(2026, 1, 10, 12), utc(2026, 1, 10, 23), utc(2026, 1, 11, 7)
TODAY_8, TOMORROW_8 = utc(2026, 1, 10, 8), utc(2026, 1, 11, 8)


@dataclass(frozen=True)
class Case:
    now: datetime
    spec: str = "daily 08:00"
    next_at: datetime | None = None
    pending: tuple[PendingAlert, ...] = MIXED
    quiet: QuietHours | None = NIGHT
    imm: Importance | None = None
    send_empty: bool = False
    # Expected:
    send: tuple[int, ...] = ()
    urgent: bool = False
    scheduled: bool = False
    heartbeat: bool = False
    next: datetime | None = None


CASES = {
    # `immediate`: everything now; in quiet hours only urgent alerts; never a heartbeat.
    "immediate sends everything": Case(NOON, "immediate", send=(1, 2, 3)),
    "immediate in quiet hours sends only urgent": Case(
        LATE, "immediate", imm=HIGH, send=(3,), urgent=True
    ),
    "immediate in quiet hours holds non-urgent": Case(LATE, "immediate", pending=QUIET_ONES),
    "immediate at the end of quiet hours sends the rest": Case(
        DAWN, "immediate", pending=QUIET_ONES, send=(1, 2)
    ),
    "immediate sends no heartbeat": Case(NOON, "immediate", pending=(), send_empty=True),
    # A new subscription starts its clock; only at-once alerts go.
    "new subscription starts the clock": Case(NOON, send=(3,), urgent=True, next=TOMORROW_8),
    "new subscription sends its threshold at once": Case(
        NOON, imm=HIGH, send=(2, 3), urgent=True, next=TOMORROW_8
    ),
    "new subscription in quiet hours: urgent only": Case(
        LATE, imm=HIGH, send=(3,), urgent=True, next=TOMORROW_8
    ),
    "new subscription with nothing at once": Case(NOON, pending=QUIET_ONES, next=TOMORROW_8),
    # Not due: at-once alerts only, next_digest_at kept.
    "not due: normal and high wait": Case(
        NOON, next_at=TOMORROW_8, pending=QUIET_ONES, next=TOMORROW_8
    ),
    "not due: urgent goes": Case(NOON, next_at=TOMORROW_8, send=(3,), urgent=True, next=TOMORROW_8),
    "not due: high goes at or above the threshold": Case(
        NOON, next_at=TOMORROW_8, imm=HIGH, send=(2, 3), urgent=True, next=TOMORROW_8
    ),
    "not due: threshold normal sends everything": Case(
        NOON, next_at=TOMORROW_8, imm=NORMAL, send=(1, 2, 3), urgent=True, next=TOMORROW_8
    ),
    "not due, quiet hours: the threshold waits, urgent goes": Case(
        LATE, next_at=TOMORROW_8, imm=NORMAL, send=(3,), urgent=True, next=TOMORROW_8
    ),
    "not due, quiet hours over: the threshold goes": Case(
        DAWN, next_at=TOMORROW_8, imm=HIGH, send=(2, 3), urgent=True, next=TOMORROW_8
    ),
    # Due: the scheduled digest takes everything and advances the clock.
    "due: the digest sends everything": Case(
        TODAY_8, next_at=TODAY_8, send=(1, 2, 3), scheduled=True, next=TOMORROW_8
    ),
    "overdue by three days: one digest": Case(
        NOON,
        next_at=utc(2026, 1, 7, 8),
        send=(1, 2, 3),
        scheduled=True,
        next=TOMORROW_8,
    ),
    "due in quiet hours: deferred to their end": Case(
        utc(2026, 1, 11, 6),
        "daily 06:00",
        next_at=utc(2026, 1, 11, 6),
        send=(3,),
        urgent=True,
        next=DAWN,
    ),
    "deferred digest fires at the end of quiet hours, next slot is the normal one": Case(
        DAWN,
        "daily 06:00",
        next_at=DAWN,
        send=(1, 2, 3),
        scheduled=True,
        next=utc(2026, 1, 12, 6),
    ),
    "overdue into quiet hours: deferred once": Case(
        LATE, next_at=utc(2026, 1, 7, 8), pending=QUIET_ONES, next=DAWN
    ),
    "no quiet hours: due late at night goes": Case(
        LATE,
        next_at=TOMORROW_8 - timedelta(days=1),
        quiet=None,
        send=(1, 2, 3),
        scheduled=True,
        next=TOMORROW_8,
    ),
    "hourly due in quiet hours: deferred": Case(
        LATE, "hourly", next_at=LATE, pending=QUIET_ONES, next=DAWN
    ),
    "hourly resumes its grid after quiet hours": Case(
        DAWN,
        "hourly",
        next_at=DAWN,
        pending=QUIET_ONES,
        send=(1, 2),
        scheduled=True,
        next=DAWN + timedelta(hours=1),
    ),
    # Heartbeats: only when due, nothing pending and send_empty.
    "due, nothing pending, send_empty: heartbeat": Case(
        TODAY_8,
        next_at=TODAY_8,
        pending=(),
        send_empty=True,
        scheduled=True,
        heartbeat=True,
        next=TOMORROW_8,
    ),
    "due, nothing pending, no send_empty: the clock still advances": Case(
        TODAY_8, next_at=TODAY_8, pending=(), scheduled=True, next=TOMORROW_8
    ),
    "due with alerts: no heartbeat": Case(
        TODAY_8,
        next_at=TODAY_8,
        pending=QUIET_ONES,
        send_empty=True,
        send=(1, 2),
        scheduled=True,
        next=TOMORROW_8,
    ),
    "not due: no heartbeat": Case(
        NOON, next_at=TOMORROW_8, pending=(), send_empty=True, next=TOMORROW_8
    ),
    "new subscription: no heartbeat": Case(NOON, pending=(), send_empty=True, next=TOMORROW_8),
    "due in quiet hours: no heartbeat": Case(
        LATE, next_at=LATE, pending=(), send_empty=True, next=DAWN
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rules(case: Case) -> None:
    got = plan(
        case.now,
        case.spec,
        next_at=case.next_at,
        pending=case.pending,
        quiet=case.quiet,
        imm=case.imm,
        send_empty=case.send_empty,
    )
    assert (got.send, got.urgent, got.scheduled, got.heartbeat, got.next_digest_at) == (
        case.send,
        case.urgent,
        case.scheduled,
        case.heartbeat,
        case.next,
    )
    assert got.sends_message is (bool(case.send) or case.heartbeat)
    assert got.next_digest_at is None or got.next_digest_at.tzinfo is UTC


def test_reasons_are_short_and_say_why() -> None:
    assert plan(LATE, next_at=LATE, pending=QUIET_ONES).reason == (
        "digest due, quiet hours until 07:00 Europe/London"
    )
    assert plan(LATE, "immediate", next_at=None).reason == (
        "quiet hours until 07:00 Europe/London, 2 waiting; 1 sent at once"
    )
    assert plan(TODAY_8, next_at=TODAY_8).reason == "due"
    assert plan(TODAY_8, next_at=TODAY_8, pending=(), send_empty=True).reason == "due, heartbeat"
    assert plan(NOON, next_at=None, pending=()).reason == (
        "schedule started, first digest 2026-01-11 08:00 Europe/London"
    )
    assert plan(NOON, next_at=TOMORROW_8).reason == (
        "next digest 2026-01-11 08:00 Europe/London; 1 sent at once"
    )


def test_quiet_hours_end_is_shown_in_the_subscription_zone() -> None:
    # 07:00 EST is 12:00 UTC; the reason shows the local time.
    got = plan(utc(2026, 1, 10, 4), "immediate", next_at=None, zone=NEW_YORK)
    assert got.reason.startswith("quiet hours until 07:00 America/New_York")


def test_an_out_of_schedule_send_leaves_the_rest_for_the_digest() -> None:
    first = plan(NOON, next_at=TOMORROW_8)
    assert (first.send, first.urgent, first.next_digest_at) == ((3,), True, TOMORROW_8)
    left = tuple(a for a in MIXED if a.queue_id not in first.send)
    digest = plan(TOMORROW_8, next_at=first.next_digest_at, pending=left)
    assert (digest.send, digest.scheduled, digest.urgent) == ((1, 2), True, False)


def test_naive_clocks_are_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        plan(datetime(2026, 1, 10, 12), next_at=None)
    with pytest.raises(ValueError, match="next_digest_at must be timezone-aware"):
        plan(NOON, next_at=datetime(2026, 1, 10, 8))


@pytest.mark.parametrize(
    ("now", "deferred_to"),
    [
        # daily 06:30 London: the slot falls in quiet hours that end at 07:00 local, whose
        # UTC instant moves with the change.
        (utc(2026, 3, 29, 5, 30), utc(2026, 3, 29, 6)),  # 06:30 BST -> 07:00 BST
        (utc(2026, 10, 25, 6, 30), utc(2026, 10, 25, 7)),  # 06:30 GMT -> 07:00 GMT
    ],
)
def test_deferral_to_the_end_of_quiet_hours_across_dst(
    now: datetime, deferred_to: datetime
) -> None:
    due = plan(now, "daily 06:30", next_at=now, pending=QUIET_ONES)
    assert (due.send, due.scheduled, due.next_digest_at) == ((), False, deferred_to)
    later = plan(deferred_to, "daily 06:30", next_at=deferred_to, pending=QUIET_ONES)
    assert later.scheduled and later.send == (1, 2)
    local = later.next_digest_at.astimezone(ZoneInfo(LONDON)) if later.next_digest_at else None
    assert local is not None and local.time() == time(6, 30)
    assert local.date() == deferred_to.date() + timedelta(days=1)


@pytest.mark.parametrize(
    ("quiet", "sent", "next_at"),
    [
        # Quiet from 01:30 starts when the clock jumps (01:00 UTC); the 01:30 slot, read as
        # 02:30 BST, is inside and waits for 06:00 BST, as the 01:30 slot does every day.
        ("01:30-06:00", (), utc(2026, 3, 29, 5)),
        # Quiet until 01:30 ends at the jump; the slot at 02:30 BST is after it and goes.
        ("23:00-01:30", (1, 2), utc(2026, 3, 30, 0, 30)),
    ],
)
def test_a_slot_and_a_quiet_edge_in_the_same_gap(
    quiet: str, sent: tuple[int, ...], next_at: datetime
) -> None:
    slot = utc(2026, 3, 29, 1, 30)  # daily 01:30 London on the spring-forward day
    got = plan(slot, "daily 01:30", next_at=slot, pending=QUIET_ONES, quiet=QuietHours.parse(quiet))
    assert (got.send, got.scheduled, got.next_digest_at) == (sent, bool(sent), next_at)


# -- simulated weeks: a fake clock, plan_send's own next_digest_at fed back ---------------

IMPORTANCE_CYCLE = (NORMAL, HIGH, NORMAL, URGENT, NORMAL, NORMAL, HIGH)


@dataclass
class Run:
    """What a simulation saw: each tick's plan, and when each alert arrived and left."""

    zone: str
    plans: list[tuple[datetime, SendPlan]] = field(default_factory=list)
    arrived: dict[int, tuple[datetime, Importance]] = field(default_factory=dict)
    sent: dict[int, datetime] = field(default_factory=dict)
    sent_by: dict[int, SendPlan] = field(default_factory=dict)

    def scheduled(self) -> list[datetime]:
        return [t for t, p in self.plans if p.scheduled]

    def local(self, t: datetime) -> datetime:
        return t.astimezone(ZoneInfo(self.zone))


def simulate(
    spec: str,
    zone: str,
    start: datetime,
    days: int,
    *,
    step: timedelta = timedelta(minutes=5),
    quiet: QuietHours | None = NIGHT,
    imm: Importance | None = HIGH,
    send_empty: bool = False,
    every: timedelta = timedelta(minutes=37),
) -> Run:
    """Tick from `start` for `days`; an alert arrives every `every`, importance cycling."""
    schedule = parse_schedule(spec, zone)
    run = Run(zone)
    pending: list[PendingAlert] = []
    next_at: datetime | None = None
    next_alert, alert_id = start, 0
    now = start
    while now < start + timedelta(days=days):
        while next_alert <= now:
            alert_id += 1
            importance = IMPORTANCE_CYCLE[alert_id % len(IMPORTANCE_CYCLE)]
            pending.append(PendingAlert(alert_id, importance))
            run.arrived[alert_id] = (next_alert, importance)
            next_alert += every
        got = plan_send(
            now,
            schedule,
            next_digest_at=next_at,
            pending=pending,
            quiet=quiet,
            zone=zone,
            immediate_importance=imm,
            send_empty=send_empty,
        )
        run.plans.append((now, got))
        for queue_id in got.send:
            assert queue_id not in run.sent, "an alert was sent twice"
            run.sent[queue_id] = now
            run.sent_by[queue_id] = got
        pending = [a for a in pending if a.queue_id not in got.send]
        next_at = got.next_digest_at
        now += step
    return run


def in_night(t: datetime, zone: str) -> bool:
    """22:00-07:00 read straight off the wall clock (no DST change touches its ends)."""
    shown = t.astimezone(ZoneInfo(zone)).time()
    return shown >= time(22) or shown < time(7)


WEEKS = [
    pytest.param(LONDON, date(2026, 3, 25), id="london-spring"),
    pytest.param(LONDON, date(2026, 10, 21), id="london-autumn"),
    pytest.param(NEW_YORK, date(2026, 3, 4), id="new-york-spring"),
    pytest.param(NEW_YORK, date(2026, 10, 28), id="new-york-autumn"),
]


def local_midnight(zone: str, day: date) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(("zone", "first_day"), WEEKS)
def test_a_week_of_daily_digests_across_dst(zone: str, first_day: date) -> None:
    run = simulate("daily 08:00", zone, local_midnight(zone, first_day), days=7)
    days = [run.local(t).date() for t in run.scheduled()]
    # Exactly one scheduled digest per local day, at 08:00 on the wall clock.
    assert days == [first_day + timedelta(days=i) for i in range(7)]
    assert {run.local(t).time() for t in run.scheduled()} == {time(8)}
    for queue_id, (arrived, importance) in run.arrived.items():
        sent = run.sent.get(queue_id)
        if importance is URGENT:  # at once, night or day
            assert sent is not None and sent - arrived < timedelta(minutes=5)
            assert run.sent_by[queue_id].urgent
        elif importance is HIGH:  # at once, but never in quiet hours
            waited = [t for t, _ in run.plans if arrived <= t < (sent or run.plans[-1][0])]
            assert all(in_night(t, zone) for t in waited)
            assert sent is None or not in_night(sent, zone)
        elif sent is not None:  # only in the scheduled digest
            assert run.sent_by[queue_id].scheduled
        else:  # still waiting: arrived after the last digest
            assert arrived > run.scheduled()[-1]
    assert not any(p.heartbeat for _, p in run.plans)


@pytest.mark.parametrize(("zone", "first_day"), WEEKS)
def test_a_slot_inside_quiet_hours_fires_once_at_their_end(zone: str, first_day: date) -> None:
    run = simulate(
        "daily 06:00", zone, local_midnight(zone, first_day), days=7, step=timedelta(minutes=1)
    )
    scheduled = run.scheduled()
    assert [run.local(t).date() for t in scheduled] == [
        first_day + timedelta(days=i) for i in range(7)
    ]
    # Deferred to 07:00 every day, DST or not; and the stored next time goes back to the
    # normal 06:00 slot of the following day, not to 07:00.
    assert {run.local(t).time() for t in scheduled} == {time(7)}
    for t, p in run.plans:
        if p.scheduled and p.next_digest_at is not None:
            following = run.local(p.next_digest_at)
            assert following.time() == time(6)
            assert following.date() == run.local(t).date() + timedelta(days=1)
    # Nothing that could wait went out in quiet hours.
    assert all(not in_night(t, zone) for t, p in run.plans if p.send and not p.urgent)


@pytest.mark.parametrize(("zone", "first_day"), WEEKS)
def test_heartbeats_once_a_day_when_nothing_is_pending(zone: str, first_day: date) -> None:
    # Alerts arrive so rarely that most digests are empty.
    run = simulate(
        "daily 08:00",
        zone,
        local_midnight(zone, first_day),
        days=7,
        send_empty=True,
        every=timedelta(days=2, hours=3),
    )
    scheduled = [(t, p) for t, p in run.plans if p.scheduled]
    assert [run.local(t).date() for t, _ in scheduled] == [
        first_day + timedelta(days=i) for i in range(7)
    ]
    # Each day's digest carries alerts or is a heartbeat, never both, never neither.
    assert all(p.heartbeat is not bool(p.send) for _, p in scheduled)
    assert sum(p.heartbeat for _, p in scheduled) >= 4
    assert all(p.scheduled for _, p in run.plans if p.heartbeat)


@pytest.mark.parametrize("step", [timedelta(minutes=7), timedelta(minutes=13)])
@pytest.mark.parametrize(("zone", "first_day"), WEEKS)
def test_ticks_that_miss_the_slot_still_send_once_a_day(
    zone: str, first_day: date, step: timedelta
) -> None:
    run = simulate("daily 08:00", zone, local_midnight(zone, first_day), days=7, step=step)
    scheduled = run.scheduled()
    assert [run.local(t).date() for t in scheduled] == [
        first_day + timedelta(days=i) for i in range(7)
    ]
    # The first tick at or after 08:00 local sends it.
    for t in scheduled:
        slot = datetime.combine(run.local(t).date(), time(8), ZoneInfo(zone))
        assert timedelta(0) <= t - slot < step


@pytest.mark.parametrize(("zone", "first_day"), WEEKS)
def test_every_2h_with_quiet_hours_across_dst(zone: str, first_day: date) -> None:
    run = simulate("every 2h", zone, local_midnight(zone, first_day), days=7)
    scheduled = run.scheduled()
    assert not any(in_night(t, zone) for t in scheduled)
    # Outside quiet hours the digests are exactly 2 h apart in UTC; across a night, the next
    # one is at the end of quiet hours (07:00 local), then the epoch-aligned grid resumes.
    for a, b in itertools.pairwise(scheduled):
        if run.local(b).time() == time(7):
            assert in_night(b - timedelta(minutes=5), zone)
        elif run.local(a).time() == time(7):
            assert b - a <= timedelta(hours=2)
            assert b == parse_schedule("every 2h").next_after(a)
        else:
            assert b - a == timedelta(hours=2)
    # One morning digest a day.
    mornings = [t for t in scheduled if run.local(t).time() == time(7)]
    assert [run.local(t).date() for t in mornings] == [
        first_day + timedelta(days=i) for i in range(7)
    ]


@pytest.mark.parametrize(("zone", "first_day"), WEEKS)
def test_immediate_holds_non_urgent_alerts_through_the_night(zone: str, first_day: date) -> None:
    run = simulate("immediate", zone, local_midnight(zone, first_day), days=7)
    assert not run.scheduled()
    last_tick = run.plans[-1][0]
    for queue_id, (arrived, importance) in run.arrived.items():
        sent = run.sent.get(queue_id)
        if importance is URGENT or not in_night(arrived, zone):
            assert sent is not None and sent - arrived < timedelta(minutes=5)
        elif sent is None:  # the last night: still waiting when the run ends
            assert all(in_night(t, zone) for t, _ in run.plans if arrived <= t <= last_tick)
        else:
            # Held until the first tick at 07:00 local.
            assert run.local(sent).time() == time(7)
            assert sent - arrived < timedelta(hours=10)
