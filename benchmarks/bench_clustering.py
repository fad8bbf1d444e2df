"""Story clustering speed and memory: `python benchmarks/bench_clustering.py [--items N]`.

A seeded synthetic corpus (a vocabulary of a few thousand pseudo-words drawn Zipf-like,
stock boilerplate sentences shared across stories, capitalised entity names, syndicated
copies with reordered, cut, added and reworded paragraphs and outlet footers, and some
official notices worded differently) is fed through `fingerprint` + `StoryIndex.place` +
`StoryIndex.add` on one core, in arrival order, all inside the 14-day window, so the index
grows to the full size. Printed, ready for docs/benchmarks.md:

- items/s and microseconds per item for the timed work (text generation is not timed,
  and happens a batch of 1,000 items at a time, outside the timed loop),
  per stretch of the run, with the index size at its end: the cost must stay flat as the
  window fills (last 10% of items against the first 10%);
- memory at 10k, 50k and 100k items: the deep size of the index (every object reachable
  from it, measured between items, outside the timed work) and the process's RSS;
- speed by text length (summary-sized and article-sized items);
- pairwise precision/recall against the generator's own labels, as a sanity check.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import resource
import sys
import time
import types
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.dedup.fingerprint import fingerprint
from alerts.dedup.stories import StoryIndex

SEED = 20250101
START = datetime(2025, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=10)  # by default all items stay inside the 14-day window
CHECKPOINTS = (10_000, 50_000, 100_000)
BATCH = 1_000  # items generated ahead of the timed loop
# The pipeline strips footers; some survive extraction (and feed summaries carry promos).
FOOTER_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Item:
    story: int
    title: str
    text: str
    at: datetime
    official: bool


class Corpus:
    """Deterministic generator of syndicated sanctions-like news."""

    def __init__(self, seed: int = SEED, vocabulary: int = 4000, words: int = 200) -> None:
        self.rng = random.Random(seed)
        self.mean_words = words
        syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["an", "or", "el"]
        made: set[str] = set()
        while len(made) < vocabulary:
            made.add("".join(self.rng.choices(syllables, k=self.rng.randint(1, 4))))
        self.vocab = sorted(made)
        # Zipf-like weights: a few words very common, a long tail of rare ones.
        self.weights = [1 / (rank + 1) for rank in range(len(self.vocab))]
        # A few names recur across many stories ("Vladimir Putin"); the others are drawn
        # per story from 16 million two-word combinations, so they rarely repeat.
        self.famous = [self.name() for _ in range(50)]
        self.stock = [self.sentence(14) for _ in range(30)]  # boilerplate many stories share
        self.footers = [self.sentence(20) + " Subscribe to our newsletter." for _ in range(12)]
        self.programmes = ["Russia", "Iran", "Syria", "Belarus", "Venezuela", "cyber"]

    def name(self) -> str:
        return " ".join(w.capitalize() for w in self.rng.sample(self.vocab, 2))

    def sentence(self, n: int) -> str:
        words = self.rng.choices(self.vocab, self.weights, k=n)
        return " ".join(words).capitalize() + "."

    def story(self, story: int, at: datetime) -> list[Item]:
        rng = self.rng
        names = [self.name() for _ in range(rng.randint(2, 3))]
        if rng.random() < 0.3:
            names.append(rng.choice(self.famous))
        programme = rng.choice(self.programmes)
        per_paragraph = max(12, self.mean_words // 5)
        paragraphs = []
        for _ in range(5):
            sentences = [self.sentence(rng.randint(8, 16)) for _ in range(per_paragraph // 12)]
            mention = f"{rng.choice(names)} was named over {programme}."
            sentences.insert(rng.randrange(len(sentences) + 1), mention)
            if rng.random() < 0.4:
                sentences.append(rng.choice(self.stock))
            paragraphs.append(" ".join(sentences))
        items = []
        for copy in range(rng.choice((1, 1, 2, 3, 4, 6, 10))):
            body = list(paragraphs)
            edit = rng.choice(("reorder", "cut", "add", "reword")) if copy else "original"
            if edit == "reorder":
                rest = body[1:]
                rng.shuffle(rest)
                body = [body[0], *rest]
            elif edit == "cut":
                del body[rng.randrange(1, len(body))]
            elif edit == "add":
                body.insert(rng.randrange(1, len(body)), self.sentence(30))
            elif edit == "reword":
                body = [self.reword(p) for p in body]
            if rng.random() < FOOTER_SHARE:
                body.append(rng.choice(self.footers))
            text = "\n".join(body)
            when = at + timedelta(minutes=rng.expovariate(1 / 300))
            items.append(Item(story, self.sentence(8), text, when, official=False))
        if rng.random() < 0.1:
            notice = " ".join(
                [
                    self.sentence(20),
                    f"{names[0]} and {names[1]} were designated over {programme}.",
                    self.sentence(20),
                ]
            )
            items.append(Item(story, self.sentence(8), notice, at, official=True))
        return items

    def reword(self, paragraph: str) -> str:
        words = paragraph.split()
        for i in range(len(words)):
            if self.rng.random() < 0.15:
                words[i] = self.rng.choice(self.vocab)
        return " ".join(words)

    def items(self, total: int, span: timedelta = SPAN) -> Iterator[Item]:
        """About `total` items in arrival order (stories overlap in time)."""
        pending: list[Item] = []
        story = 0
        produced = 0
        while produced < total:
            at = START + span * (produced / total)
            pending.extend(self.story(story, at))
            story += 1
            pending.sort(key=lambda item: item.at)
            # Release what can no longer be overtaken by a later story's first copy.
            while pending and pending[0].at <= at and produced < total:
                produced += 1
                yield pending.pop(0)
        while pending and produced < total:
            produced += 1
            yield pending.pop(0)


@dataclass(frozen=True, slots=True)
class Run:
    durations: list[float]  # seconds per item: fingerprint + place + add
    memory: dict[int, tuple[int, int]]  # items so far -> (index deep size, process RSS)
    stats: dict[str, int]
    precision: float
    recall: float
    words: float  # mean words per item text


def run(total: int, words: int, *, measure: bool = False, span: timedelta = SPAN) -> Run:
    """Feed `total` items; return timings, accuracy and (`measure`) memory at checkpoints.

    Memory is measured between items, outside the timed work: the deep size of the index
    (every object reachable from it, counted once) and the process's resident set.
    """
    corpus = Corpus(words=words)
    index = StoryIndex()
    labels: dict[int, int] = {}
    predicted: dict[int, str] = {}
    durations: list[float] = []
    memory: dict[int, tuple[int, int]] = {}
    words_seen = 0
    stream = enumerate(corpus.items(total, span))
    while batch := list(itertools.islice(stream, BATCH)):
        # Texts are generated a batch at a time, outside the timed loop: generating each
        # one between two timed items evicts the caches the timed work relies on, and
        # slowed it by about a third. A poll hands the index a batch of items too.
        for n, item in batch:
            words_seen += len(item.text.split())
            started = time.perf_counter()
            fp = fingerprint(item.title, item.text)
            placement = index.place(fp, at=item.at, official=item.official)
            # Story keys are strings in the service (the first item's URL key): so here too.
            story = placement.story_id if placement else f"url:outlet.example/2025/story-{n}"
            index.add(n, story, fp, at=item.at, official=item.official)
            durations.append(time.perf_counter() - started)
            labels[n] = item.story
            predicted[n] = story
            if measure and n + 1 in CHECKPOINTS:
                rss = resident()  # before the walk, which needs memory of its own
                memory[n + 1] = (deep_size(index), rss)
    precision, recall = _pairwise(labels, predicted)
    return Run(durations, memory, index.stats(), precision, recall, words_seen / len(durations))


def deep_size(root: object) -> int:
    """Bytes of every object reachable from `root` (classes and modules excluded), once."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def resident() -> int:
    """Current resident set size in bytes (Linux), else the peak so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _pairwise(labels: dict[int, int], predicted: dict[int, str]) -> tuple[float, float]:
    def pairs(counter: Counter[object]) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    true = pairs(Counter(labels.values()))
    found = pairs(Counter(predicted.values()))
    correct = pairs(Counter((labels[i], predicted[i]) for i in labels))
    return (correct / found if found else 1.0, correct / true if true else 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=CHECKPOINTS[-1])
    parser.add_argument("--words", type=int, default=200, help="mean words per item")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory walks")
    parser.add_argument(
        "--days",
        type=float,
        default=SPAN.days,
        help="days the items span; beyond 14 the window is full and evicts (steady state)",
    )
    args = parser.parse_args()

    span = timedelta(days=args.days)
    result = run(args.items, args.words, measure=not args.no_memory, span=span)
    durations = result.durations
    n = len(durations)
    print(
        f"### Story clustering: {n:,} synthetic items over {args.days:g} days, "
        f"{result.words:.0f} words each on average, one core"
    )
    print()
    print("| items so far | items/s | us/item (mean) | us/item (p99) |")
    print("|---:|---:|---:|---:|")
    edges = [0, *[c for c in CHECKPOINTS if c < n], n]
    for lo, hi in itertools.pairwise(edges):
        part = sorted(durations[lo:hi])
        mean = sum(part) / len(part)
        print(
            f"| {lo:,}-{hi:,} | {1 / mean:,.0f} | {mean * 1e6:.0f} | "
            f"{part[int(0.99 * (len(part) - 1))] * 1e6:.0f} |"
        )
    tenth = max(1, n // 10)
    first = sum(durations[:tenth]) / tenth
    last = sum(durations[-tenth:]) / tenth
    print()
    print(
        f"- Flatness: first 10% {first * 1e6:.0f} us/item, last 10% {last * 1e6:.0f} us/item "
        f"(ratio {last / first:.2f}); overall {n / sum(durations):,.0f} items/s"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    walks = " (including the memory walks' own bookkeeping)" if not args.no_memory else ""
    print(f"- Peak RSS of the whole process: {peak:,.0f} MB{walks}")
    print(f"- Index at the end: {result.stats}")
    print(
        f"- Pairwise precision {result.precision:.4f}, recall {result.recall:.4f} "
        "on the generator's labels"
    )

    print()
    print("| words per item (mean) | items/s (5,000 items) |")
    print("|---:|---:|")
    for words in (60, 200, 500):
        short = run(5_000, words)
        print(f"| {short.words:.0f} | {len(short.durations) / sum(short.durations):,.0f} |")

    if memory := result.memory:
        print()
        print("| items in the window | index (deep size) | process RSS |")
        print("|---:|---:|---:|")
        for size, (held, rss) in memory.items():
            print(f"| {size:,} | {held / 2**20:,.0f} MB | {rss / 2**20:,.0f} MB |")


if __name__ == "__main__":
    main()
