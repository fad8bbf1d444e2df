"""Feed bytes to Items, checked against expected JSON written beside each fixture.

Each good fixture `tests/data/feeds/x.ext` has `x.expected.json` next to it listing the Items
it must give (summary_html is checked separately, where it matters). The fixtures imitate the
shapes of the real sources described in /work/shared/SOURCES.md; they are written by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from alerts.domain import Item
from alerts.errors import ParseError
from alerts.matching.snippets import snippet
from alerts.sources.parse import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
CONTENT_TYPES = {
    ".xml": "application/rss+xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
}
# Listed by name (not globbed) so fixtures of other suites in the same folder stay theirs.
GOOD = (
    "eu-council-press.xml",
    "govuk-ofsi.atom",
    "federal-register-ofac.rss",
    "un-press.xml",
    "rdf-1.0.rdf",
    "jsonfeed.json",
    "news-navalny.xml",
    "latin1.xml",
    "relative-links.xml",
    "valid-but-empty.xml",
)


def parse(name: str, body: bytes | None = None, content_type: str | None = None) -> list[Item]:
    path = FEEDS / name
    return parse_feed(
        path.stem,
        path.read_bytes() if body is None else body,
        url=f"https://example.test/feeds/{name}",
        headers={"Content-Type": content_type or CONTENT_TYPES[path.suffix]},
    )


def as_json(item: Item) -> dict[str, Any]:
    return {
        "feed": item.feed,
        "guid": item.guid,
        "link": item.link,
        "title": item.title,
        "summary": item.summary,
        "published": item.published.isoformat() if item.published else None,
        "authors": list(item.authors),
        "tags": list(item.tags),
    }


@pytest.mark.parametrize("name", GOOD)
def test_fixture_gives_the_expected_items(name: str) -> None:
    expected_path = FEEDS / f"{Path(name).stem}.expected.json"
    expected = json.loads(expected_path.read_text(encoding="utf-8"))

    items = parse(name)

    assert [as_json(item) for item in items] == expected
    for item in items:
        assert item.published is None or item.published.tzinfo == UTC
        assert item.title == item.title.strip()
        assert "  " not in item.summary


def test_every_good_fixture_has_its_expected_json() -> None:
    for name in GOOD:
        assert (FEEDS / name).is_file(), name
        assert (FEEDS / f"{Path(name).stem}.expected.json").is_file(), name


def test_govuk_uses_updated_when_there_is_no_published() -> None:
    body = (FEEDS / "govuk-ofsi.atom").read_bytes()
    assert b"<published>" not in body

    first = parse("govuk-ofsi.atom")[0]

    assert first.published == datetime(2026, 11, 24, 16, 5, 12, tzinfo=UTC)
    assert first.guid is not None and first.guid.startswith("tag:www.gov.uk,2005:/government/news/")


def test_rss_guid_that_is_not_a_url_is_kept_as_written() -> None:
    # isPermaLink defaults to true, but "2026-21834" is a document number, not a URL: it must
    # not become a URL under the feed's own address (that changes after a permanent redirect).
    items = parse("federal-register-ofac.rss")

    assert [item.guid for item in items] == ["2026-21834", "2026-21102"]
    moved = parse_feed(
        "federal-register-ofac",
        (FEEDS / "federal-register-ofac.rss").read_bytes(),
        url="https://moved.example/other/path.rss",
        headers={"Content-Type": "application/rss+xml"},
    )
    assert [item.guid for item in moved] == [item.guid for item in items]


def test_relative_links_resolve_against_the_feed_url() -> None:
    first, second = parse("relative-links.xml")

    assert first.link == "https://example.test/notices/2026/12"
    assert second.link == "https://example.test/feeds/notices/2026/13.html"
    assert 'href="https://example.test/notices/2026/12.pdf"' in first.summary_html


def test_latin1_prolog_and_numeric_reference() -> None:
    raw = (FEEDS / "latin1.xml").read_bytes()
    assert "Société".encode("latin-1") in raw  # really latin-1 bytes, not UTF-8
    assert b"&#321;" in raw

    first, second = parse("latin1.xml")

    assert first.title == "Société Générale règle une amende"
    assert "Jürgen Müller" in first.summary
    assert "Łukaszenka" in second.title
    assert "\ufffd" not in first.summary + second.summary


def test_news_summary_html_is_sanitised() -> None:
    (story,) = parse("news-navalny.xml")
    raw = (FEEDS / "news-navalny.xml").read_text(encoding="utf-8")
    assert "<script>" in raw and "onclick=" in raw and "javascript:" in raw

    html = story.summary_html
    assert "<script" not in html and "trackRead" not in html
    assert "onclick" not in html and "javascript:" not in html
    assert '<a href="https://ledger.example/support" rel="noopener noreferrer nofollow">' in html
    assert "trackRead" not in story.summary
    assert "sanctions against Russia" in story.summary
    assert "Alexei Navalny" in story.summary


def test_json_feed_summary_html_keeps_links() -> None:
    first, second = parse("jsonfeed.json")

    assert "<strong>three shipping operators</strong>" in first.summary_html
    assert 'rel="noopener noreferrer nofollow"' in first.summary_html
    assert second.summary_html == ""


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match="not a feed: the server sent an HTML page") as info:
        parse("not-a-feed.html")
    assert info.value.feed == "not-a-feed"


def test_html_page_is_recognised_even_when_labelled_as_xml() -> None:
    with pytest.raises(ParseError, match="not a feed: the server sent an HTML page"):
        parse("not-a-feed.html", content_type="application/rss+xml")


def test_malformed_xml() -> None:
    with pytest.raises(ParseError, match="malformed XML"):
        parse("malformed.xml")


def test_empty_body() -> None:
    assert (FEEDS / "empty.xml").read_bytes() == b""
    with pytest.raises(ParseError, match="empty response body"):
        parse("empty.xml")
    with pytest.raises(ParseError, match="empty response body"):
        parse("empty.xml", body=b" \r\n\t")


def test_valid_feed_without_items_is_an_empty_list() -> None:
    assert parse("valid-but-empty.xml") == []


def test_json_feed_with_a_wrong_version() -> None:
    data = json.loads((FEEDS / "jsonfeed.json").read_text(encoding="utf-8"))
    data["version"] = "https://example.test/not-json-feed/1"

    with pytest.raises(ParseError, match="invalid JSON Feed"):
        parse("jsonfeed.json", body=json.dumps(data).encode())


def test_json_feed_that_is_not_json() -> None:
    with pytest.raises(ParseError, match="invalid JSON Feed"):
        parse("jsonfeed.json", body=b'{"version": "https://jsonfeed.org/version/1.1", "items": [')


NAMES = "<title>Müller and Société Générale</title><description>Łukaszenka’s bank</description>"


def rss_body(encoding_label: str | None) -> str:
    prolog = f' encoding="{encoding_label}"' if encoding_label else ""
    return (
        f'<?xml version="1.0"{prolog}?>\n<rss version="2.0"><channel><title>t</title>'
        "<link>https://wire.example/</link><description>d</description>"
        f'<item><guid isPermaLink="false">x-1</guid>{NAMES}</item></channel></rss>'
    )


@pytest.mark.parametrize(
    ("body", "header"),
    [
        pytest.param(rss_body(None).encode("utf-8"), "windows-1252", id="utf8-bytes-cp1252-header"),
        pytest.param(
            rss_body("utf-8").encode("utf-8"), "windows-1252", id="utf8-prolog-cp1252-header"
        ),
        pytest.param(
            rss_body("windows-1252").replace("Ł", "L").encode("cp1252"),
            "utf-8",
            id="cp1252-bytes-utf8-header",
        ),
        pytest.param(
            rss_body(None).replace("Ł", "L").encode("cp1252"), "utf-8", id="cp1252-no-prolog"
        ),
    ],
)
def test_charset_header_disagreeing_with_the_bytes_still_gives_items(
    body: bytes, header: str
) -> None:
    items = parse_feed(
        "wire",
        body,
        url="https://example.test/feeds/wire.xml",
        headers={"Content-Type": f"application/rss+xml; charset={header}"},
    )

    assert len(items) == 1
    assert items[0].guid == "x-1"
    # The bytes win over a wrong header: names come out right, not as mojibake.
    assert items[0].title == "Müller and Société Générale"
    assert items[0].summary.endswith("ukaszenka’s bank")


def test_full_text_in_the_feed_becomes_content() -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0" '
        b'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
        b"<item><guid>1</guid><title>EU sanctions</title><description>Teaser.</description>"
        b"<content:encoded><![CDATA[<p>Full text naming <b>Rosneft</b>.</p>]]></content:encoded>"
        b"</item><item><guid>2</guid><title>Only a description</title>"
        b"<description>Just this.</description></item></channel></rss>"
    )
    full, short = parse_feed("f", rss, url="https://example.org/feed")
    assert (full.summary, full.content) == ("Teaser.", "Full text naming Rosneft.")
    assert (short.summary, short.content) == ("Just this.", "")
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b'<entry><id>urn:1</id><title>x</title><content type="html">&lt;p&gt;Only content'
        b"&lt;/p&gt;</content></entry></feed>"
    )
    (only,) = parse_feed("f", atom, url="https://example.org/atom")
    assert (only.summary, only.content) == ("Only content", "")
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "t",
        "items": [{"id": "1", "summary": "Teaser.", "content_text": "The whole story."}],
    }
    (item,) = parse_feed("f", json.dumps(feed).encode(), url="https://example.org/feed.json")
    assert (item.summary, item.content) == ("Teaser.", "The whole story.")


def test_summaries_keep_their_paragraphs_and_titles_stay_one_line() -> None:
    (story,) = parse("news-navalny.xml")

    assert story.summary.split("\n") == [
        "Western governments on Thursday announced coordinated sanctions against Russia over "
        "the poisoning and jailing of opposition leader Alexei Navalny.",
        "Support independent journalism: become a member today.",
        "The measures target officials of the prison service and the security services.",
    ]
    for name in GOOD:
        for item in parse(name):
            assert "\n" not in item.title
            for text in (item.summary, item.content):
                # "\n" between paragraphs, single spaces inside them, nothing else.
                assert all(p and p == " ".join(p.split()) for p in text.split("\n") if text)


def test_feed_full_text_keeps_its_paragraphs() -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0" '
        b'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
        b"<item><guid>1</guid><title>EU sanctions</title><description>Teaser.</description>"
        b"<content:encoded><![CDATA[<p>Full text naming <b>Rosneft</b>.</p>\n\n<p>Second "
        b"paragraph.</p><ul><li>Listed: Igor Sechin</li></ul>]]></content:encoded>"
        b"</item></channel></rss>"
    )
    (item,) = parse_feed("f", rss, url="https://example.org/feed")
    assert item.content == "Full text naming Rosneft.\nSecond paragraph.\nListed: Igor Sechin"

    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "t",
        "items": [
            {
                "id": "1",
                "summary": "One teaser line\nwrapped.",
                "content_text": "First paragraph,\nwrapped.\n\nSecond paragraph.",
            }
        ],
    }
    (item,) = parse_feed("f", json.dumps(feed).encode(), url="https://example.org/feed.json")
    assert item.summary == "One teaser line wrapped."
    assert item.content == "First paragraph, wrapped.\nSecond paragraph."


def test_snippets_of_paragraph_text_are_one_line_with_the_right_highlight() -> None:
    (story,) = parse("news-navalny.xml")
    text = story.summary
    start = text.index("Alexei Navalny")
    end = start + len("Alexei Navalny")
    assert "\n" in text[start - 60 : end + 60]  # the window crosses a paragraph break

    shown, (a, b) = snippet(text, start, end)

    assert "\n" not in shown
    assert shown[a:b] == "Alexei Navalny"
    assert "Navalny. Support independent" in shown
