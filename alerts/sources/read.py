"""One response body to items, by source kind: feeds, listing pages and JSON APIs.

List files are not read here: they become items by diffing (`alerts.sources.lists`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alerts.domain import Item, SourceKind
from alerts.sources.jsonapi import JsonApiSpec, parse_json_api
from alerts.sources.listing import ListingSpec, parse_listing
from alerts.sources.parse import parse_feed


@dataclass(frozen=True, slots=True)
class PageRead:
    """Items from one response, the next page's URL (JSON APIs) and oddities to report."""

    items: list[Item]
    next_url: str | None = None
    problems: tuple[str, ...] = ()


def read_page(
    feed: str,
    kind: SourceKind,
    spec: object,
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
) -> PageRead:
    """Parse one response of a feed, html or json source; ParseError when unreadable.

    A listing page where nothing matched the selectors is an error (the layout changed),
    not an empty page; an API page with no results is empty (no news).
    """
    if kind is SourceKind.HTML:
        if not isinstance(spec, ListingSpec):
            raise TypeError(f"{feed}: an html source needs a ListingSpec")
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type")
        page = parse_listing(feed, body, url, spec, content_type=content_type)
        return PageRead(list(page.items), None, page.problems)
    if kind is SourceKind.JSON:
        if not isinstance(spec, JsonApiSpec):
            raise TypeError(f"{feed}: a json source needs a JsonApiSpec")
        answer = parse_json_api(feed, body, spec, base_url=url)
        return PageRead(list(answer.items), answer.next_url, answer.problems)
    if kind is SourceKind.LIST:
        raise TypeError(f"{feed}: list sources are diffed, not read page by page")
    return PageRead(parse_feed(feed, body, url=url, headers=headers))
