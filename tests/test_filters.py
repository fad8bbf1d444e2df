"""Subscription facet filters: facets only, clear errors, and what passes."""

from __future__ import annotations

import pytest

from alerts.domain import ItemFacets
from alerts.matching.filters import accepts, parse_filter
from alerts.matching.query import QueryError

EU_RUSSIA = ItemFacets({"sanctions_action": ("true",), "issuer": ("EU",), "target": ("RU", "BY")})
UK_IRAN = ItemFacets({"sanctions_action": ("true",), "issuer": ("UK",), "target": ("IR",)})
NOTHING = ItemFacets()


@pytest.mark.parametrize(
    ("text", "eu", "uk", "none"),
    [
        ("", True, True, True),
        ("issuer:EU", True, False, False),
        ("issuer:(EU OR UK)", True, True, False),
        ("issuer:EU AND target:RU", True, False, False),
        ("target:Russia", True, False, False),  # a country name reads as its code
        ("sanctions_action:true -target:BY", False, True, False),
        ("issuer:eu", True, False, False),  # values ignore case
    ],
)
def test_what_passes(text: str, eu: bool, uk: bool, none: bool) -> None:
    assert (accepts(text, EU_RUSSIA), accepts(text, UK_IRAN), accepts(text, NOTHING)) == (
        eu,
        uk,
        none,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("issuer:EU Navalny", "col 11: 'Navalny': a subscription filter uses facets only"),
        ("NOT issuer:EU", "col 1:"),  # nothing to find: refused like any negative query
        ("issuer:EU AND", "col"),
        ("designation:deleted", "col 13:"),
        ("colour:red", "col 1:"),
    ],
)
def test_bad_filters_are_refused_with_a_column(text: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_filter(text)
    assert str(info.value).startswith(message), str(info.value)


def test_a_filter_that_no_longer_parses_lets_everything_through() -> None:
    # Written by another version, say: the subscription must not go silent over it.
    assert accepts("colour:red", NOTHING)
