"""Snippets: the original text around a hit, with the hit's place in it."""

from __future__ import annotations

import re

__all__ = ["SNIPPET_CONTEXT", "snippet"]

SNIPPET_CONTEXT = 60  # characters of original text kept on each side of a match
_WS_RE = re.compile(r"\s+")


def snippet(
    text: str, start: int, end: int, context: int = SNIPPET_CONTEXT
) -> tuple[str, tuple[int, int]]:
    """Original text around [start, end) and the hit's [start, end) within it.

    About `context` characters each side, cut at whitespace (a hard cut only when the
    window has none, e.g. CJK), "…" where text was cut, runs of whitespace collapsed.
    Paragraph breaks ("\\n" in summaries and contents) are whitespace too, so a snippet is
    always one line; the highlight is measured on the collapsed text, so it stays right.
    """
    left = max(0, start - context)
    if 0 < left < start and not text[left - 1].isspace() and not text[left].isspace():
        space = _WS_RE.search(text, left, start)
        if space is not None:
            left = space.end()
    right = min(len(text), end + context)
    if end < right < len(text) and not text[right].isspace() and not text[right - 1].isspace():
        for k in range(right - 1, end - 1, -1):
            if text[k].isspace():
                right = k
                break
    before = _WS_RE.sub(" ", text[left:start]).lstrip()
    hit = _WS_RE.sub(" ", text[start:end])
    after = _WS_RE.sub(" ", text[end:right]).rstrip()
    prefix = "…" if text[:left].strip() else ""
    suffix = "…" if text[right:].strip() else ""
    at = len(prefix) + len(before)
    return f"{prefix}{before}{hit}{after}{suffix}", (at, at + len(hit))
