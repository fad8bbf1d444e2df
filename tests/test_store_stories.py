"""The store's side of stories: edits as revisions, update alerts, tombstones, feed habits."""

from __future__ import annotations

from dataclasses import replace

from alerts.dedup.identity import identify, lookup_keys
from alerts.domain import AlertKind, Item, ItemUpdate, Match, NewItem
from alerts.store import Store
from tests.test_store import HOUR, T0, feed_state, poll, synced


def article(guid: str, title: str, *, story: str = "s1", link: str | None = None) -> Item:
    return Item(
        feed="ofac",
        guid=guid,
        link=link or f"https://news.example/{guid}",
        title=title,
        summary=f"{title}. Officials announced the measures today.",
    )


def matched(it: Item, *terms: str, watchlist: str = "russia") -> tuple[Match, ...]:
    return tuple(
        Match(watchlist=watchlist, term=t, field="title", start=0, end=len(t), snippet=it.title)
        for t in terms
    )


def new(it: Item, *terms: str, story: str = "s1") -> NewItem:
    identity = replace(identify(it), story_key=story)
    return NewItem(it, identity, matched(it, *terms))


def edit(store: Store, item_id: int, it: Item, *terms: str) -> tuple[int, int]:
    outcome = store.record_poll(
        "ofac",
        now=T0 + HOUR,
        next_poll_at=T0 + 2 * HOUR,
        url="https://ofac.example/rss",
        etag=None,
        last_modified=None,
        items=[],
        updates=[ItemUpdate(item_id, it, identify(it), matched(it, *terms))],
    )
    return outcome.updated, outcome.queued


def test_edit_is_a_revision_and_only_gained_matches_alert(store: Store) -> None:
    synced(store)
    first = article("a", "Sanctions on Rosneft")
    assert poll(store, "ofac", [new(first, "Rosneft")]) == (1, 1)
    [stored] = store.items("ofac")

    # Edited wording, same matches: a new revision, no alert.
    reworded = replace(first, title="Sanctions imposed on Rosneft")
    assert edit(store, stored.id, reworded, "Rosneft") == (1, 0)
    [now_stored] = store.items("ofac")
    assert now_stored.title == "Sanctions imposed on Rosneft" and now_stored.revision == 2
    assert [r[:2] for r in store.revisions(stored.id)] == [(1, "Sanctions on Rosneft")]

    # A new name added to the story: an "update" alert carrying the new match.
    grown = replace(first, title="Sanctions imposed on Rosneft and Russia's central bank")
    assert edit(store, stored.id, grown, "Rosneft", "Russia") == (1, 1)
    queue = store.queue("ops")
    assert [(q.kind, q.revision) for q in queue] == [(AlertKind.NEW, 1), (AlertKind.UPDATE, 3)]
    [entry, *_] = [e for e in store.pending_entries("ops") if e.kind is AlertKind.UPDATE]
    assert {m.term for m in entry.matches} == {"Rosneft", "Russia"}
    assert [r[0] for r in store.revisions(stored.id)] == [1, 2]


def test_edit_reaching_a_new_subscription_is_new_for_it(store: Store) -> None:
    synced(store)
    first = article("a", "Sanctions on Rosneft")
    poll(store, "ofac", [new(first, "Rosneft")])
    [stored] = store.items("ofac")
    iran = replace(first, title="Sanctions on Rosneft and an Iran shipper")
    change = ItemUpdate(
        stored.id,
        iran,
        identify(iran),
        matched(iran, "Rosneft") + matched(iran, "Iran", watchlist="iran"),
    )
    outcome = store.record_poll(
        "ofac",
        now=T0 + HOUR,
        next_poll_at=T0 + HOUR,
        url="u",
        etag=None,
        last_modified=None,
        items=[],
        updates=[change],
    )
    assert outcome.queued == 1
    assert [(q.subscription, q.kind) for q in store.queue("iran-desk")] == [
        ("iran-desk", AlertKind.NEW)
    ]


def test_identity_lookup_finds_every_form_and_tombstones(store: Store) -> None:
    synced(store)
    first = article("a", "Sanctions on Rosneft")
    poll(store, "ofac", [new(first, "Rosneft")])
    [stored] = store.items("ofac")
    known, dead = store.identity_lookup("ofac", lookup_keys([first]))
    assert [k.item_id for k in known] == [stored.id] and dead == set()
    # Found by its link alone (the feed changed its guids) and by its content hash.
    moved = replace(first, guid="other")
    known, _ = store.identity_lookup("ofac", lookup_keys([moved]))
    assert [k.item_id for k in known] == [stored.id]

    assert store.delete_items([stored.id], now=T0 + HOUR) == 1
    assert store.items("ofac") == [] and store.queue("ops") == []
    known, dead = store.identity_lookup("ofac", lookup_keys([first]))
    identity = identify(first)
    assert known == [] and dead == {identity.guid_key, identity.link_key}


def test_prune_keeps_pending_alerts_and_leaves_tombstones(store: Store) -> None:
    synced(store)
    old = article("old", "Sanctions on Rosneft")
    unmatched = article("x", "Weather report")
    poll(store, "ofac", [new(old, "Rosneft"), new(unmatched, story="s2")])
    # The matched item's alert is still pending: only the unmatched one goes.
    assert store.prune(T0 + HOUR, now=T0 + HOUR) == 1
    assert [i.title for i in store.items("ofac")] == ["Sanctions on Rosneft"]
    _, dead = store.identity_lookup("ofac", lookup_keys([unmatched]))
    assert identify(unmatched).guid_key in dead


def test_feed_habits_anomalies_and_boilerplate_are_kept(store: Store) -> None:
    synced(store)
    for n in range(3):
        store.record_poll(
            "ofac",
            now=T0 + n * HOUR,
            next_poll_at=T0 + (n + 1) * HOUR,
            url="u",
            etag=None,
            last_modified=None,
            items=[],
            guids_unreliable=True,
            anomalies=["2 different items share one of the feed's guids (x)"],
            boilerplate=[f"k{n}", "k0"],
        )
    state = feed_state(store, "ofac")
    assert state.guids_unreliable and not state.links_unreliable
    assert len(state.anomalies) == 1 and state.anomalies[0].endswith("guids (x)")
    assert state.boilerplate == frozenset({"k0", "k1", "k2"})


def test_story_points_and_url_lookup(store: Store) -> None:
    synced(store)
    fp = {"v": 1, "anything": "kept as given"}
    one = replace(new(article("a", "Sanctions on Rosneft"), "Rosneft"), fingerprint=fp)
    two = new(article("b", "Another"), story="s2")  # no fingerprint: not a story point
    poll(store, "ofac", [one, two])
    points = store.story_points(since=T0 - HOUR)
    assert [(p.story_key, p.fingerprint) for p in points] == [("s1", fp)]
    assert store.story_points(since=T0 - HOUR, after_id=points[0].item_id) == []
    assert store.stories_by_url(["url:news.example/a", "url:nowhere"]) == {
        "url:news.example/a": "s1"
    }
