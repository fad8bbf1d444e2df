"""Matching benchmark for issue 3: `python benchmarks/bench_matching.py [--quick] [--json]`.

What is measured, for N watched entries in 1,000 / 10,000 / 100,000 and two configurations
(`terms`: N plain terms; `terms+entities`: N/2 plain terms and N/2 person and organisation
entities with their aliases), all through the stable API `compile_watchlists(...).match(item)`:

* build s: wall time (time.perf_counter) of `compile_watchlists`.
* items/s: every item's title and summary matched by one process on one core, best of
  3 passes over the items (the median and every pass are in the JSON). Each pass sees the
  same items, so caches warmed by one pass help the next, as in a long-running service.
* matches, items matched: what the engine found over all items.
* traced peak MB / traced kept MB: `tracemalloc` peak during a second, untimed compile,
  and what it still holds when compile returns (about the matcher's size). Python
  allocations only: memory a C extension takes from malloc directly is not seen.
* RSS growth MB: resident set size (/proc/self/statm) after the timed compile minus
  before it. Every configuration runs in its own forked process that has compiled nothing
  before, so this is real process growth, C allocations and allocator slack included.

Naive baseline: what feed tools do, one `re.compile(rf"\\b{re.escape(term)}\\b", re.I)` per
term, each searched in title + summary, at 10,000 terms. It manages a few items/s, so it is
timed on 20 items (10 that mention a watched name, 10 at random); the speed-up is the
engine's items/s (10,000 terms, `terms`) over the naive loop's. On the same sample, the
terms each finds are compared item by item; the engine may find more where it tolerates
variants (hyphenated names, folding, transliteration).

The corpus is generated from a fixed seed (benchmarks/corpus.py): 100,000 watched names
(persons, companies, phrases in equal shares) and 25,000 items of ~100 words, about 4% of
them mentioning watched names. `--quick` measures 1,000 and 10,000 terms over the first
2,500 items (well under a minute). `--json` prints the figures as one JSON object on
stdout, and the table on stderr. Linux only (/proc). Benchmarks are never timed tests.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import traceback
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.domain import Item, MatchKind
from alerts.matching import Matcher, compile_watchlists
from benchmarks.corpus import Corpus, make_corpus, watchlists

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240216
FULL_TERMS = (1_000, 10_000, 100_000)
FULL_ITEMS = 25_000
QUICK_TERMS = (1_000, 10_000)
QUICK_ITEMS = 2_500
# The headline figure excludes fuzzy re-checks ("terms+entities"); the cost of
# fuzzy entity matching is measured on its own ("terms+entities+fuzzy", the service's mode).
CONFIGS = ("terms", "terms+entities", "terms+entities+fuzzy")
RUNS = 3
RUN_BUDGET_S = 120.0  # a slow engine stops after fewer passes once it has spent this long
NAIVE_TERMS = 10_000
NAIVE_SAMPLE = 20  # half mentioning a watched name, half at random
MB = 2**20

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EngineFigures:
    """One configuration of the engine: N entries, terms only or half entities."""

    entries: int
    config: str
    terms: int
    entities: int
    engine: str  # the class behind compile_watchlists, so figures say what was measured
    build_s: float
    items: int
    items_per_s: float  # best pass
    items_per_s_median: float
    runs_s: tuple[float, ...]
    matches: int
    items_matched: int
    traced_peak_mb: float
    traced_kept_mb: float
    rss_growth_mb: float


@dataclass(frozen=True, slots=True)
class NaiveFigures:
    """The one-regex-per-term loop against the engine, on a small sample."""

    terms: int
    sample_items: int
    compile_s: float
    items_per_s: float
    engine_items_per_s: float
    speedup: float
    items_agreeing_on_match: int  # both find some term, or both find none
    items_agreeing_on_terms: int  # both find exactly the same terms
    term_hits_naive: int
    term_hits_engine: int
    term_hits_both: int
    differences: tuple[str, ...]


# -- measuring ------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def in_fresh_process(task: Callable[[], T]) -> T:
    """`task()` run in a forked child, so its memory figures start from an unused heap."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def run() -> None:
        try:
            sender.send((True, task()))
        except BaseException:
            sender.send((False, traceback.format_exc()))

    child = context.Process(target=run)
    child.start()
    sender.close()  # so recv() sees EOF if the child dies without answering
    try:
        ok, value = receiver.recv()
    except EOFError:
        raise RuntimeError(f"benchmark process died (exit code {child.exitcode})") from None
    finally:
        child.join()
    if not ok:
        raise RuntimeError(f"benchmark process failed:\n{value}")
    return value  # type: ignore[no-any-return]


