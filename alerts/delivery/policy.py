"""What a subscription sends now: the pure decision behind every digest tick.

`plan_send` takes the clock, the parsed schedule, the stored `next_digest_at`, the pending
alerts (queue id and importance) and the subscription's quiet hours, and returns a `SendPlan`:
which queued alerts go out now, whether that is the scheduled digest or an out-of-schedule
send, whether a "nothing new" heartbeat goes, and what `next_digest_at` to store. It is called
on every tick; nothing here remembers anything between calls.

Rules, in order:

1. Urgent alerts always go at once: any schedule, quiet hours or not.
2. Alerts at or above the subscription's `immediate_importance` go at once outside quiet
   hours; inside they wait, and go at once on the first tick after quiet hours end.
3. `immediate` schedule: everything pending goes at once; during quiet hours only urgent
   alerts go and the rest wait for its end. It has no `next_digest_at` and no heartbeat.
4. Other schedules, `next_digest_at` None (a new subscription): start the clock at
   `schedule.next_after(now)`; only the at-once alerts of rules 1-2 go.
5. Due (`next_digest_at <= now`) inside quiet hours: the digest is deferred, storing the end
   of quiet hours as `next_digest_at`; only urgent alerts go.
6. Due outside quiet hours: the scheduled digest sends everything pending, or a heartbeat
   when nothing is pending and `send_empty` is set, and `next_digest_at` becomes
   `schedule.next_after(now)`. The next slot counts from now, so a service that was down
   across several slots sends one digest, not one per missed slot.
7. Not due: only the at-once alerts of rules 1-2 go; `next_digest_at` is kept. The scheduled
   digest still fires at its time with whatever is left.

Pure: no I/O and no clock of its own; every datetime in and out is aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alerts.delivery.schedule import QuietHours, Schedule
from alerts.domain import Importance


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """A queued alert as far as the decision needs it."""

    queue_id: int
    importance: Importance


@dataclass(frozen=True, slots=True)
class SendPlan:
    """What to do for one subscription now.

    `urgent` marks an out-of-schedule send: alerts that could not wait for the scheduled
    digest (or, for an `immediate` schedule, urgent alerts sent during quiet hours).
    `scheduled` marks the scheduled digest itself, which advances `next_digest_at`; a due
    digest with nothing to send and no heartbeat is still `scheduled`, with `send` empty.
    """

    send: tuple[int, ...]  # queue ids to put into a digest now, in the order given
    heartbeat: bool  # send an empty "nothing new" digest now
    urgent: bool
    scheduled: bool
    next_digest_at: datetime | None  # what to store as the next scheduled time
    reason: str  # short and human, for logs

    @property
    def sends_message(self) -> bool:
        """Whether a message goes out now (alerts or a heartbeat)."""
        return bool(self.send) or self.heartbeat


def plan_send(
    now: datetime,
    schedule: Schedule,
    *,
    next_digest_at: datetime | None,
    pending: Sequence[PendingAlert],
    quiet: QuietHours | None,
    zone: str,
    immediate_importance: Importance | None,
    send_empty: bool,
) -> SendPlan:
    """Decide what the subscription sends at `now` (see the module docstring for the rules)."""
    for name, value in (("now", now), ("next_digest_at", next_digest_at)):
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    now = now.astimezone(UTC)
    if next_digest_at is not None:
        next_digest_at = next_digest_at.astimezone(UTC)
    quiet_until = quiet.end_after(now, zone) if quiet is not None else now
    in_quiet = quiet_until > now
    held = f"quiet hours until {_local_hhmm(quiet_until, zone)} {zone}"

    everything = tuple(a.queue_id for a in pending)
    # Inside quiet hours only urgent alerts may break it; outside, the subscription's own
    # threshold lets more through.
    floor = Importance.URGENT
    if immediate_importance is not None and not in_quiet:
        floor = immediate_importance
    at_once = tuple(a.queue_id for a in pending if a.importance.rank >= floor.rank)

    def out_of_schedule(next_at: datetime | None, why: str) -> SendPlan:
        if at_once:
            why = f"{why}; {len(at_once)} sent at once"
        return SendPlan(
            send=at_once,
            heartbeat=False,
            urgent=bool(at_once),
            scheduled=False,
            next_digest_at=next_at,
            reason=why,
        )

    if schedule.immediate:
        if in_quiet:
            waiting = len(everything) - len(at_once)
            return out_of_schedule(None, f"{held}, {waiting} waiting" if waiting else held)
        why = "immediate" if everything else "immediate, nothing pending"
        return SendPlan(
            everything,
            heartbeat=False,
            urgent=False,
            scheduled=False,
            next_digest_at=None,
            reason=why,
        )

    if next_digest_at is None:
        first = schedule.next_after(now)
        return out_of_schedule(first, f"schedule started, first digest {_show(first, zone)}")
    if next_digest_at > now:
        return out_of_schedule(next_digest_at, f"next digest {_show(next_digest_at, zone)}")
    if in_quiet:
        # Deferred, not skipped: the digest fires once, when quiet hours end.
        return out_of_schedule(quiet_until, f"digest due, {held}")
    heartbeat = not everything and send_empty
    why = "due" if everything else ("due, heartbeat" if heartbeat else "due, nothing pending")
    return SendPlan(
        everything,
        heartbeat=heartbeat,
        urgent=False,
        scheduled=True,
        next_digest_at=schedule.next_after(now),
        reason=why,
    )


def _local_hhmm(instant: datetime, zone: str) -> str:
    return f"{instant.astimezone(ZoneInfo(zone)):%H:%M}"


def _show(instant: datetime | None, zone: str) -> str:
    if instant is None:
        return "never"
    return f"{instant.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"
