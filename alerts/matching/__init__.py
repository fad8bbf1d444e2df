"""Watchlist matching: which watchlist entries an item mentions, where, and why.

Pure logic over `alerts.domain` records: it must not import I/O or framework packages
(httpx, feedparser, sqlalchemy, jinja2, apscheduler) nor any other `alerts` layer. The
modules read in pipeline order: `keys` (words and their comparison keys), `names` (the
spellings of an entity), `query` (boolean queries), `regexes` (RE2), `engine` (one
compiled automaton for every watchlist), `importing` (entities from FtM or CSV).
"""

from alerts.matching.engine import (
    CompiledMatcher,
    Explanation,
    Matcher,
    Veto,
    WatchlistProblem,
    compile_watchlists,
    snippet,
    watchlist_problems,
)
from alerts.matching.terms import term_problem

__all__ = [
    "CompiledMatcher",
    "Explanation",
    "Matcher",
    "Veto",
    "WatchlistProblem",
    "compile_watchlists",
    "snippet",
    "term_problem",
    "watchlist_problems",
]