def match_all(matcher: Matcher, items: Sequence[Item]) -> tuple[float, int, int]:
    """Seconds to match every item, matches found, items with at least one match."""
    matches = matched = 0
    started = time.perf_counter()
    for item in items:
        found = matcher.match(item)
        if found:
            matched += 1
            matches += len(found)
    return time.perf_counter() - started, matches, matched


def engine_terms(matcher: Matcher, item: Item) -> dict[str, str]:
    """Term -> the text it matched, for the term matches the engine finds in `item`."""
    found: dict[str, str] = {}
    for m in matcher.match(item):
        if m.kind is MatchKind.TERM:
            found.setdefault(m.term, getattr(item, m.field)[m.start : m.end])
    return found


def measure_engine(
    corpus: Corpus, entries: int, config: str, items: Sequence[Item], sample: Sequence[int]
) -> tuple[EngineFigures, list[dict[str, str]]]:
    """Figures for one configuration, and the terms found in each `sample` item."""
    lists = watchlists(corpus.watched[:entries], entities="entities" in config)
    fuzzy = config.endswith("+fuzzy")
    gc.collect()
    rss_before = rss_bytes()
    started = time.perf_counter()
    matcher = compile_watchlists(lists, fuzzy=fuzzy)
    build_s = time.perf_counter() - started
    rss_growth = rss_bytes() - rss_before

    runs: list[float] = []
    matches = matched = 0
    while len(runs) < RUNS and sum(runs) < RUN_BUDGET_S:
        seconds, matches, matched = match_all(matcher, items)
        runs.append(seconds)
    sample_terms = [engine_terms(matcher, corpus.items[i]) for i in sample]

    # Tracing slows allocation several-fold, so the traced compile is a separate one.
    gc.collect()
    tracemalloc.start()
    traced = compile_watchlists(lists, fuzzy=fuzzy)
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced

    figures = EngineFigures(
        entries=entries,
        config=config,
        terms=sum(len(w.terms) for w in lists),
        entities=sum(len(w.entities) for w in lists),
        engine=f"{type(matcher).__module__}.{type(matcher).__qualname__}",
        build_s=round(build_s, 3),
        items=len(items),
        items_per_s=round(len(items) / min(runs)),
        items_per_s_median=round(len(items) / statistics.median(runs)),
        runs_s=tuple(round(r, 3) for r in runs),
        matches=matches,
        items_matched=matched,
        traced_peak_mb=round(peak / MB, 1),
        traced_kept_mb=round(kept / MB, 1),
        rss_growth_mb=round(rss_growth / MB, 1),
    )
    return figures, sample_terms


def naive_patterns(terms: Sequence[str]) -> list[tuple[str, re.Pattern[str]]]:
    """One whole-word, case-insensitive regex per term, as feed tools write them."""
    return [(t, re.compile(rf"\b{re.escape(t)}\b", re.IGNORECASE)) for t in terms]


def naive_terms(patterns: Sequence[tuple[str, re.Pattern[str]]], item: Item) -> dict[str, str]:
    """Term -> the text it matched, trying every pattern on title + summary."""
    text = f"{item.title}\n{item.summary}"
    found: dict[str, str] = {}
    for term, pattern in patterns:
        if m := pattern.search(text):
            found[term] = m.group()
    return found


