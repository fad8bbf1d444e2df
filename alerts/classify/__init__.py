"""Classification: facets that say what an item is (sanctions action? issuer? targets?).

Pure and rule-based: `classify(title, summary, source_issuer=..., official=...)` returns
`Facets`, each facet with the `Reason`s (lexicon entry + text span) that set it.
"""

from alerts.classify.classifier import ActionType, Facets, Measure, Reason, classify

__all__ = ["ActionType", "Facets", "Measure", "Reason", "classify"]
