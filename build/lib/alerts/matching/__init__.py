"""Watchlist matching: which watchlist terms an item mentions, and where.

Pure logic over `alerts.domain` records. It must not import I/O or framework packages
(httpx, feedparser, sqlalchemy, jinja2, apscheduler) nor any other `alerts` layer: only
the standard library and `alerts.domain`.

The rest of the service uses only this interface; the engine behind `compile_watchlists`
(today whole-word terms and phrases, see `matcher`) is meant to be replaced.
"""

from alerts.matching.matcher import Matcher, compile_watchlists
from alerts.matching.terms import term_problem

__all__ = ["Matcher", "compile_watchlists", "term_problem"]
