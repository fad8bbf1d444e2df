"""Self-service subscriptions and opt-outs on real databases (SQLite, and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from alerts.delivery.digest import digest_to_payload
from alerts.domain import (
    ChannelConfig,
    ChannelKind,
    Digest,
    Feed,
    Identity,
    Item,
    Match,
    NewItem,
    Subscription,
    SubscriptionOrigin,
    Watchlist,
)
from alerts.store import Store
from alerts.store.models import DeliveryRow, OptOutRow, SubscriptionRow
from alerts.store.subscribers import (
    CONFIRM_LIMIT,
    CONFIRM_WINDOW,
    MAX_ADDRESS_LENGTH,
    ConfirmOutcome,
    Preferences,
    SubscribeResult,
    Subscribers,
    SubscriptionStatus,
    UnsubscribeOutcome,
    self_subscription_name,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ANN = "ann@example.org"
ANN_SUB = f"self:{ANN}"

FEEDS = [Feed(name="ofac", url="https://ofac.example/rss", interval=timedelta(minutes=30))]
WATCHLISTS = [
    Watchlist(name="russia", terms=("Rosneft",)),
    Watchlist(name="iran", terms=("Iran",)),
]
CHANNELS = [
    ChannelConfig(
        name="ops-mail", kind=ChannelKind.EMAIL, to=("ops@example.org", "bo@example.org")
    ),
    ChannelConfig(name="hook", kind=ChannelKind.WEBHOOK, url="https://hook.example/x"),
]
SUBSCRIPTIONS = [
    Subscription(name="ops", watchlists=("russia",), channel="ops-mail"),
    Subscription(name="iran-desk", watchlists=("iran",), channel="hook", schedule="daily 08:00"),
]


@pytest.fixture
def subscribers(store: Store) -> Subscribers:
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    return Subscribers(store)


def subscribe(
    subscribers: Subscribers,
    email: str = ANN,
    watchlists: tuple[str, ...] = ("russia",),
    *,
    schedule: str = "daily 08:00",
    timezone: str = "Europe/London",
    now: datetime = T0,
) -> Any:
    address = email.strip().lower()
    message = {"to": address, "subscription": self_subscription_name(address), "confirm_url": "u"}
    return subscribers.subscribe(
        email, watchlists, schedule=schedule, timezone=timezone, now=now, confirm_message=message
    )


def confirmations(store: Store) -> list[DeliveryRow]:
    with store.transaction("read confirmations", write=False) as session:
        stmt = select(DeliveryRow).where(DeliveryRow.kind == "confirm").order_by(DeliveryRow.id)
        return list(session.scalars(stmt))


def subscription_rows(store: Store) -> list[SubscriptionRow]:
    with store.transaction("read subscriptions", write=False) as session:
        return list(session.scalars(select(SubscriptionRow).order_by(SubscriptionRow.name)))


# -- subscribe ------------------------------------------------------------------------


def test_subscribe_writes_the_subscription_and_its_confirmation_together(
    subscribers: Subscribers, store: Store
) -> None:
    outcome = subscribe(subscribers, "  Ann@Example.ORG ", ("russia", "iran"))

    assert outcome.result is SubscribeResult.CREATED
    assert outcome.subscription == ANN_SUB
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None
    assert view.origin is SubscriptionOrigin.SELF
    assert view.status is SubscriptionStatus.PENDING
    assert (view.email, view.channel) == (ANN, "")
    assert view.preferences == Preferences(("russia", "iran"), "daily 08:00", "Europe/London")
    assert view.requested is None and view.confirmed_at is None
    assert view.created_at == T0

    [row] = confirmations(store)
    assert row.id == outcome.delivery_id
    assert row.channel == f"email:{ANN}"
    assert (row.status, row.attempts, row.next_attempt_at, row.created_at) == ("pending", 0, T0, T0)
    assert row.digest_id is None
    assert len(row.idempotency_key) == 32
    assert row.message is not None
    assert row.message["to"] == ANN and row.message["confirm_url"] == "u"
    assert row.message["preferences"] == {
        "watchlists": ["russia", "iran"],
        "schedule": "daily 08:00",
        "timezone": "Europe/London",
    }
    sub_row = next(r for r in subscription_rows(store) if r.name == ANN_SUB)
    assert row.subscription_id == sub_row.id
    assert sub_row.enabled and sub_row.next_digest_at is None


def test_a_failed_outbox_write_leaves_no_subscription(
    subscribers: Subscribers, store: Store
) -> None:
    # A message that cannot be stored fails the flush of the outbox row: the subscription
    # written before it in the same transaction must go too.
    with pytest.raises(TypeError):
        subscribers.subscribe(
            ANN,
            ("russia",),
            schedule="immediate",
            timezone="UTC",
            now=T0,
            confirm_message={"bad": object()},
        )
    assert subscribers.subscription_status(ANN_SUB) is None
    assert confirmations(store) == []


def test_subscribe_refuses_what_the_caller_must_check(subscribers: Subscribers) -> None:
    with pytest.raises(ValueError, match="address"):
        subscribe(subscribers, "not an address")
    with pytest.raises(ValueError, match="watchlist"):
        subscribe(subscribers, ANN, ())


def test_subscribing_again_while_pending_resends_with_the_new_preferences(
    subscribers: Subscribers, store: Store
) -> None:
    subscribe(subscribers)
    later = T0 + timedelta(minutes=5)
    outcome = subscribe(subscribers, ANN, ("iran",), schedule="immediate", now=later)

    assert outcome.result is SubscribeResult.RESENT
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.PENDING
    assert view.preferences == Preferences(("iran",), "immediate", "Europe/London")
    assert [r.created_at for r in confirmations(store)] == [T0, later]
    assert len({r.idempotency_key for r in confirmations(store)}) == 2
    assert len(subscription_rows(store)) == 3  # ops, iran-desk and one for Ann


def test_subscribing_again_while_active_changes_nothing_until_confirmed(
    subscribers: Subscribers,
) -> None:
    subscribe(subscribers)
    assert subscribers.confirm(ANN_SUB, ANN, now=T0) is ConfirmOutcome.CONFIRMED
    later = T0 + timedelta(hours=1)

    outcome = subscribe(subscribers, ANN, ("iran",), schedule="immediate", now=later)

    assert outcome.result is SubscribeResult.CHANGE_REQUESTED
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.ACTIVE
    assert view.preferences == Preferences(("russia",), "daily 08:00", "Europe/London")
    assert view.requested == Preferences(("iran",), "immediate", "Europe/London")

    assert subscribers.confirm(ANN_SUB, ANN, now=later) is ConfirmOutcome.UPDATED
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None
    assert view.preferences == Preferences(("iran",), "immediate", "Europe/London")
    assert view.requested is None and view.confirmed_at == later
    assert subscribers.confirm(ANN_SUB, ANN, now=later) is ConfirmOutcome.ALREADY_ACTIVE


def test_confirmations_are_limited_per_address(subscribers: Subscribers, store: Store) -> None:
    for minute in range(CONFIRM_LIMIT):
        outcome = subscribe(subscribers, now=T0 + timedelta(minutes=minute))
        assert outcome.result in (SubscribeResult.CREATED, SubscribeResult.RESENT)

    limited = subscribe(subscribers, ANN, ("iran",), now=T0 + timedelta(hours=1))

    assert limited.result is SubscribeResult.RATE_LIMITED
    assert limited.delivery_id is None
    assert len(confirmations(store)) == CONFIRM_LIMIT
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.preferences.watchlists == ("russia",)  # nothing changed
    # Another address is not affected, and the window moves on.
    assert subscribe(subscribers, "bo@example.org").result is SubscribeResult.CREATED
    again = subscribe(subscribers, now=T0 + CONFIRM_WINDOW + timedelta(minutes=1))
    assert again.result is SubscribeResult.RESENT


def test_concurrent_requests_for_one_address_make_one_subscription(
    subscribers: Subscribers, store: Store
) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda _: subscribe(subscribers), range(4)))
    assert sum(o.result is SubscribeResult.RATE_LIMITED for o in outcomes) == 4 - CONFIRM_LIMIT
    assert [r.name for r in subscription_rows(store)].count(ANN_SUB) == 1
    assert len(confirmations(store)) == CONFIRM_LIMIT


def test_a_configured_subscription_with_the_same_name_is_left_alone(
    store: Store, subscribers: Subscribers
) -> None:
    taken = Subscription(name=ANN_SUB, watchlists=("russia",), channel="ops-mail")
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, [*SUBSCRIPTIONS, taken], T0)
    assert subscribe(subscribers).result is SubscribeResult.CONFLICT
    assert confirmations(store) == []


def test_the_longest_address_fits_every_column(subscribers: Subscribers, store: Store) -> None:
    address = f"{'a' * 64}@{'b' * 60}.{'c' * (MAX_ADDRESS_LENGTH - 64 - 1 - 60 - 1)}"
    assert len(address) == MAX_ADDRESS_LENGTH
    outcome = subscribe(subscribers, address)
    assert outcome.result is SubscribeResult.CREATED
    assert outcome.subscription == f"self:{address}"
    assert subscribers.confirm(outcome.subscription, address, now=T0) is ConfirmOutcome.CONFIRMED
    with pytest.raises(ValueError, match="at most"):
        subscribe(subscribers, "x" + address)


# -- confirm --------------------------------------------------------------------------


def test_confirm_activates_a_pending_subscription_once(subscribers: Subscribers) -> None:
    subscribe(subscribers)
    later = T0 + timedelta(minutes=3)
    assert subscribers.confirm(ANN_SUB, "ANN@example.org", now=later) is ConfirmOutcome.CONFIRMED
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.ACTIVE
    assert view.confirmed_at == later
    again = T0 + timedelta(minutes=4)
    assert subscribers.confirm(ANN_SUB, ANN, now=again) is ConfirmOutcome.ALREADY_ACTIVE
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.confirmed_at == later


def test_confirm_refuses_what_it_does_not_know(subscribers: Subscribers) -> None:
    subscribe(subscribers)
    assert subscribers.confirm(ANN_SUB, "bo@example.org", now=T0) is ConfirmOutcome.UNKNOWN
    assert subscribers.confirm("self:nobody@example.org", "nobody@example.org", now=T0) is (
        ConfirmOutcome.UNKNOWN
    )
    assert subscribers.confirm("ops", "ops@example.org", now=T0) is ConfirmOutcome.UNKNOWN
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.PENDING


def test_confirm_after_unsubscribing_says_so(subscribers: Subscribers) -> None:
    subscribe(subscribers)
    subscribers.confirm(ANN_SUB, ANN, now=T0)
    subscribers.unsubscribe(ANN_SUB, ANN, now=T0)
    assert subscribers.confirm(ANN_SUB, ANN, now=T0) is ConfirmOutcome.UNSUBSCRIBED
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.UNSUBSCRIBED


# -- unsubscribe ----------------------------------------------------------------------


def test_unsubscribe_own_subscription_is_idempotent(subscribers: Subscribers) -> None:
    subscribe(subscribers)
    subscribers.confirm(ANN_SUB, ANN, now=T0)
    first = T0 + timedelta(days=1)

    assert subscribers.unsubscribe(ANN_SUB, "Ann@Example.org", now=first) is (
        UnsubscribeOutcome.UNSUBSCRIBED
    )
    assert subscribers.unsubscribe(ANN_SUB, ANN, now=first + timedelta(hours=1)) is (
        UnsubscribeOutcome.ALREADY_UNSUBSCRIBED
    )
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None
    assert view.status is SubscriptionStatus.UNSUBSCRIBED
    assert view.unsubscribed_at == first
    assert subscribers.opted_out(ANN_SUB) == frozenset()


def test_unsubscribing_leaves_queued_alerts_in_place(
    subscribers: Subscribers, store: Store
) -> None:
    subscribe(subscribers)
    subscribers.confirm(ANN_SUB, ANN, now=T0)
    item = Item(feed="ofac", guid="1", link="https://ofac.example/1", title="Rosneft", summary="")
    match = Match(watchlist="russia", term="Rosneft", field="title", start=0, end=7, snippet="")
    store.record_poll(
        "ofac",
        now=T0,
        next_poll_at=T0 + timedelta(minutes=30),
        url="https://ofac.example/rss",
        etag=None,
        last_modified=None,
        items=[NewItem(item=item, identity=Identity(key="1", story_key="s1"), matches=(match,))],
    )
    queued = store.queue(ANN_SUB)
    assert len(queued) == 1

    subscribers.unsubscribe(ANN_SUB, ANN, now=T0)

    assert store.queue(ANN_SUB) == queued


def test_resubscribing_after_unsubscribing_needs_a_new_confirmation(
    subscribers: Subscribers,
) -> None:
    subscribe(subscribers)
    subscribers.confirm(ANN_SUB, ANN, now=T0)
    subscribers.unsubscribe(ANN_SUB, ANN, now=T0)

    outcome = subscribe(subscribers, ANN, ("iran",), now=T0 + timedelta(days=2))

    assert outcome.result is SubscribeResult.CREATED
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.PENDING
    assert view.preferences.watchlists == ("iran",)
    assert subscribers.confirm(ANN_SUB, ANN, now=T0 + timedelta(days=2)) is (
        ConfirmOutcome.CONFIRMED
    )


def test_channel_recipients_opt_out_of_one_subscription(
    subscribers: Subscribers, store: Store
) -> None:
    assert subscribers.unsubscribe("ops", "Ops@Example.org", now=T0) is (
        UnsubscribeOutcome.UNSUBSCRIBED
    )
    assert subscribers.unsubscribe("ops", "ops@example.org", now=T0) is (
        UnsubscribeOutcome.ALREADY_UNSUBSCRIBED
    )
    assert subscribers.opted_out("ops") == frozenset({"ops@example.org"})
    assert subscribers.opted_out("iran-desk") == frozenset()
    assert subscribers.opted_out("no-such-subscription") == frozenset()
    with store.transaction("read opt-outs", write=False) as session:
        [row] = session.scalars(select(OptOutRow))
        assert (row.address, row.created_at) == ("ops@example.org", T0)
    view = subscribers.subscription_status("ops")
    assert view is not None and view.status is SubscriptionStatus.ACTIVE  # others still get it


def test_unsubscribe_refuses_what_it_does_not_know(subscribers: Subscribers) -> None:
    subscribe(subscribers)
    assert subscribers.unsubscribe("nope", ANN, now=T0) is UnsubscribeOutcome.UNKNOWN
    # Ann's own subscription with someone else's address.
    assert subscribers.unsubscribe(ANN_SUB, "bo@example.org", now=T0) is (
        UnsubscribeOutcome.UNKNOWN
    )
    # A webhook subscription has no email recipients.
    assert subscribers.unsubscribe("iran-desk", ANN, now=T0) is UnsubscribeOutcome.UNKNOWN
    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.PENDING


# -- reads ----------------------------------------------------------------------------


def test_digest_payload_by_idempotency_key(subscribers: Subscribers, store: Store) -> None:
    digest = Digest(subscription="ops", idempotency_key="d-1", created_at=T0, sections=())
    payload = digest_to_payload(digest)
    store.create_delivery(
        "ops",
        channel="ops-mail",
        idempotency_key="d-1",
        queue_ids=[],
        payload=payload,
        now=T0,
        next_digest_at=None,
    )
    outcome = subscribe(subscribers)
    assert subscribers.digest_payload("d-1") == payload
    assert subscribers.digest_payload("d-2") is None
    [confirm_row] = confirmations(store)
    assert confirm_row.id == outcome.delivery_id
    assert subscribers.digest_payload(confirm_row.idempotency_key) is None  # no digest


def test_subscription_status_of_a_channel_subscription(subscribers: Subscribers) -> None:
    view = subscribers.subscription_status("ops")
    assert view is not None
    assert view.origin is SubscriptionOrigin.CONFIG
    assert view.status is SubscriptionStatus.ACTIVE
    assert (view.email, view.channel) == ("", "ops-mail")
    assert subscribers.subscription_status("nope") is None


# -- the config sync ------------------------------------------------------------------


def test_a_config_sync_keeps_a_self_service_unsubscribe(
    subscribers: Subscribers, store: Store
) -> None:
    subscribe(subscribers)
    subscribers.confirm(ANN_SUB, ANN, now=T0)
    subscribers.unsubscribe(ANN_SUB, ANN, now=T0)

    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0 + timedelta(hours=1))

    view = subscribers.subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.UNSUBSCRIBED


def test_a_config_sync_keeps_a_channel_opt_out(subscribers: Subscribers, store: Store) -> None:
    subscribers.unsubscribe("ops", "ops@example.org", now=T0)
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0 + timedelta(hours=1))
    assert subscribers.opted_out("ops") == frozenset({"ops@example.org"})


def test_a_config_sync_keeps_a_configured_address_unsubscribed(
    subscribers: Subscribers, store: Store
) -> None:
    analyst = Subscription(name="analyst", watchlists=("russia",), email=ANN)
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, [*SUBSCRIPTIONS, analyst], T0)
    assert subscribers.unsubscribe("analyst", ANN, now=T0) is UnsubscribeOutcome.UNSUBSCRIBED

    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, [*SUBSCRIPTIONS, analyst], T0)

    view = subscribers.subscription_status("analyst")
    assert view is not None and view.status is SubscriptionStatus.UNSUBSCRIBED


def test_a_config_sync_leaves_self_service_subscriptions_enabled(
    subscribers: Subscribers, store: Store
) -> None:
    subscribe(subscribers)
    subscribers.confirm(ANN_SUB, ANN, now=T0)

    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0 + timedelta(hours=1))

    row = next(r for r in subscription_rows(store) if r.name == ANN_SUB)
    assert row.enabled
