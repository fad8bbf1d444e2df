"""Article pages to main text, checked against expected JSON written beside each page.

Each page `tests/data/pages/x.ext` (gzipped when `.gz`) has `x.expected.json` next to it:
the URL and Content-Type it is served under, optionally the feed's text for the item, then
either the `error` substring or what the Article must hold: sentences that `must` be in the
text, phrases that must not (`must_not`: navigation, share bars, cookie notes, promo
footers), the canonical URL, the publication time and the title. The pages imitate real
outlets and official sites syndicating one story; they are written by hand.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from alerts.errors import ExtractionError
from alerts.sources.article import MAX_PAGE_CHARS, Article, extract_article
from alerts.sources.text import plain_text

PAGES = Path(__file__).parent / "data" / "pages"
CASES = sorted(path.name.removesuffix(".expected.json") for path in PAGES.glob("*.expected.json"))
# The three outlets that syndicate the Navalny story, each with its own promo footer.
SYNDICATED = ("meridian-navalny", "ledger-navalny", "courier-navalny")
FOOTER_PHRASES = (
    "support independent free thinkers",
    "privacy policy",
    "remind me next month",
    "favour to ask",
    "subscribe to our newsletter",
    "sign up for our",
    "share on facebook",
    "related stories",
    "most viewed",
    "most popular",
    "cookie",
    "all rights reserved",
    "advertisement",
)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def page(name: str) -> bytes:
    (path,) = [p for p in PAGES.glob(f"{name}.*") if not p.name.endswith(".expected.json")]
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAGES / f"{name}.expected.json").read_text("utf-8"))
    return data


def extract(name: str, **overrides: Any) -> Article:
    spec = expected(name)
    arguments: dict[str, Any] = {
        "url": spec["url"],
        "content_type": spec["content_type"],
        "feed_text": spec.get("feed_text", ""),
        "feed": name,
    }
    return extract_article(page(name), **{**arguments, **overrides})


@pytest.mark.parametrize("name", CASES)
def test_page_gives_its_expected_article(name: str) -> None:
    spec = expected(name)

    if "error" in spec:
        with pytest.raises(ExtractionError) as info:
            extract(name)
        assert spec["error"] in info.value.message
        assert info.value.feed == name
        assert info.value.message.startswith(f"article {spec['url']}: ")
        return
    article = extract(name)

    for sentence in spec["must"]:
        assert sentence in article.text, sentence
    leaked = [phrase for phrase in spec["must_not"] if phrase in article.text]
    assert leaked == []
    assert article.canonical_url == spec["canonical_url"]
    assert article.published == datetime.fromisoformat(spec["published"])
    assert article.published.tzinfo == UTC
    assert article.title == spec["title"]


@pytest.mark.parametrize("name", [n for n in CASES if "error" not in expected(n)])
def test_text_is_clean_paragraphs(name: str) -> None:
    article = extract(name)

    paragraphs = article.text.split("\n")
    assert all(p and p == plain_text(p) for p in paragraphs)
    assert CONTROL.search(article.text) is None
    assert CONTROL.search(article.title) is None
    # The headline is the title, not a paragraph of the text.
    assert article.title not in paragraphs


def test_every_page_has_its_expected_json() -> None:
    pages = {p.name.split(".")[0] for p in PAGES.iterdir() if not p.name.endswith(".expected.json")}
    assert pages == set(CASES)
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", SYNDICATED)
def test_no_outlet_footer_survives(name: str) -> None:
    text = extract(name).text.casefold()

    assert [phrase for phrase in FOOTER_PHRASES if phrase in text] == []
    assert "sanctions against russia" in text


def test_a_sanctions_paragraph_with_a_cue_word_survives_at_the_end() -> None:
    # The last paragraph of the story, right before the promo footer, says "subscribe".
    article = extract("meridian-navalny")

    last = article.text.split("\n")[-1]
    assert last.startswith("Under the new restrictions, American banks may not subscribe")


def test_the_same_page_twice_gives_the_same_article() -> None:
    # trafilatura's duplicate filter keeps process-wide state; it must stay off.
    assert extract("ledger-navalny") == extract("ledger-navalny")


def test_the_article_inside_the_page_dates_it_not_a_ticker_above_it() -> None:
    body = page("courier-navalny")
    assert body.index(b"2021-03-02T17:58:00-05:00") < body.index(b"2021-03-02T15:12:00-05:00")

    assert extract("courier-navalny").published == datetime(2021, 3, 2, 20, 12, tzinfo=UTC)


def test_utf8_bytes_win_over_a_legacy_label() -> None:
    article = extract("no-charset", content_type="text/html; charset=windows-1252")

    assert "Łukasz Kowalczyk" in article.text


def html(body: str, head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head>{head}<title>Sanctions notice</title></head>"
        f"<body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<main><article><h1>Sanctions notice</h1>{body}</article></main>"
        f"<footer><a href='/privacy'>Privacy Policy</a></footer></body></html>"
    )


STORY = (
    "<p>The ministry designated three officials of the prison service, including its "
    "director, for the mistreatment of Alexei Navalny in custody.</p>"
    "<p>The measures freeze their assets and bar them from entering the country; banks must "
    "report any funds they hold within ten days, the ministry said.</p>"
)


def test_a_declared_legacy_charset_is_used() -> None:
    russian = "<p>Министерство ввело санкции против трёх сотрудников ФСИН за обращение с Алексеем Навальным в заключении.</p>"
    body = html(STORY + russian).encode("cp1251")

    from_header = extract_article(
        body, url="https://m.example/", content_type="text/html; charset=windows-1251"
    )
    from_meta = extract_article(
        html(STORY + russian, '<meta charset="windows-1251">').encode("cp1251"),
        url="https://m.example/",
    )

    assert "Алексеем Навальным" in from_header.text
    assert from_meta.text == from_header.text


def test_a_utf16_page_with_a_bom() -> None:
    body = html(STORY).encode("utf-16")  # with a byte-order mark

    article = extract_article(body, url="https://m.example/", content_type="text/html")

    assert "mistreatment of Alexei Navalny" in article.text


def test_isaccessibleforfree_false_with_little_text_is_a_paywall() -> None:
    head = '<script type="application/ld+json">{"@type":"NewsArticle","isAccessibleForFree":false}</script>'

    with pytest.raises(ExtractionError, match="isAccessibleForFree: false"):
        extract_article(html(STORY, head).encode(), url="https://m.example/a", feed="f")


def test_a_full_article_is_no_paywall_even_when_marked_paid() -> None:
    # Metered sites mark every article; what matters is whether the text is there.
    head = '<script type="application/ld+json">{"@type":"NewsArticle","isAccessibleForFree":"False"}</script>'
    long_story = STORY * 6

    article = extract_article(html(long_story, head).encode(), url="https://m.example/a")

    assert "mistreatment of Alexei Navalny" in article.text


def test_a_page_longer_than_the_feed_text_is_no_teaser() -> None:
    feed_text = "The ministry designated three officials of the prison service."

    article = extract_article(html(STORY).encode(), url="https://m.example/a", feed_text=feed_text)

    assert article.text.startswith("The ministry designated three officials")


def test_feed_furniture_does_not_make_the_page_look_short() -> None:
    # The feed's own promo lines are not counted as text the page ought to have.
    promo = "\n".join(["Support independent journalism: become a member today."] * 20)
    feed_text = "The ministry designated three officials.\n" + promo

    article = extract_article(html(STORY).encode(), url="https://m.example/a", feed_text=feed_text)

    assert "banks must report any funds" in article.text


def test_page_over_the_cap() -> None:
    padding = "<!-- " + "x" * MAX_PAGE_CHARS + " -->"

    with pytest.raises(ExtractionError, match="over the 3,000,000-character cap"):
        extract_article(html(STORY + padding).encode(), url="https://m.example/a")


@pytest.mark.parametrize(
    ("head", "canonical"),
    [
        ('<link rel="canonical" href="/a/b?x=1">', "https://m.example/a/b?x=1"),
        ('<link rel="Canonical alternate" href="https://m.example/c">', "https://m.example/c"),
        ('<meta property="og:url" content="https://m.example/og">', "https://m.example/og"),
        ('<link rel="canonical" href="javascript:void(0)">', None),
        ('<link rel="canonical" href="  ">', None),
        ("", None),
    ],
)
def test_canonical_url(head: str, canonical: str | None) -> None:
    article = extract_article(html(STORY, head).encode(), url="https://m.example/x/y?utm=1")

    assert article.canonical_url == canonical


@pytest.mark.parametrize(
    ("head", "published"),
    [
        (
            '<meta property="article:published_time" content="2021-03-02T21:30:00+01:00">',
            datetime(2021, 3, 2, 20, 30, tzinfo=UTC),
        ),
        (
            '<meta name="pubdate" content="Tue, 02 Mar 2021 18:20:00 GMT">',
            datetime(2021, 3, 2, 18, 20, tzinfo=UTC),
        ),
        (
            '<script type="application/ld+json">{"@graph":[{"@type":"WebSite"},'
            '{"@type":["NewsArticle"],"datePublished":"2021-03-02T10:00:00"}]}</script>',
            datetime(2021, 3, 2, 10, 0, tzinfo=UTC),  # no offset: taken as UTC
        ),
        (
            '<script type="application/ld+json">{"@type":"NewsArticle", broken</script>'
            '<meta property="article:published_time" content="not a date">',
            None,
        ),
    ],
)
def test_published(head: str, published: datetime | None) -> None:
    article = extract_article(html(STORY, head).encode(), url="https://m.example/a")

    assert article.published == published


def test_control_characters_and_surrogates_never_survive() -> None:
    body = html(
        "<p>The ministry designated three officials\x00 of the prison \x1bservice for the "
        "mistreatment of Alexei Navalny in custody, a decree published on Tuesday said.</p>" + STORY
    ).encode("utf-8")
    body = body.replace(b"Tuesday", b"Tues\xed\xb0\x80day")  # an encoded lone surrogate

    article = extract_article(body, url="https://m.example/a")

    assert CONTROL.search(article.text) is None
    assert "officials of the prison service" in article.text
    assert "Tuesday" in article.text
