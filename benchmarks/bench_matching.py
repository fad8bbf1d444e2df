"""Benchmark watchlist compilation and matching: `python benchmarks/bench_matching.py`.

Generates N terms (words and 2-3 word phrases, Latin and Cyrillic) and M synthetic items of
about 2 KB mixing both scripts, then times compiling and matching with time.perf_counter.
Peak memory is measured in a separate tracemalloc pass, since tracing slows everything.
Deterministic (fixed seed); runs in a few seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.domain import Item, Watchlist
from alerts.matching import Matcher, compile_watchlists

LATIN = "abcdefghijklmnopqrstuvwxyz"
LATIN_EXTRA = "éèüöäłøßçñ"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщыьэюя"


def make_vocabulary(rng: random.Random, size: int) -> list[str]:
    words = []
    for i in range(size):
        alphabet = CYRILLIC if i % 3 == 0 else LATIN + (LATIN_EXTRA if i % 7 == 0 else "")
        words.append("".join(rng.choice(alphabet) for _ in range(rng.randint(3, 10))))
    return words


def make_terms(rng: random.Random, vocab: list[str], count: int) -> tuple[str, ...]:
    """Terms mostly made of words absent from the items, so matches stay realistic (a few
    per item), but every term shares the trie with words that do occur."""
    rare = make_vocabulary(rng, count)
    terms = []
    for _ in range(count):
        n = rng.choice((1, 1, 2, 3))
        words = [rng.choice(vocab)] + [rng.choice(vocab) for _ in range(n - 1)]
        if rng.random() < 0.98:
            words[-1] = rng.choice(rare)  # shares a prefix with text, does not complete
        term = " ".join(words)
        terms.append(f'"{term}"' if n > 1 and rng.random() < 0.5 else term.title())
    return tuple(terms)


def make_items(rng: random.Random, vocab: list[str], count: int, size: int = 2000) -> list[Item]:
    items = []
    for i in range(count):
        words: list[str] = []
        length = 0
        while length < size:
            word = rng.choice(vocab)
            if rng.random() < 0.1:
                word = word.upper()
            sep = rng.choice((" ", " ", " ", ", ", ". ", "-", "\n", "'s "))
            words.append(word + sep)
            length += len(word) + len(sep)
        title = " ".join(rng.choice(vocab).title() for _ in range(8))
        items.append(
            Item(feed="bench", guid=str(i), link=None, title=title, summary="".join(words))
        )
    return items


def time_run(matcher: Matcher, items: list[Item]) -> tuple[float, int]:
    started = time.perf_counter()
    total = 0
    for item in items:
        total += len(matcher.match(item))
    return time.perf_counter() - started, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500, help="items per run (default 500)")
    parser.add_argument("--terms", type=int, nargs="*", default=[1_000, 10_000])
    args = parser.parse_args()

    rng = random.Random(20240216)
    vocab = make_vocabulary(rng, 5_000)
    items = make_items(rng, vocab, args.items)
    avg_kb = sum(len(i.title) + len(i.summary) for i in items) / len(items) / 1024
    print(f"{len(items)} items, {avg_kb:.1f} KB of text each on average (Latin + Cyrillic)\n")

    header = (
        f"{'terms':>7} {'compile ms':>11} {'items/s':>9} {'µs/item':>9} "
        f"{'matches/item':>13} {'peak MB compile':>16} {'peak MB match':>14}"
    )
    print(header)
    print("-" * len(header))
    for n_terms in args.terms:
        terms = make_terms(rng, vocab, n_terms)
        watchlists = [Watchlist(f"list{k}", terms[k::10]) for k in range(10)]

        started = time.perf_counter()
        matcher = compile_watchlists(watchlists)
        compile_s = time.perf_counter() - started
        time_run(matcher, items[:20])  # warm the folding caches, as a running service has
        match_s, total = time_run(matcher, items)

        tracemalloc.start()
        traced = compile_watchlists(watchlists)
        _, compile_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        time_run(traced, items[:50])
        _, match_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        print(
            f"{n_terms:>7} {compile_s * 1000:>11.1f} {len(items) / match_s:>9.0f} "
            f"{match_s / len(items) * 1e6:>9.0f} {total / len(items):>13.2f} "
            f"{compile_peak / 2**20:>16.2f} {(match_peak - base) / 2**20:>14.2f}"
        )


if __name__ == "__main__":
    main()
