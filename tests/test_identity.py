"""Item identity across publishers' habits: `alerts.dedup.identity.resolve` (pure)."""

from __future__ import annotations

from dataclasses import replace

from alerts.dedup.identity import (
    FeedHabits,
    KnownItem,
    Verdict,
    content_hash,
    identify,
    lookup_keys,
    resolve,
)
from alerts.domain import Item


def item(
    guid: str | None = "g1",
    link: str | None = "https://news.example/a",
    title: str = "Treasury sanctions seven Russian officials over Navalny",
    summary: str = "The United States imposed sanctions on seven senior Russian officials.",
) -> Item:
    return Item(feed="f", guid=guid, link=link, title=title, summary=summary)


def stored(it: Item, item_id: int = 1) -> KnownItem:
    identity = identify(it)
    return KnownItem(
        item_id=item_id,
        key=identity.key,
        guid_key=identity.guid_key,
        link_key=identity.link_key,
        content_hash=identity.content_hash,
        title=it.title,
        summary=it.summary,
    )


def test_key_prefers_guid_then_link_then_hash() -> None:
    assert identify(item()).key == "guid:g1"
    assert identify(item(guid=None)).key == "link:https://news.example/a"
    no_ids = item(guid=None, link=None)
    assert identify(no_ids).key == f"hash:{content_hash(no_ids.title, no_ids.summary)}"
    # Under flagged habits the next form is used.
    assert identify(item(), FeedHabits(guids_unreliable=True)).key.startswith("link:")
    both = FeedHabits(guids_unreliable=True, links_unreliable=True)
    assert identify(item(), both).key.startswith("hash:")


def test_new_same_and_update() -> None:
    original = item()
    first = resolve([original], [])
    assert [r.verdict for r in first.items] == [Verdict.NEW]
    again = resolve([original], [stored(original)])
    assert [r.verdict for r in again.items] == [Verdict.SAME]
    edited = replace(original, title="Treasury sanctions seven Russian officials and a bank")
    result = resolve([edited], [stored(original, 7)])
    assert [r.verdict for r in result.items] == [Verdict.UPDATE]
    assert result.items[0].known is not None and result.items[0].known.item_id == 7
    # Re-cased or re-wrapped text is not an edit.
    recased = replace(original, summary=original.summary.upper() + "  ")
    assert resolve([recased], [stored(original)]).items[0].verdict is Verdict.SAME


def test_one_guid_for_many_items_falls_back_to_links_and_is_reported() -> None:
    """miniflux #4197: a feed repeating one guid must not lose its other items."""
    items = [
        item(guid="same", link="https://news.example/a", title="EU adopts 14th package"),
        item(
            guid="same",
            link="https://news.example/b",
            title="UK sanctions shadow fleet tankers",
            summary="Britain designated twelve vessels carrying Russian crude oil.",
        ),
    ]
    result = resolve(items, [])
    assert [r.verdict for r in result.items] == [Verdict.NEW, Verdict.NEW]
    assert {r.identity.key for r in result.items} == {
        "link:https://news.example/a",
        "link:https://news.example/b",
    }
    assert result.habits.guids_unreliable and not result.habits.links_unreliable
    assert any("share one of the feed's guids" in a for a in result.anomalies)
    # The habit sticks: a later poll with one item keeps using links, without a new report.
    later = resolve([items[0]], [], habits=result.habits)
    assert later.items[0].identity.key == "link:https://news.example/a"
    assert later.anomalies == []


def test_links_shared_by_every_item_fall_back_to_hashes() -> None:
    home = "https://gov.example/"
    items = [
        item(guid=None, link=home, title="Notice 1: designations", summary="First notice."),
        item(guid=None, link=home, title="Notice 2: delisting", summary="Second notice text."),
    ]
    result = resolve(items, [])
    assert result.habits.links_unreliable
    assert all(r.identity.key.startswith("hash:") for r in result.items)
    assert len({r.identity.key for r in result.items}) == 2


def test_a_repeated_entry_within_one_poll_is_not_an_anomaly() -> None:
    result = resolve([item(), item()], [])
    assert len(result.items) == 1 and result.anomalies == []
    assert result.habits == FeedHabits()


def test_changed_guid_with_the_same_link_is_the_same_item() -> None:
    """FreshRSS #5909 / miniflux #3120: a CMS migration rewrites every guid."""
    old = item(guid="old-cms-17")
    new = item(guid="https://news.example/?p=17")
    result = resolve([new], [stored(old, 17)])
    assert result.items[0].verdict is Verdict.SAME
    assert result.items[0].identity.key == "guid:old-cms-17"  # the stored key is kept
    assert any("new guid but the same link" in a for a in result.anomalies)


