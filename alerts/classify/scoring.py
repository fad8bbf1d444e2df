"""Scoring the classifier on labelled examples: precision, recall, issuer and target accuracy.

Pure: callers parse the labelled set (tests/data/classify/labelled.jsonl) into `Example`s.
The held-out split is fixed by a hash of the title, so it never changes between runs and
rules tuned on the in-sample part can be checked on examples they were not tuned on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from alerts.classify.classifier import Facets, classify

__all__ = ["Example", "Report", "example_from_json", "is_held_out", "score"]

HELD_OUT_PERCENT = 30


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled headline (+ summary) and the facets a careful reader gives it."""

    title: str
    summary: str
    source_issuer: str | None
    official: bool
    sanctions_action: bool
    action_type: str | None
    issuer: str | None
    targets: tuple[str, ...]


def example_from_json(row: Mapping[str, Any]) -> Example:
    """An `Example` from one parsed JSON line of the labelled set."""
    labels = row["labels"]
    return Example(
        title=row["title"],
        summary=row.get("summary", ""),
        source_issuer=row.get("source_issuer"),
        official=bool(row.get("official", False)),
        sanctions_action=bool(labels["sanctions_action"]),
        action_type=labels.get("action_type"),
        issuer=labels.get("issuer"),
        targets=tuple(sorted(labels.get("targets", ()))),
    )


def is_held_out(example: Example) -> bool:
    """Whether the example is in the fixed ~30% held-out split (by a hash of its title)."""
    digest = hashlib.sha256(example.title.encode("utf-8")).digest()
    return digest[0] * 100 // 256 < HELD_OUT_PERCENT


@dataclass
class Report:
    """Counts and the wrong cases from scoring a set of examples."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    issuer_right: int = 0
    targets_right: int = 0
    type_right: int = 0
    positives: int = 0  # labelled positives the classifier also called positive
    errors: list[tuple[str, Example, Facets]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def issuer_accuracy(self) -> float:
        """Issuer right on labelled positives (whatever the action call)."""
        return self.issuer_right / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def targets_exact(self) -> float:
        """Targets exactly right on true positives (targets are only set on actions)."""
        return self.targets_right / self.tp if self.tp else 1.0

    @property
    def type_accuracy(self) -> float:
        """Action type right on true positives."""
        return self.type_right / self.tp if self.tp else 1.0


def score(examples: Iterable[Example]) -> Report:
    """Classify each example and count agreement with its labels."""
    report = Report()
    for ex in examples:
        facets = classify(
            ex.title, ex.summary, source_issuer=ex.source_issuer, official=ex.official
        )
        if ex.sanctions_action:
            if facets.issuer == ex.issuer:
                report.issuer_right += 1
            else:
                report.errors.append(("issuer", ex, facets))
        if facets.sanctions_action and ex.sanctions_action:
            report.tp += 1
            if facets.targets == ex.targets:
                report.targets_right += 1
            else:
                report.errors.append(("targets", ex, facets))
            if facets.action_type == ex.action_type:
                report.type_right += 1
            else:
                report.errors.append(("action_type", ex, facets))
        elif facets.sanctions_action:
            report.fp += 1
            report.errors.append(("false positive", ex, facets))
        elif ex.sanctions_action:
            report.fn += 1
            report.errors.append(("false negative", ex, facets))
        else:
            report.tn += 1
    return report
