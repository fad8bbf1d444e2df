"""Watchlist terms: how one is written, checked and turned into folded words."""

from __future__ import annotations

from alerts.matching.normalize import fold_tokens

__all__ = ["MAX_TERM_LENGTH", "parse_term", "term_problem", "term_tokens"]

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
    """The folded words a term matches, in order; empty if it has no letters or digits."""
    return fold_tokens(parse_term(raw))


def term_problem(term: str) -> str | None:
    """A human message saying why `term` is invalid, or None if it is fine."""
    stripped = term.strip()
    if not stripped or not parse_term(stripped):
        return "term is empty"
    if len(stripped) > MAX_TERM_LENGTH:
        return f"term is too long ({len(stripped)} characters, at most {MAX_TERM_LENGTH})"
    if stripped.count('"') % 2:
        return 'term has an unbalanced double quote (")'
    if not term_tokens(stripped):
        return "term has no letters or digits"
    return None
