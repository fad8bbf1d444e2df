"""Entity matching quality on our labelled set: `python benchmarks/bench_quality.py`.

Scores the engine on tests/data/matching/quality.toml (text, watched entity, should it
match), and on holdout.toml (written blind from the README rules, never used to tune the
engine), and prints recall, precision, the confusion counts, every wrong case and the
results per label, ready for docs/benchmarks.md. The test suite asserts the targets
(recall >= 0.95, precision >= 0.98); this script reports the figures.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.quality import HOLDOUT_FILE, QUALITY_FILE, score


def main() -> None:
    for path in (QUALITY_FILE, HOLDOUT_FILE):
        if path.exists():
            report_on(path)
            print()


def report_on(path: Path) -> None:
    report = score(path)
    print(f"### `{path.relative_to(path.parents[3])}`: {report.cases} cases")
    print()
    print(
        f"- Recall {report.recall:.3f} ({report.true_positive} of "
        f"{report.true_positive + report.false_negative} expected matches found); precision "
        f"{report.precision:.3f} ({report.false_positive} false alerts among "
        f"{report.true_positive + report.false_positive} matches); "
        f"{report.true_negative} traps correctly left alone"
    )
    print()
    print("| label | cases | right |")
    print("|---|---:|---:|")
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (why, correct), count in report.by_label.items():
        totals[why][0] += count
        totals[why][1] += count if correct else 0
    for why, (cases, right) in sorted(totals.items(), key=lambda x: (x[1][1] - x[1][0], x[0])):
        print(f"| {why} | {cases} | {right} |")
    print()
    print("Wrong cases:")
    for case in report.wrong:
        kind = "missed" if case.expected else "false alert"
        print(f"- {kind} [{case.entity} / {case.why}]: {case.text}")


if __name__ == "__main__":
    main()
