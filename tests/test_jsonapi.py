"""JSON APIs to Items by field paths (`kind = "json"`): Federal Register, gov.uk search.

Fixtures in tests/data/listings/ are written by hand in the shapes described in
/work/shared/SOURCES.md, never copied answers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.errors import ParseError
from alerts.sources.jsonapi import JsonApiSpec, JsonPage, parse_json_api
from alerts.sources.listing import MAX_TITLE_CHARS

DATA = Path(__file__).parent / "data" / "listings"
FR_URL = (
    "https://www.federalregister.gov/api/v1/documents.json"
    "?conditions%5Bagencies%5D%5B%5D=foreign-assets-control-office&order=newest&per_page=2"
)
FEDERAL_REGISTER = JsonApiSpec(
    items="results",
    guid="document_number",
    title="title",
    link="html_url",
    summary="abstract",
    published="publication_date",
    date_formats=("%Y-%m-%d",),
    tags="type",
    next_page="next_page_url",
    max_pages=5,
    empty_if_missing=True,
    count="count",
)
GOVUK = JsonApiSpec(
    items="results",
    title="title",
    link="link",
    summary="description",
    published="public_timestamp",
    tags="content_store_document_type",
)


def fr(name: str) -> JsonPage:
    return parse_json_api("fr", (DATA / name).read_bytes(), FEDERAL_REGISTER, base_url=FR_URL)


def answer(data: object, spec: JsonApiSpec = GOVUK) -> JsonPage:
    return parse_json_api("api", json.dumps(data).encode(), spec, base_url="https://www.gov.uk/x")


# --- Federal Register ---------------------------------------------------------------------


def test_federal_register_first_page() -> None:
    page = fr("federal-register-page1.json")
    got = [(i.guid, i.title, i.link, i.published, i.tags) for i in page.items]
    assert got == [
        (
            "2026-14021",
            "Notice of OFAC Sanctions Actions",  # trailing spaces stripped
            "https://www.federalregister.gov/documents/2026/07/09/2026-14021/notice-of-ofac-sanctions-actions",
            datetime(2026, 7, 9, tzinfo=UTC),  # before its publication date: kept as is
            ("Notice",),
        ),
        (
            "2026-13877",
            "Russian Harmful Foreign Activities Sanctions Regulations",
            "https://www.federalregister.gov/documents/2026/07/02/2026-13877/russian-harmful-foreign-activities-sanctions-regulations",
            datetime(2026, 7, 2, tzinfo=UTC),
            ("Rule",),
        ),
    ]
    assert page.items[0].summary.startswith("The Department of the Treasury's Office of Foreign")
    assert page.items[1].summary == ""  # "abstract": null
    assert page.next_url == FR_URL.replace("&per_page=2", "&page=2&per_page=2")
    assert page.problems == ()


def test_federal_register_last_page_has_no_next_url() -> None:
    page = fr("federal-register-page2.json")
    assert [i.guid for i in page.items] == ["2026-13502"]
    assert page.next_url is None


def test_federal_register_empty_answer_has_no_results_key_and_is_zero_items() -> None:
    assert fr("federal-register-empty.json") == JsonPage(items=())


def test_a_missing_results_key_with_a_nonzero_count_is_an_error() -> None:
    with pytest.raises(ParseError, match="no 'results' in the answer but 'count' is 3"):
        answer({"count": 3, "description": "x"}, FEDERAL_REGISTER)
    with pytest.raises(ParseError, match="no 'results' in the answer but 'count' is missing"):
        answer({"description": "x"}, FEDERAL_REGISTER)


def test_an_error_object_answered_with_200_names_the_error() -> None:
    with pytest.raises(ParseError) as caught:
        fr("federal-register-error.json")
    assert caught.value.feed == "fr"
    assert caught.value.message == (
        "the API answered an error: errors: conditions[agencies] "
        "'foreign-assets-control' is not a valid agency slug"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": 400, "message": "Bad Request"}, "status 400: Bad Request"),
        ({"statusCode": 503}, "statusCode 503"),
        ({"error": "rate limit exceeded"}, "error: rate limit exceeded"),
        ({"errors": {"title": "Invalid query"}}, "errors: Invalid query"),
        ({"errors": ["one", "two"], "results": []}, "errors: one; two"),
    ],
)
def test_error_objects_in_other_shapes(data: dict[str, object], message: str) -> None:
    with pytest.raises(ParseError) as caught:
        answer(data)
    assert caught.value.message == f"the API answered an error: {message}"


def test_a_normal_answer_with_harmless_error_like_keys_is_read() -> None:
    page = answer({"errors": [], "status": 200, "results": [{"title": "A", "link": "/a"}]})
    assert [i.link for i in page.items] == ["https://www.gov.uk/a"]


# --- gov.uk search ------------------------------------------------------------------------


def test_govuk_search_answer() -> None:
    body = (DATA / "govuk-search.json").read_bytes()
    page = parse_json_api(
        "govuk", body, GOVUK, base_url="https://www.gov.uk/api/search.json?filter_topic=sanctions"
    )
    first, second = page.items
    assert (
        first.guid
        == first.link
        == (
            "https://www.gov.uk/government/publications/financial-sanctions-notice-russia-1-july-2026"
        )
    )
    assert first.title == "Financial sanctions notice: Russia (1 July 2026)"
    assert first.published == datetime(2026, 7, 1, 10, 20, 4, tzinfo=UTC)
    assert (
        first.summary == "The UK has added 14 entries to the Russia sanctions regime and amended 3."
    )
    assert first.tags == ("notice",)
    assert (
        second.link == "https://www.gov.uk/government/news/uk-sanctions-target-shadow-fleet-vessels"
    )
    assert second.published == datetime(2026, 6, 30, 9, tzinfo=UTC)
    assert second.summary == "Twenty vessels carrying Russian oil have been sanctioned."
    assert page.next_url is None and page.problems == ()


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty response body: expected a JSON answer"),
        (b"<html><body>Maintenance</body></html>", "not JSON: the body is HTML or XML"),
        (b'{"results": [', "malformed JSON: "),
        (b"\xff\xfe\x00garbage", "malformed JSON: "),
        (b'[{"title": "a"}]', "the JSON answer is a list, not an object"),
        (b'"results"', "the JSON answer is a string, not an object"),
        (b'{"results": {"title": "a"}}', "'results' is an object, not a list of results"),
        (b'{"results": null}', "'results' is null, not a list of results"),
        (b'{"items": []}', "no 'results' in the answer (keys: items)"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON: "),
    ],
)
def test_bad_answers_are_clear_parse_errors(body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_json_api("api", body, GOVUK)
    assert caught.value.message.startswith(message)


def test_odd_results_are_skipped_or_kept_with_problems() -> None:
    page = answer(
        {
            "results": [
                "not an object",
                {"link": "/no-title"},
                {"title": "Bad date", "link": "/b", "public_timestamp": "1st of July"},
                {"title": "Epoch", "link": "/c", "public_timestamp": 1782950400},
            ]
        }
    )
    assert [(i.title, i.published) for i in page.items] == [
        ("Bad date", None),
        ("Epoch", datetime(2026, 7, 2, tzinfo=UTC)),
    ]
    assert page.problems == (
        "result 1 is a string, not an object; skipped",
        "result 2: no title at 'title'; skipped",
        "result 3 ('Bad date'): date '1st of July' is not ISO 8601 or one of the date formats",
    )


def test_field_paths_reach_into_nested_objects_and_lists() -> None:
    spec = JsonApiSpec(
        items="data.documents",
        title="attributes.headline",
        guid="id",
        link="links[0].href",
        tags="attributes.topics",
    )
    raw = {
        "id": 7,
        "attributes": {"headline": "H", "topics": ["a", "b", 3]},
        "links": [{"href": "https://x.test/7"}],
    }
    page = answer({"data": {"documents": [raw]}}, spec)
    item = page.items[0]
    assert (item.guid, item.title, item.link, item.tags) == (
        "7",
        "H",
        "https://x.test/7",
        ("a", "b"),
    )


def test_links_that_are_not_http_are_dropped() -> None:
    page = answer({"results": [{"title": "T", "link": "javascript:alert(1)"}]})
    assert (page.items[0].link, page.items[0].guid) == (None, None)


def test_a_next_page_on_another_host_is_not_followed() -> None:
    spec = JsonApiSpec(items="results", title="title", next_page="next", max_pages=3)
    page = answer({"results": [], "next": "https://evil.test/page2"}, spec)
    assert page.next_url is None
    assert page.problems == (
        "next page 'https://evil.test/page2' is on another host; not followed",
    )
    relative = answer({"results": [], "next": "/x?page=2"}, spec)
    assert relative.next_url == "https://www.gov.uk/x?page=2"


def test_hostile_titles_and_summaries() -> None:
    page = answer(
        {
            "results": [
                {
                    "title": "Sanctions " * 100_000 + "<script>alert(1)</script>",
                    "link": "/a",
                    "description": "Kept\x00 text<script>steal()</script>\x07 here",
                },
                {"title": "A\x1b[31m red\x7f title\x9b", "link": "/b"},
            ]
        }
    )
    huge, control = page.items
    assert len(huge.title) <= MAX_TITLE_CHARS and "script" not in huge.title
    assert huge.summary == "Kept text here"
    assert control.title == "A[31m red title"


# --- the spec -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"items": "", "title": "t"}, "items: a field path is required"),
        ({"items": "a..b", "title": "t"}, "items: 'a..b' is not a dotted path"),
        ({"items": "r", "title": "t", "max_pages": 0}, "max_pages: 0 is not between 1 and 100"),
        ({"items": "r", "title": "t", "max_pages": 2}, "max_pages: needs next_page"),
        ({"items": "r", "title": "t", "count": "count"}, "count: only used with empty_if_missing"),
        ({"items": "r", "title": "t", "date_formats": ("%Q",)}, "date format '%Q' is not usable"),
    ],
)
def test_an_invalid_spec_says_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="invalid JSON API spec") as caught:
        JsonApiSpec(**kwargs)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_a_spec_is_read_from_a_feeds_toml_table() -> None:
    table = {
        "items": "results",
        "guid": "document_number",
        "title": "title",
        "link": "html_url",
        "summary": "abstract",
        "published": "publication_date",
        "date_formats": ["%Y-%m-%d"],
        "tags": "type",
        "next_page": "next_page_url",
        "max_pages": 5,
        "empty_if_missing": True,
        "count": "count",
    }
    assert JsonApiSpec.from_mapping(table) == FEDERAL_REGISTER
    with pytest.raises(ValueError, match="max_pages: must be a whole number"):
        JsonApiSpec.from_mapping({"items": "r", "title": "t", "max_pages": "5"})
    with pytest.raises(ValueError, match="empty_if_missing: must be true or false"):
        JsonApiSpec.from_mapping({"items": "r", "title": "t", "empty_if_missing": 1})