def measure_naive(
    corpus: Corpus, sample: Sequence[int], engine: EngineFigures, engine_found: list[dict[str, str]]
) -> NaiveFigures:
    """Time the naive loop on `sample` and compare what it finds with the engine."""
    started = time.perf_counter()
    patterns = naive_patterns([w.name for w in corpus.watched[:NAIVE_TERMS]])
    compile_s = time.perf_counter() - started

    started = time.perf_counter()
    naive_found = [naive_terms(patterns, corpus.items[i]) for i in sample]
    items_per_s = len(sample) / (time.perf_counter() - started)

    # (who found it, term, text it matched) -> items, so one noisy term is one line
    differences: dict[tuple[str, str, str], list[str]] = {}
    for i, naive, found in zip(sample, naive_found, engine_found, strict=True):
        guid = corpus.items[i].guid or str(i)
        for term in found.keys() - naive.keys():
            differences.setdefault(("engine", term, found[term]), []).append(guid)
        for term in naive.keys() - found.keys():
            differences.setdefault(("naive", term, naive[term]), []).append(guid)
    pairs = list(zip(naive_found, engine_found, strict=True))
    return NaiveFigures(
        terms=len(patterns),
        sample_items=len(sample),
        compile_s=round(compile_s, 3),
        items_per_s=round(items_per_s, 2),
        engine_items_per_s=engine.items_per_s,
        speedup=round(engine.items_per_s / items_per_s),
        items_agreeing_on_match=sum(bool(n) == bool(e) for n, e in pairs),
        items_agreeing_on_terms=sum(n.keys() == e.keys() for n, e in pairs),
        term_hits_naive=sum(len(n) for n, _ in pairs),
        term_hits_engine=sum(len(e) for _, e in pairs),
        term_hits_both=sum(len(n.keys() & e.keys()) for n, e in pairs),
        differences=tuple(
            f'{who} only: "{term}" as "{text}" in {len(guids)} item(s): {", ".join(guids)}'
            for (who, term, text), guids in sorted(differences.items())
        ),
    )


def naive_sample(corpus: Corpus, items: int) -> list[int]:
    """Item indexes: half mention a name among the naive loop's terms, half are random."""
    rng = random.Random(SEED)
    mentioning = [i for i in range(items) if any(w < NAIVE_TERMS for w in corpus.mentions[i])]
    half = min(NAIVE_SAMPLE // 2, len(mentioning))
    chosen = set(rng.sample(mentioning, half))
    others = [i for i in range(items) if i not in chosen]
    chosen.update(rng.sample(others, NAIVE_SAMPLE - half))
    return sorted(chosen)


# -- describing -----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """Where and when the figures were taken, and from which commit."""
    cpu = platform.processor() or "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        kib = int(meminfo.readline().split()[1])  # MemTotal comes first
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cpus": str(os.cpu_count()),
        "memory": f"{kib / 2**20:.1f} GiB",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit or "unknown",
    }


def describe_corpus(corpus: Corpus, items: int, entries: int) -> dict[str, Any]:
    """What the measured part of the corpus holds."""
    used = corpus.items[:items]
    title_words = sum(len(i.title.split()) for i in used) / items
    summary_words = sum(len(i.summary.split()) for i in used) / items
    sorts = Counter(w.sort.value for w in corpus.watched[:entries])
    return {
        "seed": corpus.seed,
        "items": items,
        "words_per_item": round(title_words + summary_words, 1),
        "title_words": round(title_words, 1),
        "summary_words": round(summary_words, 1),
        "vocabulary": len(corpus.vocabulary),
        "items_mentioning_watched": sum(1 for m in corpus.mentions[:items] if m),
        "watched_sorts": dict(sorts),
    }


