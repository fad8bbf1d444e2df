"""Digest building, subject, payload round trip, and the retry schedule."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from alerts.delivery.digest import (
    build_digest,
    digest_from_payload,
    digest_subject,
    digest_to_payload,
)
from alerts.delivery.retry import (
    BASE_DELAY,
    MAX_DELAY,
    backoff_delay,
    next_attempt,
)
from alerts.domain import Digest, Match, PendingEntry, Subscription
from alerts.retry_after import parse_retry_after

NOW = datetime(2026, 11, 29, 8, 15, tzinfo=UTC)


def match(watchlist: str, term: str, snippet: str | None = None, field: str = "title") -> Match:
    return Match(watchlist, term, field, 0, len(term), snippet or f"... {term} ...")


def entry(
    item_id: int,
    *matches: Match,
    title: str | None = None,
    published: datetime | None = None,
    fetched_at: datetime = NOW,
    link: str | None = "https://example.org/news/{id}",
    also_in: tuple[str, ...] = (),
) -> PendingEntry:
    return PendingEntry(
        queue_id=item_id * 10,
        item_id=item_id,
        feed="ofac",
        feed_title="OFAC Recent Actions",
        title=title or f"Story {item_id}",
        link=link.format(id=item_id) if link else None,
        summary="",
        published=published,
        fetched_at=fetched_at,
        matches=matches,
        also_in=also_in,
    )


def sample_digest(n_russia: int = 2, n_iran: int = 1, *, title: str | None = None) -> Digest:
    """A digest used by the channel tests: russia and iran sections, published times set."""
    entries = [
        entry(
            i,
            match("russia", "Rosneft", "Treasury sanctions Rosneft subsidiaries in Dubai"),
            title=title or f"Treasury designates Rosneft network {i}",
            published=NOW - timedelta(hours=i),
            also_in=("eu-council",) if i == 1 else (),
        )
        for i in range(1, n_russia + 1)
    ]
    entries += [
        entry(
            100 + i,
            match("iran", "IRGC", "New designations target IRGC procurement", "summary"),
            title=f"IRGC procurement network {i}",
            published=NOW - timedelta(minutes=30 * i),
        )
        for i in range(1, n_iran + 1)
    ]
    sub = Subscription("compliance-team", ("russia", "iran"), "email-team")
    return build_digest(sub, entries, idempotency_key="dg-7f3a", now=NOW, timezone="Europe/London")


SUB = Subscription("s", ("russia", "iran", "dprk"), "c")


def test_groups_in_subscription_order_and_omits_empty_sections() -> None:
    d = build_digest(
        SUB,
        [entry(1, match("iran", "IRGC")), entry(2, match("russia", "Rosneft"))],
        idempotency_key="k",
        now=NOW,
    )
    assert [s.watchlist for s in d.sections] == ["russia", "iran"]
    assert [[e.item_id for e in s.entries] for s in d.sections] == [[2], [1]]
    assert d.entry_count == 2


def test_entry_appears_once_under_first_followed_watchlist_with_all_matches() -> None:
    both = entry(1, match("iran", "IRGC"), match("russia", "Rosneft"), match("venezuela", "PDVSA"))
    d = build_digest(SUB, [both], idempotency_key="k", now=NOW)
    assert [s.watchlist for s in d.sections] == ["russia"]
    [only] = d.sections[0].entries
    # Matches from followed watchlists are kept (in their order); others are dropped.
    assert [m.watchlist for m in only.matches] == ["iran", "russia"]


def test_duplicate_queue_rows_for_one_item_are_merged() -> None:
    a = entry(1, match("russia", "Rosneft"))
    b = entry(1, match("iran", "IRGC"))
    d = build_digest(SUB, [a, b, a], idempotency_key="k", now=NOW)
    assert d.entry_count == 1
    assert {m.term for m in d.sections[0].entries[0].matches} == {"Rosneft", "IRGC"}


def test_entries_without_followed_matches_are_left_out() -> None:
    d = build_digest(SUB, [entry(1, match("venezuela", "PDVSA"))], idempotency_key="k", now=NOW)
    assert d.sections == ()
    assert digest_subject(d) == "Sanctions alerts: 0 new stories"


def test_newest_first_using_published_else_fetched_at() -> None:
    m = match("russia", "Rosneft")
    entries = [
        entry(1, m, published=NOW - timedelta(hours=3)),
        entry(2, m, published=None, fetched_at=NOW - timedelta(hours=1)),
        entry(3, m, published=NOW - timedelta(minutes=5)),
        entry(4, m, published=NOW - timedelta(hours=2)),
    ]
    d = build_digest(SUB, entries, idempotency_key="k", now=NOW)
    assert [e.item_id for e in d.sections[0].entries] == [3, 2, 4, 1]


def test_rejects_naive_now_and_unknown_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        build_digest(SUB, [], idempotency_key="k", now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="Mars/Olympus"):
        build_digest(SUB, [], idempotency_key="k", now=NOW, timezone="Mars/Olympus")


def test_subject() -> None:
    assert digest_subject(sample_digest(2, 1)) == "Sanctions alerts: 3 new stories (russia, iran)"
    assert digest_subject(sample_digest(1, 0)) == "Sanctions alerts: 1 new story (russia)"
    many = Subscription("s", tuple("abcde"), "c")
    d = build_digest(
        many, [entry(i, match(w, "x")) for i, w in enumerate("abcde")], idempotency_key="k", now=NOW
    )
    assert digest_subject(d) == "Sanctions alerts: 5 new stories (a, b, c, +2 more)"


def test_payload_round_trips_exactly_through_json() -> None:
    d = sample_digest(3, 2, title="Ünïcode & <b>tags</b> — “quotes”")
    payload = digest_to_payload(d)
    assert payload["schema_version"] == 1
    back = digest_from_payload(json.loads(json.dumps(payload)))
    assert back == d
    assert back.created_at.tzinfo is not None
    assert digest_to_payload(back) == payload


def test_payload_keeps_missing_link_and_published() -> None:
    d = build_digest(
        SUB,
        [entry(1, match("russia", "x"), link=None, published=None)],
        idempotency_key="k",
        now=NOW,
    )
    assert digest_from_payload(json.loads(json.dumps(digest_to_payload(d)))) == d


def test_payload_rejects_unknown_version_and_garbage() -> None:
    payload = digest_to_payload(sample_digest())
    with pytest.raises(ValueError, match="schema_version"):
        digest_from_payload({**payload, "schema_version": 2})
    with pytest.raises(ValueError, match="malformed"):
        digest_from_payload({"schema_version": 1})


# -- retry schedule --------------------------------------------------------------------


class FixedRng(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_backoff_doubles_from_30s_and_caps_at_an_hour() -> None:
    mid = FixedRng(0.5)  # jitter factor exactly 1
    delays = [backoff_delay(n, rng=mid) for n in range(1, 10)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert delays[-1] == MAX_DELAY
    assert backoff_delay(500, rng=mid) == MAX_DELAY  # no overflow


def test_jitter_stays_within_20_percent_and_under_cap() -> None:
    rng = random.Random(1)
    for n in range(1, 12):
        nominal = min(BASE_DELAY * 2 ** (n - 1), MAX_DELAY)
        d = backoff_delay(n, rng=rng)
        assert nominal * 0.8 <= d <= min(nominal * 1.2, MAX_DELAY)
    assert backoff_delay(3, rng=FixedRng(0.0)) == timedelta(seconds=96)


def test_next_attempt_honours_retry_after_and_gives_up() -> None:
    mid = FixedRng(0.5)
    assert next_attempt(NOW, 1, rng=mid) == NOW + timedelta(seconds=30)
    assert next_attempt(NOW, 1, retry_after=600, rng=mid) == NOW + timedelta(minutes=10)
    assert next_attempt(NOW, 5, retry_after=1, rng=mid) == NOW + timedelta(minutes=8)
    # An absurd Retry-After is capped at a day.
    assert next_attempt(NOW, 1, retry_after=10**9, rng=mid) == NOW + timedelta(days=1)
    assert next_attempt(NOW, 9, max_attempts=10, rng=mid) is not None
    assert next_attempt(NOW, 10, max_attempts=10, rng=mid) is None
    assert next_attempt(NOW, 3, max_attempts=3) is None
    with pytest.raises(ValueError):
        next_attempt(NOW.replace(tzinfo=None), 1)


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Sun, 29 Nov 2026 08:16:00 GMT", NOW) == 60.0
    assert parse_retry_after("Sun, 29 Nov 2026 08:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None
