"""What the console's pages show, computed from the store's records. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alerts.domain import Feed, FeedState

# A source is stale when it has had no success for longer than this many intervals.
STALE_INTERVALS = 3


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of the sources health table."""

    name: str
    title: str
    kind: str
    issuer: str
    enabled: bool
    interval: timedelta
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str
    error_count: int
    item_count: int
    next_poll_at: datetime | None
    stale: bool


def is_stale(state: FeedState, now: datetime) -> bool:
    """No success for more than STALE_INTERVALS intervals (a disabled source never is).

    A source that never succeeded is stale once it has failed; a new one is not yet.
    """
    if not state.enabled:
        return False
    if state.last_success_at is None:
        return state.error_count > 0
    return now - state.last_success_at > STALE_INTERVALS * state.interval


def source_rows(
    states: Iterable[FeedState], feeds: Sequence[Feed], now: datetime
) -> list[SourceRow]:
    """The health table's rows, by name; kind and issuer come from the config when declared."""
    declared = {f.name: f for f in feeds}
    rows = []
    for state in sorted(states, key=lambda s: s.name):
        feed = declared.get(state.name)
        rows.append(
            SourceRow(
                name=state.name,
                title=state.title,
                kind=feed.kind.value if feed is not None else "",
                issuer=feed.issuer if feed is not None else "",
                enabled=state.enabled,
                interval=state.interval,
                last_success_at=state.last_success_at,
                last_error_at=state.last_error_at,
                last_error=state.last_error or "",
                error_count=state.error_count,
                item_count=state.item_count,
                next_poll_at=state.next_poll_at,
                stale=is_stale(state, now),
            )
        )
    return rows


def format_time(value: datetime | None) -> str:
    """'2026-03-01 12:00 UTC', or an empty string."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_interval(value: timedelta) -> str:
    """'30 min', '2 h', '1 d 6 h'."""
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    return " ".join(parts)
