"""Watchlist commands: match (with --explain), backtest, watchlists import/list."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from alerts.backtest import BacktestItem, BacktestReport, Caught, run_backtest, with_imported
from alerts.cli.common import (
    Context,
    common_options,
    errors_reported,
    run_async,
    with_store,
)
from alerts.config import Settings, load_config
from alerts.delivery.digest import match_to_payload
from alerts.domain import EntityKind, Item, Match, MatchKind, Watchlist
from alerts.errors import ConfigError, SourceError
from alerts.matching import Explanation, compile_watchlists, watchlist_problems
from alerts.matching.engine import TAG_SEPARATOR
from alerts.matching.importing import detect_format, parse_entities_csv, parse_ftm
from alerts.sources.fetch import DEFAULT_USER_AGENT, Fetcher
from alerts.sources.parse import parse_feed
from alerts.store.repository import Store

# -- match --------------------------------------------------------------------------


@click.command()
@common_options
@click.argument("source", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per item.")
@click.option(
    "--watchlist",
    "watchlists",
    multiple=True,
    metavar="NAME",
    help="Only these watchlists (repeatable).",
)
@click.option("--all", "show_all", is_flag=True, help="Also list items that matched nothing.")
@click.option(
    "--explain", is_flag=True, help="Show the reasoning: spelling found, offsets, score, vetoes."
)
@click.option(
    "--saved",
    is_flag=True,
    help="Use the watchlists saved in the database (with imported entities), not the config's.",
)
def match(
    config_path: str | None,
    database: str | None,
    source: str | None,
    as_json: bool,
    watchlists: tuple[str, ...],
    show_all: bool,
    explain: bool,
    saved: bool,
) -> None:
    """Run the watchlists over items and print what matched and why.

    SOURCE is a feed file or an http(s) URL; without it, items are read from stdin as
    JSON lines ({"title": ..., "summary": ..., "content": ..., "link": ...}).
    """
    with errors_reported():
        ctx = Context(config_path, database)
        config = ctx.config()
        for problem in config.watchlist_problems:
            click.echo(f"warning: {problem} (watchlist skipped)", err=True)
        available = list(config.watchlists)
        if saved:
            available = with_store(ctx.settings, lambda store: store.load_watchlists())
        chosen = [w for w in available if not watchlists or w.name in watchlists]
        missing = set(watchlists) - {w.name for w in available}
        if missing:
            raise click.UsageError(f"no watchlist named {', '.join(sorted(missing))}")
        items = _read_items(source, ctx.settings)
        matcher = compile_watchlists(chosen)
        for skipped in matcher.problems:
            click.echo(f"warning: {skipped} (watchlist skipped)", err=True)
        matched = 0
        for item in items:
            result = matcher.explain(item)
            matched += bool(result.matches)
            if result.matches or show_all or (explain and result.vetoes):
                click.echo(_format_match(item, result, as_json, explain))
        if not as_json:
            click.echo(f"{matched} of {len(items)} items matched", err=True)


def _read_items(source: str | None, settings: Settings) -> list[Item]:
    if source is None:
        return [_item_from_json(line, n) for n, line in enumerate(sys.stdin, 1) if line.strip()]
    if source.startswith(("http://", "https://")):
        return run_async(_fetch_items(source, settings))
    path = Path(source)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {source}: {exc.strerror}") from exc
    return parse_feed(path.name, body, url=path.resolve().as_uri())


async def _fetch_items(url: str, settings: Settings) -> list[Item]:
    async with Fetcher(user_agent=settings.user_agent or DEFAULT_USER_AGENT) as fetcher:
        result = await fetcher.fetch("command-line", url)
    if result.body is None:
        raise SourceError("command-line", "server answered 304 Not Modified with no body")
    return parse_feed("command-line", result.body, url=result.url, headers=result.headers)


def _item_from_json(line: str, number: int) -> Item:
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("each line must be a JSON object")
        published = data.get("published")
        return Item(
            feed=str(data.get("feed", "stdin")),
            guid=data.get("guid"),
            link=data.get("link"),
            title=str(data.get("title", "")),
            summary=str(data.get("summary", "")),
            content=str(data.get("content", "")),
            tags=tuple(str(t) for t in data.get("tags", [])),
            published=datetime.fromisoformat(published).astimezone(UTC) if published else None,
        )
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(f"stdin line {number}: {exc}") from exc


def _format_match(item: Item, result: Explanation, as_json: bool, explain: bool) -> str:
    found = result.matches
    if as_json:
        data: dict[str, Any] = {
            "feed": item.feed,
            "guid": item.guid,
            "title": item.title,
            "link": item.link,
            "matches": [match_to_payload(m) for m in found],
        }
        if explain:
            data["excluded"] = [
                {
                    "watchlist": v.watchlist,
                    "exclusion": v.exclusion,
                    "field": v.field,
                    "snippet": v.snippet,
                    "vetoed": [match_to_payload(m) for m in v.vetoed],
                }
                for v in result.vetoes
            ]
        return json.dumps(data, ensure_ascii=False)
    lines = [f"{item.title}" + (f"  <{item.link}>" if item.link else "")]
    for m in found:
        if explain:
            lines.extend(explain_match(m, _field_text(item, m.field)))
        else:
            lines.append(f"  [{m.watchlist}] {m.term!r} in {m.field}: {m.snippet}")
    if explain:
        for v in result.vetoes:
            lines.append(
                f"  [{v.watchlist}] EXCLUDED by {v.exclusion!r} in {v.field}: {v.snippet}"
                f" ({len(v.vetoed)} match(es) dropped)"
            )
    if not found:
        lines.append("  (no match)")
    return "\n".join(lines)


def _field_text(item: Item, field: str) -> str:
    if field == "source":
        return item.feed
    if field == "tag":
        return TAG_SEPARATOR.join(item.tags)
    return str(getattr(item, field, ""))


def explain_match(m: Match, text: str) -> list[str]:
    """Human lines saying why `m` fired: what was found, where, via which spelling."""
    found = text[m.start : m.end]
    what = {
        MatchKind.TERM: "term",
        MatchKind.QUERY: "query",
        MatchKind.REGEX: "regex",
        MatchKind.ENTITY: "entity",
    }[m.kind]
    if m.field == "facet":
        # A facet has no text position: say which facet and why the item has it.
        head = f"  [{m.watchlist}] {what} {m.term!r}: the item has facet {m.matched!r}"
        return [head, f"      because {m.snippet}"]
    if m.field == "designation":
        head = f"  [{m.watchlist}] {what} {m.term!r}: listed as {m.matched!r}"
        return [head, f"      {m.snippet}"]
    head = f"  [{m.watchlist}] {what} {m.term!r}: found {found!r} in {m.field} at {m.start}-{m.end}"
    details = []
    if m.matched:
        details.append(f"via {'word' if m.kind is MatchKind.QUERY else 'alias'} {m.matched!r}")
    if m.score < 1:
        details.append(f"fuzzy, score {m.score:.2f}")
    marked = m.snippet
    if m.highlight is not None:
        a, b = m.highlight
        marked = f"{marked[:a]}[[{marked[a:b]}]]{marked[b:]}"
    return [head + (f" ({', '.join(details)})" if details else ""), f"      {marked}"]


# -- backtest -----------------------------------------------------------------------


@click.command()
@common_options
@click.argument("target", metavar="WATCHLIST|FILE")
@click.option(
    "--since",
    default="30d",
    show_default=True,
    help="How far back to look, e.g. 7d, 30d, 12h.",
)
@click.option("--show", default=10, show_default=True, help="Items to list per section.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
def backtest(
    config_path: str | None,
    database: str | None,
    target: str,
    since: str,
    show: int,
    as_json: bool,
) -> None:
    """Run a watchlist over stored items: what it catches, and what a change adds or removes.

    WATCHLIST is a name: its version in the config file is compared with the version saved
    in the database. FILE is a TOML file with [[watchlists]] tables (the feeds.toml
    format): each is compared with the saved watchlist of the same name.
    """
    with errors_reported():
        ctx = Context(config_path, database)
        try:
            window = parse_duration(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from exc
        if Path(target).is_file():
            proposed_config = load_config(target)
            problems = proposed_config.watchlist_problems
            proposed = list(proposed_config.watchlists)
            if problems:
                raise ConfigError(list(problems))
            if not proposed:
                raise click.UsageError(f"{target}: no [[watchlists]] in the file")
        else:
            config = ctx.config()
            bad = [p for p in config.watchlist_problems if f'"{target}"' in p.where]
            if bad:
                raise ConfigError(bad)
            proposed = [w for w in config.watchlists if w.name == target]
        until = datetime.now(UTC)
        start = until - window

        def load(store: Store) -> tuple[list[BacktestItem], dict[str, Watchlist | None]]:
            saved = {w.name: store.saved_watchlist(w.name) for w in proposed}
            # A proposal edits the config part; the imported entities stay as they are.
            proposed[:] = [with_imported(w, store.imported_entities(w.name)) for w in proposed]
            if not proposed:
                saved[target] = store.saved_watchlist(target)
            stored = store.items_since(start, until=until)
            items = [BacktestItem(s.id, s.story_key, s.fetched_at, s.as_item()) for s in stored]
            return items, saved

        items, saved = with_store(ctx.settings, load)
        if not proposed:
            only = saved.get(target)
            if only is None:
                raise click.UsageError(
                    f"no watchlist named {target!r} in {ctx.config_path} or the database, "
                    "and no such file"
                )
            proposed = [only]
        reports = [
            run_backtest(items, w, saved.get(w.name), since=start, until=until) for w in proposed
        ]
        for report in reports:
            click.echo(_format_backtest(report, show, as_json))


def parse_duration(text: str) -> timedelta:
    """'30d', '12h', '90m', '2w' -> timedelta; ValueError otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if m is None or int(m.group(1)) == 0:
        raise ValueError(f"bad duration {text!r}: use a number and a unit, e.g. 7d, 30d, 12h")
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
    return timedelta(**{unit: int(m.group(1))})


