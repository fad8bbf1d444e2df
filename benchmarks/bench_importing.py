"""Entity-list import speed: `python benchmarks/bench_importing.py [--lines N]`.

Parses N generated OpenSanctions-style FtM JSON lines (3 in 5 persons with a Cyrillic
alias, the rest sanctions, addresses and blank lines, as tests/test_importing.py builds
them) with `alerts.matching.importing.parse_ftm`, and prints lines per second and the
peak traced memory, ready for docs/benchmarks.md. The lines are generated before timing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.matching.importing import parse_ftm


def line(i: int) -> str:
    match i % 5:
        case 0 | 1 | 2:
            props = {"name": [f"Ivan Petrovich Testov {i}"], "alias": [f"Иван Тестов {i}"]}
            return json.dumps({"id": f"NK-{i}", "schema": "Person", "properties": props})
        case 3:
            props = {"entity": [f"NK-{i - 1}"]}
            return json.dumps({"id": f"s-{i}", "schema": "Sanction", "properties": props})
        case _:
            if i % 10 == 4:
                return ""
            return json.dumps({"id": f"a-{i}", "schema": "Address", "properties": {}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    lines = [line(i) + "\n" for i in range(args.lines)]

    started = time.perf_counter()
    result = parse_ftm(lines)
    elapsed = time.perf_counter() - started

    tracemalloc.start()
    parse_ftm(lines)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"lines: {args.lines:,}  entities: {len(result.entities):,}")
    print(f"parse: {elapsed:.2f} s = {args.lines / elapsed:,.0f} lines/s")
    print(f"peak traced memory (second run): {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
