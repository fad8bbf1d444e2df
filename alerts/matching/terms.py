"""Watchlist terms: how one is written, checked and turned into folded words."""

from __future__ import annotations

import unicodedata

from alerts.matching.keys import MAX_WORD, PLACEHOLDER, plain_key, words

__all__ = ["MAX_TERM_LENGTH", "parse_term", "term_problem", "term_tokens", "text_problem"]

MAX_TERM_LENGTH = 200

# Surrounding quotes are optional: `"sanctions against Russia"` == `sanctions against Russia`.
_QUOTE_PAIRS = (('"', '"'), ("“", "”"))


def parse_term(raw: str) -> str:
    """The term as written, without surrounding whitespace or one pair of surrounding quotes."""
    term = raw.strip()
    for open_q, close_q in _QUOTE_PAIRS:
        if len(term) >= 2 and term.startswith(open_q) and term.endswith(close_q):
            return term[1:-1].strip()
    return term


def term_tokens(raw: str) -> tuple[str, ...]:
    """The keys of a term's words, in order; empty if it has no letters or digits."""
    keys = (plain_key(w) for w in words(parse_term(raw).rstrip("*")))
    return tuple(k for k in keys if k != PLACEHOLDER)


def text_problem(text: str, what: str = "term", limit: int = MAX_TERM_LENGTH) -> str | None:
    """Checks shared by every watchlist entry (terms, queries, regexes, entity names).

    Empty, longer than `limit` characters, or holding a control character (which no real
    spelling has and which usually means a broken import).
    """
    stripped = text.strip()
    if not stripped:
        return f"{what} is empty"
    if len(stripped) > limit:
        return f"{what} is too long ({len(stripped)} characters, at most {limit})"
    if stripped.isprintable():
        return None  # the common case; only non-printable text can hold a control character
    for i, ch in enumerate(stripped):
        if unicodedata.category(ch) == "Cc":
            return f"{what} has a control character (U+{ord(ch):04X}) at column {i + 1}"
    return None


def term_problem(term: str) -> str | None:
    """A human message saying why `term` is invalid, or None if it is fine."""
    if problem := text_problem(term):
        return problem
    stripped = term.strip()
    if not parse_term(stripped):
        return "term is empty"
    if stripped.count('"') % 2:
        return 'term has an unbalanced double quote (")'
    if any(len(w) > MAX_WORD for w in words(stripped)):
        return f"term has a word longer than {MAX_WORD} characters, which text never matches"
    if not term_tokens(stripped):
        return "term has no letters or digits"
    return None
