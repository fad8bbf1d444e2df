"""URL canonicalisation and item identity."""

from __future__ import annotations

import pytest

from alerts.dedup import canonical_url, content_hash, identify, resolve, url_story_key
from alerts.domain import Identity, Item


def item(
    guid: str | None = None,
    link: str | None = None,
    title: str = "Title",
    summary: str = "Summary",
) -> Item:
    return Item(feed="f", guid=guid, link=link, title=title, summary=summary)


# --- canonical_url: one rule per case -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host case; http collapsed to https
        ("HTTP://Example.COM/Path", "https://example.com/Path"),
        ("https://example.com/a", "https://example.com/a"),
        # www. stripped (documented choice), but not other labels
        ("https://www.example.com/a", "https://example.com/a"),
        ("https://www2.example.com/a", "https://www2.example.com/a"),
        # trailing dot of the host
        ("https://example.com./a", "https://example.com/a"),
        # default ports dropped, others kept
        ("http://example.com:80/a", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8080/a", "https://example.com:8080/a"),
        # fragment dropped
        ("https://example.com/a#comments", "https://example.com/a"),
        # tracking parameters dropped, the rest sorted
        (
            "https://example.com/a?utm_source=x&b=2&fbclid=y&a=1&UTM_Medium=z",
            "https://example.com/a?a=1&b=2",
        ),
        (
            "https://example.com/a?gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5&igshid=6"
            "&yclid=7&_ga=8&ref_src=9&cmpid=10&ocid=11&at_medium=12&at_campaign=13",
            "https://example.com/a",
        ),
        ("https://example.com/a?utm%5Fsource=x&id=3", "https://example.com/a?id=3"),
        ("https://example.com/a?&&id=3&", "https://example.com/a?id=3"),
        ("https://example.com/a?", "https://example.com/a"),
        # trailing slash removed, root kept
        ("https://example.com/news/story/", "https://example.com/news/story"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com", "https://example.com/"),
        # percent-encoding: unreserved decoded, escapes upper-cased, needed escapes added
        ("https://example.com/%7Euser/%61bc", "https://example.com/~user/abc"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        (
            "https://example.com/новости",
            "https://example.com/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
        ),
        ("https://example.com/%d0%bd", "https://example.com/%D0%BD"),
        ("https://example.com/?q=a%20b", "https://example.com/?q=a%20b"),
        # international host names as IDNA
        ("https://Пример.рф/a", "https://xn--e1afmkfd.xn--p1ai/a"),
        # surrounding whitespace
        ("  https://example.com/a \n", "https://example.com/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "/news/story-1",
        "story.html",
        "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        "tag:example.com,2024:1",
        "mailto:press@example.com",
        "http://[::1",  # unparseable
        "https://example.com:99999/a",  # bad port
        "https:///nohost",
        "",
    ],
)
def test_invalid_or_relative_urls_returned_unchanged(url: str) -> None:
    assert canonical_url(f"  {url} ") == url


def test_canonical_url_is_idempotent() -> None:
    url = "HTTP://www.Example.com:80/a%7e/b/?utm_source=x&z=1&a=%2f#frag"
    once = canonical_url(url)
    assert once == "https://example.com/a~/b?a=%2F&z=1"
    assert canonical_url(once) == once


def test_url_story_key_drops_scheme() -> None:
    assert url_story_key("http://www.example.com/a/?utm_source=x") == "example.com/a"
    assert url_story_key("https://example.com/a") == "example.com/a"
    assert url_story_key("/relative") == "/relative"


# --- identify ---------------------------------------------------------------------------------


def test_identity_from_guid() -> None:
    identity = identify(item(guid=" abc-123 ", link="https://example.com/a"))
    assert identity.key == "guid:abc-123"
    assert identity.story_key == "url:example.com/a"


def test_guid_url_http_https_flip_gives_same_key() -> None:
    a = identify(item(guid="http://example.com/story/1"))
    b = identify(item(guid="https://www.example.com/story/1/?utm_source=rss"))
    assert a.key == b.key == "guid:https://example.com/story/1"


def test_identity_falls_back_to_canonical_link() -> None:
    identity = identify(item(guid="  ", link="HTTP://Example.com/a/?utm_medium=rss#x"))
    assert identity.key == "link:https://example.com/a"
    assert identity.story_key == "url:example.com/a"


def test_identity_falls_back_to_content_hash() -> None:
    identity = identify(item(title="Sanctions  on\nRussia", summary="Text"))
    assert identity.key.startswith("hash:")
    assert len(identity.key) == len("hash:") + 32
    # Without a page, the item's story is its own (per feed): see test_identity.py.
    assert identity.story_key == f"item:{identity_feed()}:{identity.key}"
    # Case and whitespace do not change the hash; content does.
    assert identify(item(title="SANCTIONS on Russia", summary=" text ")).key == identity.key
    assert identify(item(title="Sanctions on Iran", summary="Text")).key != identity.key


def identity_feed() -> str:
    return item(title="x", summary="").feed


def test_content_hash_keeps_title_and_summary_apart() -> None:
    assert content_hash("a b", "c") != content_hash("a", "b c")


def test_same_story_in_two_feeds_shares_story_key_not_key() -> None:
    a = identify(item(guid="feed-a-1", link="https://www.example.com/a?utm_source=a"))
    b = identify(item(guid="feed-b-9", link="http://example.com/a/"))
    assert a.key != b.key
    assert a.story_key == b.story_key == "url:example.com/a"


# --- repeats within one poll (resolve) ---------------------------------------------------------


def unique_items(items: list[Item]) -> list[tuple[Item, Identity]]:
    """The poll's items as `resolve` keeps them on an empty store: later repeats dropped."""
    return [(r.item, r.identity) for r in resolve(items, []).items]


def test_unique_items_drops_later_repeats_keeps_first() -> None:
    first = item(guid="g1", title="first")
    repeat = item(guid="g1", title="edited later in the same feed")
    other = item(guid="g2")
    flipped = item(guid="https://example.com/s")
    flipped_again = item(guid="http://example.com/s")
    result = unique_items([first, other, repeat, flipped, flipped_again])
    assert [i for i, _ in result] == [first, other, flipped]
    assert [ident.key for _, ident in result] == [
        "guid:g1",
        "guid:g2",
        "guid:https://example.com/s",
    ]


def test_unique_items_empty() -> None:
    assert unique_items([]) == []


def test_very_long_keys_are_bounded_but_stay_distinct() -> None:
    from alerts.dedup.identity import MAX_KEY_LENGTH

    base = "https://news.example/story?" + "x" * 5000
    a = identify(Item(feed="f", guid=base + "1", link=base + "1", title="t", summary=""))
    b = identify(Item(feed="f", guid=base + "2", link=base + "2", title="t", summary=""))
    assert len(a.key) <= MAX_KEY_LENGTH and len(a.story_key) <= MAX_KEY_LENGTH
    assert a.key != b.key and a.story_key != b.story_key
