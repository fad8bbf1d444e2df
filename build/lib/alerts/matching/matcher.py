"""The first matching engine: whole-word terms and phrases over a token trie.

All terms of all watchlists are compiled into one trie keyed by folded words. Each field
is folded and tokenised once, then every word position walks the trie as far as the
following words allow, so the cost is O(words x longest phrase + matches), independent
of the number of terms.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from alerts.domain import Item, Match, Watchlist
from alerts.matching.normalize import fold, tokenize
from alerts.matching.terms import parse_term, term_tokens

__all__ = ["FIELDS", "SNIPPET_CONTEXT", "Matcher", "TermMatcher", "compile_watchlists", "snippet"]

FIELDS = ("title", "summary")  # matched in this order; Match.field is one of these
SNIPPET_CONTEXT = 60  # characters of original text kept on each side of a match

_SPACE_RE = re.compile(r"\s")


class Matcher(Protocol):
    """Finds why an item matches the compiled watchlists."""

    def match(self, item: Item) -> tuple[Match, ...]:
        """Every distinct (watchlist, term, field) found in `item`, at its first occurrence.

        Ordered by watchlist order, then field (title first), then position.
        """
        ...


class _Node:
    """A trie node: the next words, and the terms that end here as (watchlist, term) indexes."""

    __slots__ = ("children", "terms")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.terms: list[tuple[int, int]] = []


class TermMatcher:
    """Watchlists compiled into a word trie. Immutable after construction; thread-safe."""

    def __init__(self, watchlists: Sequence[Watchlist]) -> None:
        self._names = [w.name for w in watchlists]
        self._terms: list[list[str]] = []  # [watchlist][term index] -> term as written
        self._root = _Node()
        self.term_count = 0
        for wi, watchlist in enumerate(watchlists):
            written: list[str] = []
            seen: set[tuple[str, ...]] = set()
            for raw in watchlist.terms:
                words = term_tokens(raw)
                # Terms with no words cannot match (config checking reports them);
                # terms that fold to the same words in one watchlist ("Navalny",
                # "NAVALNY") would report the same text twice, so the first one wins.
                if not words or words in seen:
                    continue
                seen.add(words)
                node = self._root
                for word in words:
                    child = node.children.get(word)
                    if child is None:
                        child = node.children[word] = _Node()
                    node = child
                node.terms.append((wi, len(written)))
                written.append(parse_term(raw))
                self.term_count += 1
            self._terms.append(written)

    def match(self, item: Item) -> tuple[Match, ...]:
        """See `Matcher.match`."""
        found: list[tuple[int, int, int, int, Match]] = []
        for fi, field in enumerate(FIELDS):
            text: str = getattr(item, field)
            if not text:
                continue
            folded = fold(text)
            tokens = tokenize(folded)
            words = [t[0] for t in tokens]
            seen: set[tuple[int, int]] = set()
            root_children = self._root.children
            n = len(words)
            for i in range(n):
                node = root_children.get(words[i])
                k = i
                while node is not None:
                    for key in node.terms:
                        if key in seen:
                            continue
                        seen.add(key)  # tokens are scanned in order: first occurrence wins
                        start, end = folded.original_span(tokens[i][1], tokens[k][2])
                        wi, ti = key
                        m = Match(
                            watchlist=self._names[wi],
                            term=self._terms[wi][ti],
                            field=field,
                            start=start,
                            end=end,
                            snippet=snippet(text, start, end),
                        )
                        found.append((wi, fi, start, ti, m))
                    k += 1
                    if k >= n:
                        break
                    node = node.children.get(words[k])
        found.sort(key=lambda f: f[:4])
        return tuple(f[4] for f in found)


def compile_watchlists(watchlists: Sequence[Watchlist]) -> Matcher:
    """Compile every term of every watchlist into one matcher."""
    return TermMatcher(watchlists)


def snippet(text: str, start: int, end: int, context: int = SNIPPET_CONTEXT) -> str:
    """Original text around [start, end): about `context` characters each side.

    Cut at whitespace (a hard cut only when the window has no whitespace, e.g. CJK), "…"
    where text was cut, whitespace collapsed.
    """
    left = max(0, start - context)
    if 0 < left < start and not text[left - 1].isspace() and not text[left].isspace():
        space = _SPACE_RE.search(text, left, start)
        if space is not None:
            left = space.end()
    right = min(len(text), end + context)
    if end < right < len(text) and not text[right].isspace() and not text[right - 1].isspace():
        for k in range(right - 1, end - 1, -1):
            if text[k].isspace():
                right = k
                break
    body = " ".join(text[left:right].split())
    prefix = "…" if text[:left].strip() else ""
    suffix = "…" if text[right:].strip() else ""
    return f"{prefix}{body}{suffix}"
