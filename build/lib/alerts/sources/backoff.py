"""When to poll a feed next: its interval after success, exponential backoff after errors."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_BACKOFF = timedelta(hours=24)


def next_poll_after_success(now: datetime, interval: timedelta) -> datetime:
    """The next regular poll."""
    return now + interval


def next_poll_after_error(
    now: datetime,
    interval: timedelta,
    error_count: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """Back off exponentially from the feed's interval, with jitter, honouring Retry-After.

    The n-th consecutive error waits `interval * 2**(n-1)` (capped at 24 h), scaled by a random
    factor in [0.5, 1.0] so that feeds failing together do not retry in lockstep, but never
    less than the interval itself. A server's Retry-After (capped at 24 h) is a floor.
    """
    rng = rng or random.Random()
    exponent = max(0, min(error_count - 1, 20))
    ceiling = min(interval * (2**exponent), MAX_BACKOFF)
    delay = max(interval, ceiling * rng.uniform(0.5, 1.0)) if error_count > 1 else interval
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_BACKOFF))
    return now + min(delay, MAX_BACKOFF)
