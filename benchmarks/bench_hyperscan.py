"""Hyperscan on our corpus, for the engine choice: `python benchmarks/bench_hyperscan.py`.

Not a project dependency: install it beside the benchmark (`pip install hyperscan`, or
`pip install --target DIR hyperscan` and set PYTHONPATH=DIR). Compiles the first 1,000
and 10,000 watched names of the matching benchmark's corpus as caseless whole-word
patterns and scans the 25,000 items' raw UTF-8 bytes (no normalisation, no
transliteration: Hyperscan's `\\b` is refused in Unicode mode, so this is ASCII-only
matching, a lower bound on the work our engine does). Prints build time and items/s.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import make_corpus

SEED = 20240216


def main() -> None:
    try:
        import hyperscan  # type: ignore[import-not-found]
    except ImportError:
        print("hyperscan is not installed: pip install hyperscan (not a project dependency)")
        return
    corpus = make_corpus(SEED, watched=100_000, items=25_000)
    data = [(item.title + "\n" + item.summary).encode() for item in corpus.items]
    for n in (1_000, 10_000):
        expressions = [(r"\b" + re.escape(w.name) + r"\b").encode() for w in corpus.watched[:n]]
        database = hyperscan.Database()
        started = time.perf_counter()
        database.compile(
            expressions=expressions,
            ids=list(range(n)),
            flags=[hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_UTF8] * n,
        )
        build = time.perf_counter() - started
        hits = 0

        def on_match(*_: object) -> None:
            nonlocal hits
            hits += 1

        started = time.perf_counter()
        for body in data:
            database.scan(body, match_event_handler=on_match)
        seconds = time.perf_counter() - started
        print(
            f"hyperscan, {n:,} patterns: build {build:.1f} s, "
            f"{len(data) / seconds:,.0f} items/s (raw bytes, no normalisation), {hits:,} hits"
        )


if __name__ == "__main__":
    main()
