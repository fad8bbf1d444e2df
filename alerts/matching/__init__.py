"""Watchlist matching: which watchlist entries an item mentions, where, and why.

Pure logic over `alerts.domain` records: it must not import I/O or framework packages
(httpx, feedparser, sqlalchemy, jinja2, apscheduler) nor any other `alerts` layer. The
modules read in pipeline order: `keys` (words and their comparison keys), `names` (the
spellings of an entity; `countries` for country entities), `query` (boolean queries
and facet filters), `regexes` (RE2), `fuzzy` (typos around an exact name part), `engine`
(one compiled automaton for every watchlist; entities named by official list changes),
`snippets` (text around a hit), `importing` (entities from FtM or CSV), `terms` (checks
shared by every entry).
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