def _format_backtest(report: BacktestReport, show: int, as_json: bool) -> str:
    def rows(caught: tuple[Caught, ...]) -> list[dict[str, Any]]:
        return [
            {
                "item_id": c.entry.id,
                "feed": c.entry.item.feed,
                "title": c.entry.item.title,
                "link": c.entry.item.link,
                "fetched_at": c.entry.when.isoformat(),
                "matches": [match_to_payload(m) for m in c.matches],
            }
            for c in caught
        ]

    if as_json:
        return json.dumps(
            {
                "watchlist": report.watchlist,
                "since": report.since.isoformat(),
                "until": report.until.isoformat(),
                "items_scanned": report.scanned,
                "items_caught": len(report.caught),
                "alerts": report.alerts,
                "alerts_per_day": round(report.alerts_per_day, 2),
                "per_day": {d.isoformat(): n for d, n in report.per_day},
                "saved_version": report.saved_exists,
                "caught": rows(report.caught),
                "added": rows(report.added),
                "removed": rows(report.removed),
            },
            ensure_ascii=False,
        )
    lines = [
        f"watchlist {report.watchlist!r}: {report.scanned} items from "
        f"{report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC",
        f"  caught {len(report.caught)} items = {report.alerts} alerts "
        f"({report.alerts_per_day:.1f} per day)",
    ]
    if report.saved_exists:
        lines.append(
            f"  compared with the saved version: +{len(report.added)} added, "
            f"-{len(report.removed)} removed"
        )
    else:
        lines.append("  (no saved version to compare with: this watchlist is new)")
    busiest = sorted(report.per_day, key=lambda d: -d[1])[:3]
    if busiest and busiest[0][1]:
        lines.append("  busiest days: " + ", ".join(f"{d:%Y-%m-%d} ({n})" for d, n in busiest if n))
    for title, caught in (
        ("caught", report.caught),
        ("added", report.added if report.saved_exists else ()),
        ("removed", report.removed),
    ):
        if not caught:
            continue
        lines.append(f"  {title}:")
        for c in caught[:show]:
            why = ", ".join(sorted({f"{m.term!r} in {m.field}" for m in c.matches}))
            lines.append(f"    {c.entry.when:%Y-%m-%d} {c.entry.item.title[:90]}  [{why}]")
        if len(caught) > show:
            lines.append(f"    … and {len(caught) - show} more")
    return "\n".join(lines)


