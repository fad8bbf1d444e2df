"""User regular expressions, run by RE2 so that no pattern can hang the poller.

Python's `re` backtracks: `(a+)+$` on forty "a"s and a "b" takes longer than the age of
the universe. RE2 (google-re2) guarantees time linear in the text, at the price of
rejecting backreferences and lookaround, which we report as a clear error.
"""

from __future__ import annotations

from typing import Any

import re2

from alerts.matching.terms import text_problem

__all__ = ["MAX_REGEX_LENGTH", "compile_regex", "regex_problem"]

MAX_REGEX_LENGTH = 500

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False  # we report errors ourselves; RE2 would print them to stderr
_OPTIONS.max_mem = 8 << 20  # per pattern; a huge counted repetition is refused, not built

# Constructs RE2 refuses, with what to write instead.
_HINTS = (
    ("(?=", "lookahead (?=...) is not supported"),
    ("(?!", "negative lookahead (?!...) is not supported"),
    ("(?<=", "lookbehind (?<=...) is not supported"),
    ("(?<!", "negative lookbehind (?<!...) is not supported"),
    ("(?>", "atomic groups (?>...) are not supported"),
    ("(?P=", "backreferences are not supported"),
)


def compile_regex(pattern: str) -> Any:
    """Compile `pattern` case-insensitively with RE2; ValueError with a readable reason."""
    if problem := regex_problem(pattern):
        raise ValueError(problem)
    return re2.compile(pattern, _OPTIONS)


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be used as a watchlist regex, or None."""
    if problem := text_problem(pattern, "regex", MAX_REGEX_LENGTH):
        return problem
    for construct, message in _HINTS:
        if construct in pattern:
            return f"regex: {message} (RE2 runs in linear time and has no backtracking)"
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else b""
        reason = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        reason = reason or "invalid pattern"
        if "\\1" in pattern or "\\2" in pattern:
            reason = "backreferences (\\1) are not supported"
        return f"regex is not valid RE2 syntax: {reason}"
    except Exception as exc:  # google-re2 raises plain errors for some inputs
        return f"regex is not valid RE2 syntax: {exc}"
    if compiled.search("") is not None:
        return "regex matches empty text, so it would match every item"
    return None
