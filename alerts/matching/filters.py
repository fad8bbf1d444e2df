"""Subscription filters: a facet-only query an item must satisfy to be queued.

`filter = "issuer:EU AND target:RU"` on a subscription narrows what its watchlists send it
(the same watchlist can feed a team that wants everything and one that wants EU actions
only). Only facet leaves are allowed: a filter reads what the item is, not its words.
"""

from __future__ import annotations

from functools import lru_cache

from alerts.domain import ItemFacets
from alerts.matching.query import (
    FACET_FIELD,
    Facet,
    Hit,
    Leaf,
    Node,
    QueryError,
    evaluate,
    leaves,
    parse_query,
)

_HAS = (Hit(FACET_FIELD, 0, 0),)


def parse_filter(text: str) -> Node:
    """The filter's query tree; QueryError (with its column) when it is not facets only."""
    node = parse_query(text)
    for leaf in leaves(node):
        if not isinstance(leaf, Facet):
            raise QueryError(
                leaf.column,
                f"{leaf.text!r}: a subscription filter uses facets only (such as "
                "issuer:EU or sanctions_action:true); put words in a watchlist query",
            )
    return node


@lru_cache(maxsize=256)
def _compiled(text: str) -> Node:
    return parse_filter(text)


def accepts(text: str, facets: ItemFacets) -> bool:
    """Whether an item with `facets` passes filter `text` ("" passes everything).

    A filter that no longer parses (written by another version) passes everything: a
    subscription must not go silent over it; `alerts check` reports it.
    """
    if not text.strip():
        return True
    try:
        node = _compiled(text)
    except QueryError:
        return True

    def hits(leaf: Leaf) -> tuple[Hit, ...]:
        assert isinstance(leaf, Facet)
        return _HAS if facets.has(leaf.name, leaf.value) else ()

    return evaluate(node, hits) is not None
