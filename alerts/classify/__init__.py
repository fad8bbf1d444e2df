"""Classification: facets that say what an item is (sanctions action? issuer? targets?).

Pure and rule-based: `classify(title, summary, source_issuer=..., official=...)` returns
`Facets`, each facet with the `Reason`s (lexicon entry + text span) that set it;
`item_facets` and `designation_facets` give the `alerts.domain.ItemFacets` stored with an
item and matched by facet queries. No I/O; imports only `alerts.domain` and
`alerts.matching.countries`.
"""

from alerts.classify.classifier import ActionType, Facets, Measure, Reason, classify
from alerts.classify.facets import designation_facets, item_facets

__all__ = [
    "ActionType",
    "Facets",
    "Measure",
    "Reason",
    "classify",
    "designation_facets",
    "item_facets",
]