# -- watchlists ---------------------------------------------------------------------


@click.group()
def watchlists() -> None:
    """Saved watchlists: list them, import entities into them."""


@watchlists.command("import")
@common_options
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "ftm", "csv"]),
    default="auto",
    show_default=True,
    help="FollowTheMoney JSON lines (OpenSanctions) or CSV; auto looks at the file.",
)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in EntityKind]),
    default=EntityKind.PERSON.value,
    show_default=True,
    help="CSV rows without a kind column are this kind.",
)
@click.option(
    "--replace", is_flag=True, help="Drop previously imported entities missing from FILE."
)
def watchlists_import(
    config_path: str | None,
    database: str | None,
    name: str,
    file: Path,
    fmt: str,
    kind: str,
    replace: bool,
) -> None:
    """Import entities with their aliases into watchlist NAME (created if missing).

    Lines that cannot be used are reported with their line number and skipped; if no
    entity at all can be read, nothing is changed.
    """
    with errors_reported():
        ctx = Context(config_path, database)
        try:
            with file.open(encoding="utf-8-sig", newline="") as handle:
                first = handle.readline()
                handle.seek(0)
                chosen = detect_format(file.name, first) if fmt == "auto" else fmt
                if chosen == "ftm":
                    result = parse_ftm(handle)
                else:
                    result = parse_entities_csv(handle, default_kind=EntityKind(kind))
        except FileNotFoundError:
            raise click.BadParameter(f"{file}: no such file", param_hint="FILE") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"{file}: cannot be read: {exc}", param_hint="FILE") from exc
        for problem in result.problems[:50]:
            click.echo(f"warning: {file}: line {problem.line}: {problem.message}", err=True)
        if len(result.problems) > 50:
            click.echo(f"warning: … and {len(result.problems) - 50} more problems", err=True)
        for schema, count in sorted(result.skipped_schemas.items()):
            click.echo(f"skipped {count} {schema} record(s): not a person, organisation or vessel")
        if not result.entities:
            click.echo(f"error: {file}: no entity could be read; nothing was changed", err=True)
            sys.exit(1)
        problems = watchlist_problems(Watchlist(name=name, entities=result.entities))
        if problems:
            for bad in problems[:20]:
                click.echo(f"error: {bad}", err=True)
            click.echo("nothing was changed", err=True)
            sys.exit(1)
        source = f"{file.name} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
        summary = with_store(
            ctx.settings,
            lambda store: store.import_entities(
                name, result.entities, source=source, replace=replace, now=datetime.now(UTC)
            ),
        )
        click.echo(
            f"watchlist {name!r}{' (new)' if summary.created else ''}: {summary.added} added, "
            f"{summary.updated} updated, {summary.unchanged} unchanged, {summary.removed} "
            f"removed; {summary.total} imported entities"
        )
        if name not in {w.name for w in _config_or_none(ctx)}:
            click.echo(
                f"note: add [[watchlists]] name = {name!r} to {ctx.config_path} so "
                "subscriptions can follow it"
            )


def _config_or_none(ctx: Context) -> tuple[Watchlist, ...]:
    try:
        return ctx.config().watchlists
    except ConfigError:
        return ()


@watchlists.command("list")
@common_options
def watchlists_list(config_path: str | None, database: str | None) -> None:
    """Table of saved watchlists and what each holds."""
    with errors_reported():
        ctx = Context(config_path, database)
        saved = with_store(ctx.settings, lambda store: store.load_watchlists())
        table = Table(title="Watchlists")
        for column in ("watchlist", "terms", "queries", "regexes", "entities", "exclude"):
            table.add_column(column)
        for w in saved:
            table.add_row(
                w.name,
                str(len(w.terms)),
                str(len(w.queries)),
                str(len(w.regexes)),
                str(len(w.entities)),
                str(len(w.exclude)),
            )
        Console(width=None if sys.stdout.isatty() else 200).print(table)
