"""Story clustering quality on our labelled set: `python benchmarks/bench_story_quality.py`.

Feeds tests/data/stories through `fingerprint` + `StoryIndex` in arrival order, with the
extracted text and again with the outlets' footers left in, and prints pairwise precision
and recall, how each kind of item fared, every false merge and every item left out of its
story (with titles and the reason it was placed where it was), and the overlap of
syndicated copies with and without their headlines (why the title is not shingled). The
test suite asserts the floors (tests/test_story_quality.py); this script reports figures.
"""

from __future__ import annotations

import itertools
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.dedup.fingerprint import fingerprint, similarity
from tests.support.stories import LabelledItem, load_corpus, pairwise_scores, story_order
from tests.test_story_quality import cluster


def main() -> None:
    items = load_corpus()
    stories = {item.story for item in items}
    print(f"### Story clustering on tests/data/stories: {len(items)} items, {len(stories)} stories")
    print()
    print("| text | precision | recall | true pairs | predicted pairs | correct |")
    print("|---|---:|---:|---:|---:|---:|")
    for footers in (False, True):
        predicted, _ = cluster(items, footers=footers)
        s = pairwise_scores(items, predicted)
        label = "footers left in" if footers else "as extracted"
        print(
            f"| {label} | {s.precision:.4f} | {s.recall:.4f} | {s.true_pairs} | "
            f"{s.predicted_pairs} | {s.correct_pairs} |"
        )
    print()
    report_confusion(items)
    print()
    report_overlaps(items)


def report_confusion(items: list[LabelledItem]) -> None:
    predicted, placements = cluster(items, footers=False)
    by_id = {item.id: item for item in items}
    by_story: dict[str, list[LabelledItem]] = defaultdict(list)
    by_cluster: dict[int, list[LabelledItem]] = defaultdict(list)
    for item in story_order(items):
        by_story[item.story].append(item)
        by_cluster[predicted[item.id]].append(item)

    placed_right: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    missed: list[LabelledItem] = []
    for members in by_story.values():
        main_cluster = Counter(predicted[i.id] for i in members).most_common(1)[0][0]
        for item in members:
            totals[item.variant] += 1
            if predicted[item.id] == main_cluster:
                placed_right[item.variant] += 1
            else:
                missed.append(item)
    print("| variant | items | in their story's main cluster |")
    print("|---|---:|---:|")
    for variant, count in sorted(totals.items()):
        print(f"| {variant} | {count} | {placed_right[variant]} |")
    links = Counter(
        "near-duplicate" if p.reason.startswith("near-duplicate") else "official link"
        for p in placements.values()
        if p is not None
    )
    print()
    print(f"Joined a story by: {dict(links)}")

    print()
    print("False merges (clusters holding more than one story):")
    merges = [c for c in by_cluster.values() if len({i.story for i in c}) > 1]
    for members in merges:
        print(f"- {dict(Counter(i.story for i in members))}")
        for item in members:
            placement = placements[item.id]
            print(f"  - {item.id}: {item.title!r} <- {placement.reason if placement else 'new'}")
    if not merges:
        print("- none")

    print()
    print("Items left out of their story's main cluster:")
    for item in missed:
        placement = placements[item.id]
        where = placement.reason if placement else "started a story of its own"
        print(f"- {item.id} [{item.variant}, {item.feed}]: {item.title!r} ({where})")
        fp = fingerprint(item.title, item.text)
        print(f"  names {list(fp.names)}; programmes {list(fp.programmes)}; {list(fp.numbers)}")
    if not missed:
        print("- none")
    assert all(i in by_id for i in predicted)


def report_overlaps(items: list[LabelledItem]) -> None:
    press = [i for i in items if not i.official and i.variant not in ("translated", "degenerate")]
    print("Estimated overlap of press items (text only, as clustered, vs headline + text):")
    print()
    print("| shingled | same story: min | p5 | median | below 0.3 | other stories: max | >= 0.3 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for with_title in (False, True):
        label = "headline + text" if with_title else "text"
        fps = {
            i.id: fingerprint("", f"{i.title}\n{i.text}")
            if with_title
            else fingerprint(i.title, i.text)
            for i in press
        }
        same: list[float] = []
        other: list[float] = []
        for a, b in itertools.combinations(press, 2):
            (same if a.story == b.story else other).append(similarity(fps[a.id], fps[b.id]))
        same.sort()
        p5 = same[int(0.05 * (len(same) - 1))]
        below = sum(j < 0.3 for j in same) / len(same)
        print(
            f"| {label} | {same[0]:.2f} | {p5:.2f} | {statistics.median(same):.2f} | "
            f"{below:.1%} | {max(other):.2f} | {sum(j >= 0.3 for j in other)} |"
        )


if __name__ == "__main__":
    main()
