"""Sanctions Alerts: poll official and news feeds, match watchlists, drop duplicates, send digests.

The pipeline: sources -> dedup -> matching -> store -> delivery, composed in `alerts.pipeline`,
driven by `alerts.scheduler`, started from `alerts.cli`.
"""

__version__ = "0.1.0"
