"""Sanctions classifier quality and speed: `python benchmarks/bench_classify.py`.

Scores `alerts.classify.classify` on tests/data/classify/labelled.jsonl (in-sample and the
fixed ~30% held-out split by title hash) and on blind.jsonl (written after tuning, scored
once), printing precision/recall/F1 for `sanctions_action`, issuer accuracy on positives,
targets exact-match and action-type accuracy on true positives, the confusion cases and
the throughput in items per second, ready for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.classify import classify
from alerts.classify.scoring import Example, Report, example_from_json, is_held_out, score

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "classify"


def load(name: str) -> list[Example]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [example_from_json(json.loads(line)) for line in lines if line.strip()]


def row(name: str, count: int, r: Report) -> str:
    return (
        f"| {name} | {count} | {r.tp}/{r.fp}/{r.fn}/{r.tn} | {r.precision:.3f} | {r.recall:.3f} "
        f"| {r.f1:.3f} | {r.issuer_accuracy:.3f} | {r.targets_exact:.3f} | {r.type_accuracy:.3f} |"
    )


def main() -> None:
    labelled = load("labelled.jsonl")
    blind = load("blind.jsonl")
    splits = {
        "in-sample": [e for e in labelled if not is_held_out(e)],
        "held-out": [e for e in labelled if is_held_out(e)],
        "blind": blind,
    }
    print("| set | items | TP/FP/FN/TN | precision | recall | F1 | issuer acc. | targets exact "
          "| action type |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
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
    everything = labelled + blind
    rounds = 20
    start = time.perf_counter()
    for _ in range(rounds):
        for ex in everything:
            classify(ex.title, ex.summary, source_issuer=ex.source_issuer, official=ex.official)
    elapsed = time.perf_counter() - start
    print(f"Throughput: {rounds * len(everything) / elapsed:,.0f} items/s")


if __name__ == "__main__":
    main()
