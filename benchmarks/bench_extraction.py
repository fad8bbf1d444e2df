"""Full-text extraction benchmark for issue 4: `python benchmarks/bench_extraction.py [--repeat N]`.

On the hand-written article pages of `tests/data/pages/` that give an article (news outlets
syndicating one story, OFAC, EU Council and gov.uk pages, pages in mislabelled charsets),
four extractors are compared:

* `trafilatura + filter`: what the service runs, `alerts.sources.article.extract_article`
  (our decoding, trafilatura favouring precision, then `boilerplate.strip_promo`).
* `trafilatura alone`: `trafilatura.extract` on the raw bytes with the same options
  (precision, no comments, tables), trafilatura's own decoding, no filter.
* `readability + paragraphs`: readability-lxml's `Document(bytes).summary()`, turned into
  text by `alerts.sources.text.html_to_paragraphs`.
* `justext`: jusText's non-boilerplate paragraphs, with the stoplist of the page's
  `<html lang>` (English when it has none).

Figures, over all pages (each page's `x.expected.json` lists what must and must not be in
the text):

* body recall: share of the `must` sentences found in the text.
* leakage: share of the `must_not` phrases (navigation, share bars, cookie notes, promo
  footers, related-story headlines) found in the text. Lower is better.
* pages/s: the page set extracted `--repeat` times (30 by default) on one core; pages over
  the median wall time of one pass, so a busy moment on a shared machine counts little.

Texts are compared whitespace-collapsed and case-sensitive. A page an extractor fails on
counts as empty text. Benchmarks are never timed tests.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import justext  # type: ignore[import-untyped]
import trafilatura
from readability import Document  # type: ignore[import-untyped]

from alerts.errors import ExtractionError
from alerts.sources.article import extract_article
from alerts.sources.text import html_to_paragraphs

PAGES = Path(__file__).resolve().parent.parent / "tests" / "data" / "pages"
_LANG = re.compile(rb"<html[^>]*\blang=[\"']?([a-zA-Z]{2})", re.IGNORECASE)
_STOPLISTS = {"en": "English", "de": "German", "fr": "French", "ru": "Russian"}


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    body: bytes
    url: str
    content_type: str
    must: tuple[str, ...]
    must_not: tuple[str, ...]


def load_pages() -> list[Page]:
    """The pages whose expected JSON describes an article (not an error)."""
    pages = []
    for spec_path in sorted(PAGES.glob("*.expected.json")):
        spec: dict[str, Any] = json.loads(spec_path.read_text("utf-8"))
        if "error" in spec:
            continue
        name = spec_path.name.removesuffix(".expected.json")
        (path,) = [p for p in PAGES.glob(f"{name}.*") if p != spec_path]
        body = path.read_bytes()
        if path.suffix == ".gz":
            body = gzip.decompress(body)
        pages.append(
            Page(
                name,
                body,
                spec["url"],
                spec["content_type"],
                tuple(spec["must"]),
                tuple(spec["must_not"]),
            )
        )
    return pages


def ours(page: Page) -> str:
    try:
        return extract_article(page.body, url=page.url, content_type=page.content_type).text
    except ExtractionError:
        return ""


def trafilatura_alone(page: Page) -> str:
    text = trafilatura.extract(
        page.body,
        url=page.url,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    return text or ""


def readability_paragraphs(page: Page) -> str:
    try:
        return html_to_paragraphs(Document(page.body, url=page.url).summary(html_partial=True))
    except Exception:  # readability raises bare Exceptions on pages it cannot read
        return ""


def justext_paragraphs(page: Page) -> str:
    found = _LANG.search(page.body[:4096])
    language = _STOPLISTS.get(found.group(1).decode().lower() if found else "en", "English")
    paragraphs = justext.justext(page.body, justext.get_stoplist(language))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


EXTRACTORS: dict[str, Callable[[Page], str]] = {
    "trafilatura + filter": ours,
    "trafilatura alone": trafilatura_alone,
    "readability + paragraphs": readability_paragraphs,
    "justext": justext_paragraphs,
}


@dataclass(frozen=True, slots=True)
class Score:
    found: int
    must: int
    leaked: int
    must_not: int
    pages_per_second: float
    per_page: dict[str, tuple[int, int, int, int]]

    @property
    def recall(self) -> float:
        return self.found / self.must

    @property
    def leakage(self) -> float:
        return self.leaked / self.must_not


def score(extractor: Callable[[Page], str], pages: list[Page], repeat: int) -> Score:
    per_page = {}
    for page in pages:
        text = " ".join(extractor(page).split())
        found = sum(" ".join(s.split()) in text for s in page.must)
        leaked = sum(phrase in text for phrase in page.must_not)
        per_page[page.name] = (found, len(page.must), leaked, len(page.must_not))
    passes = []
    for _ in range(repeat):
        started = time.perf_counter()
        for page in pages:
            extractor(page)
        passes.append(time.perf_counter() - started)
    return Score(
        found=sum(v[0] for v in per_page.values()),
        must=sum(v[1] for v in per_page.values()),
        leaked=sum(v[2] for v in per_page.values()),
        must_not=sum(v[3] for v in per_page.values()),
        pages_per_second=len(pages) / statistics.median(passes),
        per_page=per_page,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=30, help="passes over the pages to time")
    args = parser.parse_args()
    pages = load_pages()
    warnings.simplefilter("ignore")  # readability and justext warn on odd markup
    scores = {name: score(extractor, pages, args.repeat) for name, extractor in EXTRACTORS.items()}

    must = sum(len(p.must) for p in pages)
    must_not = sum(len(p.must_not) for p in pages)
    print(
        f"{len(pages)} pages, {must} must-have sentences, {must_not} must-not phrases; "
        f"median of {args.repeat} timed passes; Python {platform.python_version()}, "
        f"trafilatura {trafilatura.__version__}"
    )
    print()
    print("| extractor | body recall | furniture leakage | pages/s |")
    print("|---|---:|---:|---:|")
    for name, s in scores.items():
        print(
            f"| {name} | {s.recall:.1%} ({s.found}/{s.must}) "
            f"| {s.leakage:.1%} ({s.leaked}/{s.must_not}) | {s.pages_per_second:,.0f} |"
        )
    print()
    print("Per page: sentences found / must-have, phrases leaked / must-not")
    print()
    print("| page | " + " | ".join(scores) + " |")
    print("|---|" + "---:|" * len(scores))
    for page in pages:
        cells = []
        for s in scores.values():
            found, total, leaked, bad = s.per_page[page.name]
            cells.append(f"{found}/{total}, {leaked}/{bad}")
        print(f"| {page.name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
