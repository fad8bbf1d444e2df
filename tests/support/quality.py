"""Scores the matching engine on the labelled set in tests/data/matching/quality.toml.

Shared by `tests/test_quality.py` (which asserts the targets) and
`benchmarks/bench_quality.py` (which prints the figures for docs/benchmarks.md).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from alerts.domain import Entity, EntityKind, Item, Watchlist
from alerts.matching import compile_watchlists

QUALITY_FILE = Path(__file__).resolve().parents[1] / "data" / "matching" / "quality.toml"
# Written blind from the README's rules after the engine was built; never used to tune it.
HOLDOUT_FILE = QUALITY_FILE.with_name("holdout.toml")


@dataclass(frozen=True, slots=True)
class Case:
    entity: str
    text: str
    expected: bool
    why: str


@dataclass
class QualityReport:
    """Counts over the labelled cases; `wrong` lists the cases the engine got wrong."""

    true_positive: int = 0
    false_positive: int = 0
    true_negative: int = 0
    false_negative: int = 0
    wrong: list[Case] = field(default_factory=list)
    by_label: Counter[tuple[str, bool]] = field(default_factory=Counter)  # (why, correct)

    @property
    def cases(self) -> int:
        return self.true_positive + self.false_positive + self.true_negative + self.false_negative

    @property
    def recall(self) -> float:
        return self.true_positive / max(1, self.true_positive + self.false_negative)

    @property
    def precision(self) -> float:
        return self.true_positive / max(1, self.true_positive + self.false_positive)


def load_cases(path: Path = QUALITY_FILE) -> tuple[dict[str, Entity], list[Case]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entities = {
        e["id"]: Entity(
            name=e["name"],
            kind=EntityKind(e.get("kind", "person")),
            aliases=tuple(e.get("aliases", ())),
            weak_aliases=tuple(e.get("weak_aliases", ())),
            identifiers=tuple(e.get("identifiers", ())),
            id=e["id"],
        )
        for e in data["entities"]
    }
    cases = [
        Case(c["entity"], c["text"], bool(c["match"]), c.get("why", "")) for c in data["cases"]
    ]
    return entities, cases


def score(path: Path = QUALITY_FILE) -> QualityReport:
    """Match every case's text against a watchlist holding only that case's entity."""
    entities, cases = load_cases(path)
    matchers = {
        key: compile_watchlists([Watchlist(name=key, entities=(entity,))])
        for key, entity in entities.items()
    }
    report = QualityReport()
    for case in cases:
        item = Item(feed="quality", guid=None, link=None, title="", summary=case.text)
        got = bool(matchers[case.entity].match(item))
        if got and case.expected:
            report.true_positive += 1
        elif got:
            report.false_positive += 1
        elif case.expected:
            report.false_negative += 1
        else:
            report.true_negative += 1
        if got != case.expected:
            report.wrong.append(case)
        report.by_label[(case.why, got == case.expected)] += 1
    return report