def print_report(
    out: TextIO,
    info: dict[str, str],
    corpus: dict[str, Any],
    figures: Sequence[EngineFigures],
    naive: NaiveFigures | None,
    command: str,
    elapsed_s: float,
) -> None:
    """The figures as Markdown, ready for docs/benchmarks.md."""
    engines = sorted({f.engine for f in figures})
    print(f"- Command: `{command}` ({elapsed_s:.0f} s in all)", file=out)
    print(f"- Machine: {info['cpu']}, {info['cpus']} CPUs, {info['memory']} RAM", file=out)
    print(f"- Python: {info['python']} on {info['os']}", file=out)
    print(f"- Date: {info['date']}; commit {info['commit']}; engine {', '.join(engines)}", file=out)
    sorts = ", ".join(f"{n:,} {s}" for s, n in corpus["watched_sorts"].items())
    print(
        f"- Corpus: {corpus['items']:,} items of {corpus['words_per_item']} words on average"
        f" (title {corpus['title_words']} + summary {corpus['summary_words']}),"
        f" {corpus['vocabulary']:,}-word Zipf vocabulary, seed {corpus['seed']};"
        f" {corpus['items_mentioning_watched']:,} items mention watched names;"
        f" largest watchlist set: {sorts}",
        file=out,
    )
    print(file=out)
    header = (
        "| entries | mode | terms / entities | build s | items/s | passes | matches "
        "| items matched | traced peak MB | traced kept MB | RSS growth MB |"
    )
    print(header, file=out)
    print("|" + "---:|" * (header.count("|") - 1), file=out)
    for f in figures:
        print(
            f"| {f.entries:,} | {f.config} | {f.terms:,} / {f.entities:,} | {f.build_s:.2f} "
            f"| {f.items_per_s:,} | {len(f.runs_s)} | {f.matches:,} | {f.items_matched:,} "
            f"| {f.traced_peak_mb:.1f} | {f.traced_kept_mb:.1f} | {f.rss_growth_mb:.1f} |",
            file=out,
        )
    print(file=out)
    print(
        "items/s: best of the passes over all items (title + summary), one process, one core."
        " traced: tracemalloc during a separate compile (peak; still held after it)."
        " RSS growth: /proc/self/statm around the timed compile, in a fresh forked process.",
        file=out,
    )
    if naive is None:
        return
    print(file=out)
    print(
        f"Naive baseline, one `re` per term (\\b...\\b, IGNORECASE) over title + summary,"
        f" {naive.terms:,} terms, {naive.sample_items} sample items:",
        file=out,
    )
    print(
        f"- {naive.items_per_s:.2f} items/s (regexes compiled in {naive.compile_s:.2f} s);"
        f" engine {naive.engine_items_per_s:,} items/s: speed-up {naive.speedup:,}x"
        f" (target >= 1,000x)",
        file=out,
    )
    print(
        f"- agreement on which items match: {naive.items_agreeing_on_match}/{naive.sample_items};"
        f" on the exact terms found: {naive.items_agreeing_on_terms}/{naive.sample_items}"
        f" (term hits: naive {naive.term_hits_naive}, engine {naive.term_hits_engine},"
        f" both {naive.term_hits_both})",
        file=out,
    )
    for difference in naive.differences:
        print(f"  - {difference}", file=out)


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k/10k terms, 2,500 items")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    sizes = QUICK_TERMS if args.quick else FULL_TERMS
    item_count = QUICK_ITEMS if args.quick else FULL_ITEMS
    progress = sys.stderr
    command = " ".join(["python benchmarks/bench_matching.py", *sys.argv[1:]])
    began = time.perf_counter()

    # Always the full corpus, so a quick run measures a prefix of the same items and terms.
    corpus = make_corpus(SEED, watched=max(FULL_TERMS), items=FULL_ITEMS)
    items = corpus.items[:item_count]
    sample = naive_sample(corpus, item_count)
    print(f"corpus generated in {time.perf_counter() - began:.1f} s", file=progress, flush=True)

    figures: list[EngineFigures] = []
    naive: NaiveFigures | None = None
    for entries in sizes:
        for config in CONFIGS:
            print(f"measuring {entries:,} entries, {config} ...", file=progress, flush=True)
            task = partial(measure_engine, corpus, entries, config, items, sample)
            result, found = in_fresh_process(task)
            figures.append(result)
            if entries == NAIVE_TERMS and config == "terms":
                print(
                    f"measuring the naive loop on {len(sample)} items ...",
                    file=progress,
                    flush=True,
                )
                naive = measure_naive(corpus, sample, result, found)

    info = machine()
    described = describe_corpus(corpus, item_count, max(sizes))
    elapsed = time.perf_counter() - began
    out = sys.stderr if args.json else sys.stdout
    print_report(out, info, described, figures, naive, command, elapsed)
    if args.json:
        report = {
            "command": command,
            "machine": info,
            "corpus": described,
            "engine": [asdict(f) for f in figures],
            "naive": asdict(naive) if naive else None,
            "elapsed_s": round(elapsed, 1),
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
