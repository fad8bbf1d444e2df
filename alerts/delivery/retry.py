"""When to try a failed delivery again. Pure: no I/O, the clock and the randomness are passed in.

Exponential backoff: 30 s, 1 min, 2 min, 4 min ... capped at 1 h, each scaled by a random
factor in [0.8, 1.2] (still capped) so deliveries that failed together do not retry together.
A destination's `Retry-After` is honoured when it asks for longer than the backoff.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
# A Retry-After longer than this is treated as this: a typo or a hostile server must not
# park a delivery for weeks.
MAX_RETRY_AFTER = timedelta(days=1)
JITTER = 0.2
DEFAULT_MAX_ATTEMPTS = 10


def next_attempt(
    now: datetime,
    attempts: int,
    *,
    retry_after: float | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after `attempts` failed attempts, or None when the delivery is dead.

    `attempts` counts the attempts made so far, including the one that just failed (0 is
    treated as 1). `retry_after` is seconds the destination asked us to wait.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if attempts < 0:
        raise ValueError("attempts must not be negative")
    if attempts >= max_attempts:
        return None
    return now + backoff_delay(attempts, retry_after=retry_after, rng=rng)


def backoff_delay(
    attempts: int, *, retry_after: float | None = None, rng: random.Random | None = None
) -> timedelta:
    """The wait before the next attempt (see the module docstring)."""
    n = max(attempts, 1)
    # Cap the exponent first: 2**1000 seconds would overflow timedelta.
    nominal = min(BASE_DELAY * (1 << min(n - 1, 32)), MAX_DELAY)
    unit = rng.random() if rng is not None else random.random()
    factor = 1 + JITTER * (2 * unit - 1)
    delay = min(nominal * factor, MAX_DELAY)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_RETRY_AFTER))
    return delay