def test_edited_title_with_a_new_slug_keeps_its_guid() -> None:
    """miniflux #2358: editing a title changes the URL slug; the guid still holds."""
    old = item(link="https://news.example/2024/treasury-sanctions-seven")
    new = replace(
        old,
        link="https://news.example/2024/treasury-sanctions-seven-officials-and-bank",
        title="Treasury sanctions seven Russian officials and a bank",
    )
    result = resolve([new], [stored(old, 3)])
    assert result.items[0].verdict is Verdict.UPDATE
    assert result.habits == FeedHabits()


def test_reused_guid_for_a_different_article_is_a_new_item() -> None:
    old = item(guid="42", link="https://news.example/a")
    reused = item(
        guid="42",
        link="https://news.example/z",
        title="Council extends Belarus measures",
        summary="The Council prolonged restrictive measures against Belarus for a year.",
    )
    result = resolve([reused], [stored(old, 1)])
    assert result.items[0].verdict is Verdict.NEW
    assert result.items[0].identity.key == "link:https://news.example/z"
    assert result.habits.guids_unreliable
    assert any("re-used guid" in a for a in result.anomalies)


def test_same_text_under_new_guid_and_link_is_a_new_item() -> None:
    """Never merged by text alone: two notices titled "Russia-related Designations" with
    their own guids and links are two actions (story clustering joins real copies)."""
    old = item(guid="a", link="https://news.example/a")
    moved = item(guid="b", link="https://news.example/b")
    assert resolve([moved], [stored(old)]).items[0].verdict is Verdict.NEW


def test_a_link_shared_with_a_stored_different_article_is_not_an_edit() -> None:
    """A feed linking every entry to one landing page, seen one entry per poll."""
    landing = "https://gov.example/notices"
    old = item(guid="n-1", link=landing, title="Hezbollah financiers designated")
    new = item(
        guid="n-2",
        link=landing,
        title="Rosneft trading arm designated",
        summary="A trading subsidiary of the oil company was added to the list.",
    )
    result = resolve([new], [stored(old)])
    assert result.items[0].verdict is Verdict.NEW
    assert result.habits.links_unreliable
    # Its story is its own: the shared landing page names no story.
    assert result.items[0].identity.url_key is None
    assert result.items[0].identity.story_key.startswith("item:f:")


def test_items_without_a_page_get_a_story_of_their_own() -> None:
    bare = item(guid=None, link=None, title="Update", summary="")
    other_feed = replace(bare, feed="g")
    assert identify(bare).story_key != identify(other_feed).story_key
    assert identify(item(link="https://news.example/")).url_key is None  # a home page


def test_tombstones_of_unreliable_forms_do_not_kill_later_items() -> None:
    landing = "https://gov.example/notices"
    habits = FeedHabits(links_unreliable=True)
    later = item(guid="n-9", link=landing, title="Another notice")
    result = resolve([later], [], habits=habits, tombstones={f"link:{landing}"})
    assert result.items[0].verdict is Verdict.NEW


def test_two_entries_resolving_to_one_stored_item_give_one_update() -> None:
    old = item(guid="a", link="https://news.example/a")
    first = replace(old, title="Edited once, by the feed's guid")
    second = replace(old, guid="zzz", title="Edited twice, found by the link")
    result = resolve([first, second], [stored(old)])
    assert [r.verdict for r in result.items] == [Verdict.UPDATE]


def test_tombstoned_items_never_come_back() -> None:
    gone = item()
    identity = identify(gone)
    result = resolve([gone], [], tombstones={identity.key})
    assert result.items[0].verdict is Verdict.DELETED
    # Also when the feed has since changed its guid but kept the link.
    renamed = replace(gone, guid="other")
    assert identity.link_key is not None
    assert resolve([renamed], [], tombstones={identity.link_key}).items[0].verdict is (
        Verdict.DELETED
    )


def test_lookup_keys_cover_every_form() -> None:
    it = item()
    keys = lookup_keys([it])
    identity = identify(it)
    assert {identity.guid_key, identity.link_key, f"hash:{identity.content_hash}"} <= keys


def test_long_guids_are_bounded() -> None:
    long_guid = "urn:x:" + "a" * 5000
    identity = identify(item(guid=long_guid))
    assert len(identity.key) <= 512 and identity.key.startswith("guid:urn:x:")
    assert identify(item(guid=long_guid + "b")).key != identity.key
