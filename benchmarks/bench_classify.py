"""Sanctions classifier quality and speed: `python benchmarks/bench_classify.py`.

Scores `alerts.classify.classify` on the sets in tests/data/classify/:

* labelled.jsonl, in-sample and the fixed ~30% held-out split by title hash (both seen
  while tuning);
* blind1.jsonl, written after the first round of rules and scored blind once, then seen
  while the second round was tuned: tuning data now;
* blind2.jsonl, written after the second round was frozen and scored once;
* blind3.jsonl, written by another engineer without reading the rules, scored once.

It prints precision/recall/F1 for `sanctions_action`, issuer accuracy on positives,
targets exact-match and action-type accuracy on true positives, the confusion cases, and
the throughput of `item_facets` (classify plus the facet mapping, as the pipeline runs it)
on the labelled items (worst case: every one mentions sanctions) and on synthetic news
items from benchmarks/corpus.py (about 100 words, almost none about sanctions), ready for
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import make_corpus

from alerts.classify import item_facets
from alerts.classify.scoring import Example, Report, example_from_json, is_held_out, score

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "classify"
ROUNDS = 20  # passes over the labelled items when timing
BEST_OF = 3  # timing runs; the best is reported (a shared VM is noisy)


def load(name: str) -> list[Example]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [example_from_json(json.loads(line)) for line in lines if line.strip()]


def row(name: str, count: int, r: Report) -> str:
    return (
        f"| {name} | {count} | {r.tp}/{r.fp}/{r.fn}/{r.tn} | {r.precision:.3f} | {r.recall:.3f} "
        f"| {r.f1:.3f} | {r.issuer_accuracy:.3f} | {r.targets_exact:.3f} | {r.type_accuracy:.3f} |"
    )


def throughput(items: Sequence[tuple[str, str, str, bool]], rounds: int) -> float:
    """Best items/s of `item_facets` over `rounds` passes of `items`."""
    best = 0.0
    for _ in range(BEST_OF):
        start = time.perf_counter()
        for _ in range(rounds):
            for title, summary, issuer, official in items:
                item_facets(title, summary, issuer=issuer, official=official)
        best = max(best, rounds * len(items) / (time.perf_counter() - start))
    return best


def main() -> None:
    labelled = load("labelled.jsonl")
    blind1 = load("blind1.jsonl")
    blind2 = load("blind2.jsonl")
    blind3 = load("blind3.jsonl")
    splits = {
        "in-sample (seen)": [e for e in labelled if not is_held_out(e)],
        "held-out 30% (seen)": [e for e in labelled if is_held_out(e)],
        "blind-1 (seen in round 2)": blind1,
        "blind-2 (blind, scored once)": blind2,
        "blind-3 (another author, scored once)": blind3,
    }
    print("| set | items | TP/FP/FN/TN | precision | recall | F1 | issuer acc. | targets exact "
          "| action type |")  # fmt: skip
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    reports = {name: score(examples) for name, examples in splits.items()}
    for name, examples in splits.items():
        print(row(name, len(examples), reports[name]))
    print()
    print("Confusion cases (kind | title | expected -> got | deciding rule):")
    for name, report in reports.items():
        for kind, ex, facets in report.errors:
            rule = facets.reasons[0].rule if facets.reasons else ""
            expected = (ex.sanctions_action, ex.action_type, ex.issuer, ex.targets)
            got = (facets.sanctions_action, facets.action_type, facets.issuer, facets.targets)
            print(f"- [{name}] {kind} | {ex.title} | {expected} -> {got} | {rule}")
    print()
    sets = [*labelled, *blind1, *blind2]
    mixed = [(e.title, e.summary, e.source_issuer or "", e.official) for e in sets]
    news = [(i.title, i.summary, "", False) for i in make_corpus(7, 1_000, 2_000).items]
    print(f"Python {platform.python_version()}; best of {BEST_OF} runs")
    print(f"item_facets, labelled sets ({len(mixed)} items, all about sanctions): "
          f"{throughput(mixed, ROUNDS):,.0f} items/s")  # fmt: skip
    print(f"item_facets, synthetic news ({len(news)} items of ~100 words): "
          f"{throughput(news, 2):,.0f} items/s")  # fmt: skip


if __name__ == "__main__":
    main()
