"""When a feed is polled next: its interval after success, jittered backoff after errors."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from alerts.sources.backoff import MAX_BACKOFF, next_poll_after_error, next_poll_after_success

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=30)
DAY = timedelta(hours=24)


def wait(error_count: int, *, seed: int = 0, **kwargs: float | None) -> timedelta:
    rng = random.Random(seed)
    return next_poll_after_error(NOW, INTERVAL, error_count, rng=rng, **kwargs) - NOW


def test_success_waits_one_interval() -> None:
    assert next_poll_after_success(NOW, INTERVAL) == NOW + INTERVAL
    assert next_poll_after_success(NOW, timedelta(hours=2)) == NOW + timedelta(hours=2)


def test_max_backoff_is_a_day() -> None:
    assert MAX_BACKOFF == DAY


def test_first_error_waits_one_interval() -> None:
    assert wait(1) == INTERVAL


@pytest.mark.parametrize("errors", [2, 3, 4, 5, 6, 8])
def test_jitter_stays_in_bounds(errors: int) -> None:
    ceiling = min(INTERVAL * 2 ** (errors - 1), DAY)
    waits = [wait(errors, seed=seed) for seed in range(200)]

    assert all(max(INTERVAL, ceiling / 2) <= w <= ceiling for w in waits)
    assert len(set(waits)) > 50  # really jittered: feeds failing together spread out


def test_grows_with_error_count() -> None:
    # The same seed draws the same factor, so only the exponent differs.
    waits = [wait(n, seed=7) for n in range(1, 8)]

    assert waits == sorted(waits)
    assert waits[-1] > waits[1] * 4


def test_same_seed_same_wait() -> None:
    assert wait(5, seed=42) == wait(5, seed=42)


@pytest.mark.parametrize("errors", [0, 1, 2, 10, 30, 1000, 10**9])
def test_stays_between_the_interval_and_a_day(errors: int) -> None:
    for seed in range(20):
        assert INTERVAL <= wait(errors, seed=seed) <= DAY


def test_interval_longer_than_a_day_is_capped() -> None:
    long = timedelta(days=3)
    for errors in (1, 2, 5):
        assert next_poll_after_error(NOW, long, errors, rng=random.Random(1)) - NOW == DAY


def test_many_errors_sit_near_the_cap() -> None:
    assert all(DAY / 2 <= wait(50, seed=seed) <= DAY for seed in range(50))


def test_retry_after_is_a_floor() -> None:
    assert wait(1, retry_after=7200) == timedelta(hours=2)
    assert wait(2, retry_after=5 * 3600, seed=3) == timedelta(hours=5)
    # A short Retry-After never shortens the backoff.
    assert wait(1, retry_after=5) == INTERVAL
    assert wait(4, retry_after=1, seed=3) == wait(4, seed=3)


@pytest.mark.parametrize("retry_after", [0, -10, None])
def test_retry_after_absent_or_meaningless(retry_after: float | None) -> None:
    assert wait(3, retry_after=retry_after, seed=9) == wait(3, seed=9)


def test_retry_after_is_capped_at_a_day() -> None:
    assert wait(1, retry_after=10**9) == DAY
    assert wait(6, retry_after=3 * 86400, seed=2) == DAY


def test_works_without_a_given_rng() -> None:
    delay = next_poll_after_error(NOW, INTERVAL, 3) - NOW
    assert INTERVAL <= delay <= INTERVAL * 4
