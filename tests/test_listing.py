"""HTML listing pages to Items with CSS selectors (`kind = "html"`).

Fixtures in tests/data/listings/ are written by hand in the shapes described in
/work/shared/SOURCES.md (OFAC recent actions, Treasury press releases), never copied pages.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.errors import ParseError
from alerts.sources.listing import (
    MAX_TITLE_CHARS,
    ListingPage,
    ListingSpec,
    parse_date,
    parse_listing,
)

DATA = Path(__file__).parent / "data" / "listings"
OFAC_URL = "https://ofac.treasury.gov/recent-actions"
OFAC = ListingSpec(
    item="div.action-row",
    title=".action-title a",
    link=".action-title a",
    date=".action-date",
    date_formats=("%B %d, %Y",),
    category=".action-category",
)
TREASURY = ListingSpec(
    item=".news-listing .news-row",
    title="h3.news-headline",
    link="h3.news-headline a",
    date="time.news-date",
    date_attribute="datetime",
    date_formats=("%Y-%m-%dT%H:%M:%SZ",),
    summary=".news-teaser",
    category=".news-type",
)


def ofac(body: bytes | None = None, **kwargs: str) -> ListingPage:
    raw = (DATA / "ofac-recent-actions.html").read_bytes() if body is None else body
    return parse_listing("ofac", raw, OFAC_URL, OFAC, **kwargs)


def page(rows: str, spec: ListingSpec = OFAC) -> ListingPage:
    html = f"<!DOCTYPE html><html><body><div class='view-content'>{rows}</div></body></html>"
    return parse_listing("ofac", html.encode(), OFAC_URL, spec)


def row(title: str, href: str = "/recent-actions/20260701", date: str = "July 01, 2026") -> str:
    return (
        f"<div class='action-row'><div class='action-title'><a href='{href}'>{title}</a></div>"
        f"<span class='action-date'>{date}</span></div>"
    )


# --- OFAC recent actions ----------------------------------------------------------------


def test_ofac_recent_actions_rows_become_items() -> None:
    result = ofac()
    got = [(i.guid, i.link, i.title, i.published, i.tags) for i in result.items]
    july_1 = datetime(2026, 7, 1, tzinfo=UTC)
    assert got == [
        (
            "https://ofac.treasury.gov/recent-actions/20260701_1",
            "https://ofac.treasury.gov/recent-actions/20260701_1",
            "Russia-related Designations; Counter Terrorism Designation Update",
            july_1,
            ("Sanctions List Updates",),
        ),
        (
            "https://ofac.treasury.gov/recent-actions/20260701",
            "https://ofac.treasury.gov/recent-actions/20260701",
            "Publication of Russia-related General License 131A",
            july_1,
            ("General Licenses",),
        ),
        (
            "https://ofac.treasury.gov/recent-actions/20260630",
            "https://ofac.treasury.gov/recent-actions/20260630",
            "Iran-related Designations; Issuance of Amended Frequently Asked Question",
            datetime(2026, 6, 30, tzinfo=UTC),
            ("Sanctions List Updates", "Frequently Asked Questions"),
        ),
        (
            "https://ofac.treasury.gov/recent-actions/20260627",
            "https://ofac.treasury.gov/recent-actions/20260627",
            "Cyber-related Designations",  # the <script> inside the link does not leak
            None,
            ("Sanctions List Updates",),
        ),
    ]
    assert all(i.feed == "ofac" and i.summary == "" for i in result.items)


def test_ofac_same_day_suffixes_stay_distinct_items() -> None:
    guids = [i.guid for i in ofac().items]
    assert len(set(guids)) == len(guids) == 4


def test_a_date_that_does_not_parse_keeps_the_item_and_records_a_problem() -> None:
    assert ofac().problems == (
        "item 4 ('Cyber-related Designations'): date 'Friday, 27 June' does not match '%B %d, %Y'",
    )


def test_the_date_may_come_from_an_attribute_and_summaries_are_plain_text() -> None:
    body = (DATA / "treasury-press-releases.html").read_bytes()
    result = parse_listing(
        "treasury", body, "https://home.treasury.gov/news/press-releases", TREASURY
    )
    first, second = result.items
    assert first.link == "https://home.treasury.gov/news/press-releases/sb0292"
    assert (
        first.title == "Treasury Sanctions Network Supplying Drone Components to Russia’s Military"
    )
    assert first.published == datetime(2026, 7, 1, 14, 30, tzinfo=UTC)
    assert first.summary == (
        "WASHINGTON — Today, the Department of the Treasury’s Office of Foreign Assets Control "
        "(OFAC) designated 12 entities.\nSee the recent action."
    )
    assert "script" not in first.summary_html and "tracking" not in first.summary_html
    assert 'href="https://home.treasury.gov/recent-actions/20260701"' in first.summary_html
    assert first.tags == ("Press Releases",)
    assert second.link == "https://home.treasury.gov/news/press-releases/jy0916"
    assert second.summary == "" and second.tags == ("Statements & Remarks",)
    assert result.problems == ()


# --- a changed layout is an error, never "no news" ---------------------------------------


def test_a_changed_layout_raises_instead_of_reporting_no_news() -> None:
    body = (DATA / "changed-layout.html").read_bytes()
    with pytest.raises(ParseError) as caught:
        parse_listing("ofac", body, OFAC_URL, OFAC)
    assert caught.value.feed == "ofac"
    assert caught.value.message == (
        "no items matched 'div.action-row' – the page layout may have changed"
    )


def test_rows_without_any_title_or_link_are_a_layout_change_too() -> None:
    with pytest.raises(ParseError, match=r"2 elements matched 'div.action-row' but none"):
        page("<div class='action-row'>x</div><div class='action-row'>y</div>")


def test_one_row_without_a_link_is_skipped_with_a_problem() -> None:
    result = page(row("Kept") + row("No link", href="javascript:alert(1)"))
    assert [i.title for i in result.items] == ["Kept"]
    assert result.problems == ("item 2 ('No link'): no usable link; row skipped",)


def test_a_row_listed_twice_is_kept_once() -> None:
    result = page(row("First") + row("Again"))
    assert [i.title for i in result.items] == ["First"]
    assert "listed twice" in result.problems[0]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"", None, "empty response body: expected an HTML listing page"),
        (b"  \r\n ", "text/html", "empty response body: expected an HTML listing page"),
        (b'{"results": []}', "text/html", "not an HTML page: the body is JSON (text/html)"),
        (b"%PDF-1.7\n%\xe2\xe3", None, "not an HTML page: the body is a PDF document"),
        (b"PK\x03\x04\x14\x00", None, "not an HTML page: the body is a ZIP archive"),
        (b"\x00\x01" * 16 + b"<html>", None, "not an HTML page: the body is binary data"),
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
            "application/rss+xml",
            'not an HTML page: the body is an RSS/Atom feed (use kind = "feed")',
        ),
        (b"Service Unavailable", "text/plain", "the body is text without HTML markup"),
        (b"<error/>", "application/json", "the body is a application/json document"),
    ],
)
def test_a_body_that_is_not_html_is_a_clear_parse_error(
    body: bytes, content_type: str | None, message: str
) -> None:
    with pytest.raises(ParseError) as caught:
        parse_listing("ofac", body, OFAC_URL, OFAC, content_type=content_type)
    assert message in caught.value.message


def test_a_legacy_charset_page_is_decoded() -> None:
    html = "<html><body>" + row("Désignations liées à la Russie") + "</body></html>"
    body = html.encode("cp1252")
    result = parse_listing(
        "ofac", body, OFAC_URL, OFAC, content_type="text/html; charset=windows-1252"
    )
    assert result.items[0].title == "Désignations liées à la Russie"


def test_an_xhtml_page_with_an_xml_declaration_parses() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<html><body>'
        + row("X").encode()
        + b"</body></html>"
    )
    assert [i.title for i in parse_listing("ofac", body, OFAC_URL, OFAC).items] == ["X"]


# --- hostile input ------------------------------------------------------------------------


def test_a_huge_title_is_cut_to_a_sane_length() -> None:
    result = page(row("Sanctions " * 100_000))  # about 1 MB
    title = result.items[0].title
    assert len(title) <= MAX_TITLE_CHARS
    assert title.endswith("Sanctions…")


def test_control_characters_are_stripped() -> None:
    result = page(row("Iran\x00-related\x07 Designations\x1b;\x7f Update\x9b"))
    assert result.items[0].title == "Iran-related Designations; Update"


def test_scripts_and_styles_never_reach_titles_or_summaries() -> None:
    spec = ListingSpec(item=".action-row", title=".action-title", summary=".teaser")
    rows = (
        "<div class='action-row'><div class='action-title'><a href='/a'>Kept"
        "<style>.x{}</style><script>evil()</script> title</a></div>"
        "<div class='teaser'><script>document.cookie</script><p onclick='x()'>Body</p></div></div>"
    )
    item = page(rows, spec).items[0]
    assert (item.title, item.summary) == ("Kept title", "Body")
    assert "onclick" not in item.summary_html and "cookie" not in item.summary_html


def test_a_page_with_many_rows_is_capped() -> None:
    rows = "".join(row(f"Action {n}", href=f"/recent-actions/{n}") for n in range(600))
    result = page(rows)
    assert len(result.items) == 500
    assert result.problems[0] == "600 items matched 'div.action-row'; only the first 500 read"


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "formats", "expected"),
    [
        ("July 01, 2026", ("%B %d, %Y",), datetime(2026, 7, 1, tzinfo=UTC)),
        ("  July\n  1,   2026 ", ("%B %d, %Y",), datetime(2026, 7, 1, tzinfo=UTC)),
        ("July 1st, 2026", ("%B %d, %Y",), datetime(2026, 7, 1, tzinfo=UTC)),
        ("22nd June 2026.", ("%B %d, %Y", "%d %B %Y"), datetime(2026, 6, 22, tzinfo=UTC)),
        ("JULY 03, 2026", ("%B %d, %Y",), datetime(2026, 7, 3, tzinfo=UTC)),
        ("01/07/2026 10:00 +0200", ("%d/%m/%Y %H:%M %z",), datetime(2026, 7, 1, 8, tzinfo=UTC)),
        ("Friday, 27 June", ("%B %d, %Y",), None),
        ("", ("%B %d, %Y",), None),
    ],
)
def test_parse_date(text: str, formats: tuple[str, ...], expected: datetime | None) -> None:
    assert parse_date(text, formats) == expected


# --- the spec -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"item": "", "title": "a"}, "item: a CSS selector is required"),
        ({"item": "div[", "title": "a"}, "item: 'div[' is not a valid CSS selector"),
        ({"item": "li", "title": "a", "date": ".d"}, "date_formats: give at least one"),
        ({"item": "li", "title": "a", "date_formats": ("%Y",)}, "date: a selector is required"),
        (
            {"item": "li", "title": "a", "date": ".d", "date_formats": ("July",)},
            "date format 'July' has no % directive",
        ),
        (
            {"item": "li", "title": "a", "date": ".d", "date_formats": ("%Q",)},
            "date format '%Q' is not usable",
        ),
        ({"item": "li", "title": "a", "link_attribute": " "}, "link_attribute: must name"),
    ],
)
def test_an_invalid_spec_says_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="invalid listing spec") as caught:
        ListingSpec(**kwargs)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_a_spec_is_read_from_a_feeds_toml_table() -> None:
    table = json.loads(
        '{"item": "div.action-row", "title": ".action-title a", "link": ".action-title a",'
        ' "date": ".action-date", "date_formats": "%B %d, %Y", "category": ".action-category"}'
    )
    assert ListingSpec.from_mapping(table) == OFAC
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'titel'; expected some of"):
        ListingSpec.from_mapping({"item": "li", "titel": "a"})
    with pytest.raises(ValueError, match="date_formats: must be a string or a list of strings"):
        ListingSpec.from_mapping({"item": "li", "title": "a", "date_formats": 3})
    with pytest.raises(ValueError, match="title: must be a string"):
        ListingSpec.from_mapping({"item": "li", "title": ["a"]})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和8年7月1日", datetime(2026, 7, 1, tzinfo=UTC)),
        ("令和 8 年7月1日", datetime(2026, 7, 1, tzinfo=UTC)),
        ("令和元年5月1日", datetime(2019, 5, 1, tzinfo=UTC)),  # the era's first year
        ("2026年7月1日", datetime(2026, 7, 1, tzinfo=UTC)),
    ],
)
def test_japanese_era_dates_read_as_gregorian(text: str, expected: datetime) -> None:
    from alerts.sources.listing import parse_date

    assert parse_date(text, ["%Y年%m月%d日"]) == expected
