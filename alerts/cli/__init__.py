"""The `alerts` command: the composition root that reads settings and starts things.

Every command takes `--config PATH` (default `ALERTS_CONFIG`, else `./feeds.toml`) and
`--database URL` (default `ALERTS_DATABASE_URL`, else a SQLite file under `data/`).
Configuration is validated before the database is touched; problems exit with status 2.
Service commands live in `service`, watchlist tools in `watchlists`, the delivery log and
channel health in `deliveries`, list snapshots in `lists`.
"""

from __future__ import annotations

import click

from alerts import __version__
from alerts.cli import deliveries, items, lists, service, users, watchlists

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="alerts")
def main() -> None:
    """Sanctions Alerts: poll feeds, match watchlists, drop duplicates, send digests."""


for command in (
    service.run,
    service.web,
    service.check,
    service.poll,
    service.digest,
    watchlists.match,
    watchlists.backtest,
    watchlists.watchlists,
    service.feeds,
    items.items,
    deliveries.deliveries,
    deliveries.send_test,
    deliveries.channels,
    lists.lists,
    users.users,
    users.tokens,
    users.audit,
    service.db,
    service.demo,
):
    main.add_command(command)
