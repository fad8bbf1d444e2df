"""Settings from `ALERTS_*` environment variables and the `feeds.toml` configuration file.

Every setting is declared once in `SETTINGS` (name, type, default, help); the README's table
is checked against it by a test. `load_config` validates the whole file and reports *every*
problem with its line and key, so `alerts check` can print them all at once.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alerts.delivery.schedule import QuietHours, ScheduleError, check_zone, parse_schedule
from alerts.domain import (
    ChannelConfig,
    ChannelKind,
    Entity,
    Feed,
    Importance,
    SourceKind,
    Subscription,
    Watchlist,
    entity_from_dict,
)
from alerts.errors import ConfigError, ConfigProblem
from alerts.matching import watchlist_problems
from alerts.matching.filters import parse_filter
from alerts.matching.query import Facet, QueryError, leaves, parse_query
from alerts.sources.jsonapi import JsonApiSpec
from alerts.sources.listing import ListingSpec
from alerts.sources.lists.spec import ListSpec

DEFAULT_CONFIG_PATH = "feeds.toml"
DEFAULT_DATABASE_URL = "sqlite:///data/alerts.db"
MIN_INTERVAL = timedelta(seconds=10)
MAX_INTERVAL = timedelta(days=7)


# -- environment settings -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One `ALERTS_*` environment variable."""

    env: str
    attr: str
    kind: type
    default: object
    help: str


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "ALERTS_CONFIG",
        "config_path",
        str,
        DEFAULT_CONFIG_PATH,
        "Path of the configuration file (feeds, watchlists, channels, subscriptions).",
    ),
    SettingSpec(
        "ALERTS_DATABASE_URL",
        "database_url",
        str,
        DEFAULT_DATABASE_URL,
        "SQLAlchemy URL of the database: SQLite file (default) or postgresql://user@host/db.",
    ),
    SettingSpec(
        "ALERTS_SMTP_URL",
        "smtp_url",
        str,
        "",
        "SMTP server for email channels: smtp://user:pass@host:587 (STARTTLS), "
        "smtps://host:465 (TLS), ?security=none for plain. Unset: write .eml files "
        "to the outbox.",
    ),
    SettingSpec(
        "ALERTS_EMAIL_FROM",
        "email_from",
        str,
        "Sanctions Alerts <alerts@localhost>",
        "Default From address of digest emails.",
    ),
    SettingSpec(
        "ALERTS_OUTBOX_DIR",
        "outbox_dir",
        str,
        "outbox",
        "Folder for .eml files when no SMTP server is configured.",
    ),
    SettingSpec(
        "ALERTS_USER_AGENT",
        "user_agent",
        str,
        "",
        "User-Agent sent to feeds (default: a browser-compatible one naming the project).",
    ),
    SettingSpec(
        "ALERTS_TICK_SECONDS",
        "tick_seconds",
        float,
        10.0,
        "How often the scheduler asks the database what is due.",
    ),
    SettingSpec(
        "ALERTS_MAX_CONCURRENCY", "max_concurrency", int, 10, "Feeds fetched at once, overall."
    ),
    SettingSpec("ALERTS_MAX_PER_HOST", "max_per_host", int, 2, "Feeds fetched at once per host."),
    SettingSpec(
        "ALERTS_MAX_FEED_BYTES",
        "max_feed_bytes",
        int,
        10 * 1024 * 1024,
        "Largest feed body accepted, in bytes.",
    ),
    SettingSpec(
        "ALERTS_MAX_ARTICLES_PER_POLL",
        "max_articles_per_poll",
        int,
        50,
        "Article pages fetched per poll of a feed with fetch_article (new items only).",
    ),
    SettingSpec(
        "ALERTS_STORY_WINDOW_DAYS",
        "story_window_days",
        int,
        14,
        "Days an item can gather later reports of the same story (the clustering window).",
    ),
    SettingSpec(
        "ALERTS_FETCH_TIMEOUT",
        "fetch_timeout",
        float,
        30.0,
        "Seconds to wait for a feed server to answer (connect and each read).",
    ),
    SettingSpec(
        "ALERTS_MAX_DELIVERY_ATTEMPTS",
        "max_delivery_attempts",
        int,
        10,
        "Attempts before a delivery is given up (marked dead).",
    ),
    SettingSpec(
        "ALERTS_DELIVERY_MAX_AGE",
        "delivery_max_age",
        float,
        48.0,
        "Hours after which an undelivered message is given up (dead-lettered).",
    ),
    SettingSpec(
        "ALERTS_DELIVERY_LEASE",
        "delivery_lease",
        float,
        120.0,
        "Seconds a worker holds a message it is sending; a crashed worker's message is "
        "sent again (same idempotency id) after this.",
    ),
    SettingSpec(
        "ALERTS_CHANNEL_PAUSE_AFTER",
        "channel_pause_after",
        int,
        20,
        "Failed attempts in a row after which a channel is paused (its messages wait) and "
        "the ops channel is told.",
    ),
    SettingSpec(
        "ALERTS_BASE_URL",
        "base_url",
        str,
        "",
        "Public https:// URL of the web side; needed for unsubscribe, confirmation and "
        "full-digest links in messages.",
    ),
    SettingSpec(
        "ALERTS_SECRET_KEY",
        "secret_key",
        str,
        "",
        "Key signing the links in messages (at least 32 characters). Unset: one is "
        "generated and kept in the database.",
    ),
    SettingSpec(
        "ALERTS_WEB_BIND",
        "web_bind",
        str,
        "127.0.0.1:8080",
        "host:port the web side listens on (`alerts run`, `alerts web`); 'off' to serve none.",
    ),
    SettingSpec(
        "ALERTS_SHUTDOWN_GRACE",
        "shutdown_grace",
        float,
        10.0,
        "Seconds in-flight work may take to finish after SIGINT/SIGTERM.",
    ),
    SettingSpec(
        "ALERTS_RESOURCES_DIR",
        "resources_dir",
        str,
        "",
        "Folder holding migrations/ and templates/ when the package is installed "
        "away from its source tree (the Docker image sets /app).",
    ),
    SettingSpec("ALERTS_LOG_LEVEL", "log_level", str, "INFO", "DEBUG, INFO, WARNING or ERROR."),
    SettingSpec(
        "ALERTS_LOG_FORMAT",
        "log_format",
        str,
        "text",
        "text (key=value, one line per event) or json (one JSON object per line).",
    ),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Process settings, read from the environment (see `SETTINGS`)."""

    config_path: str = DEFAULT_CONFIG_PATH
    database_url: str = DEFAULT_DATABASE_URL
    smtp_url: str = ""
    email_from: str = "Sanctions Alerts <alerts@localhost>"
    outbox_dir: str = "outbox"
    user_agent: str = ""
    tick_seconds: float = 10.0
    max_concurrency: int = 10
    max_per_host: int = 2
    max_feed_bytes: int = 10 * 1024 * 1024
    max_articles_per_poll: int = 50
    story_window_days: int = 14
    fetch_timeout: float = 30.0
    max_delivery_attempts: int = 10
    delivery_max_age: float = 48.0
    delivery_lease: float = 120.0
    channel_pause_after: int = 20
    base_url: str = ""
    secret_key: str = field(default="", repr=False)
    web_bind: str = "127.0.0.1:8080"
    shutdown_grace: float = 10.0
    resources_dir: str = ""
    log_level: str = "INFO"
    log_format: str = "text"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every `ALERTS_*` variable; raises ConfigError naming each bad one."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[ConfigProblem] = []
        for spec in SETTINGS:
            raw = env.get(spec.env)
            if raw is None or raw == "":
                continue
            try:
                value: Any = spec.kind(raw)
            except ValueError:
                problems.append(
                    ConfigProblem(
                        "environment", spec.env, f"{raw!r} is not a valid {spec.kind.__name__}"
                    )
                )
                continue
            if isinstance(value, int | float) and value <= 0:
                problems.append(ConfigProblem("environment", spec.env, "must be positive"))
                continue
            values[spec.attr] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        level = str(values.get("log_level", "INFO")).upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            problems.append(
                ConfigProblem(
                    "environment",
                    "ALERTS_LOG_LEVEL",
                    f"{level!r} is not DEBUG, INFO, WARNING or ERROR",
                )
            )
        base_url = str(values.get("base_url", ""))
        if base_url and not base_url.startswith(("https://", "http://")):
            problems.append(
                ConfigProblem("environment", "ALERTS_BASE_URL", "must start with https://")
            )
        if 0 < len(str(values.get("secret_key", ""))) < 32:
            problems.append(
                ConfigProblem("environment", "ALERTS_SECRET_KEY", "use at least 32 characters")
            )
        if values.get("log_format", "text") not in {"text", "json"}:
            problems.append(
                ConfigProblem("environment", "ALERTS_LOG_FORMAT", "must be 'text' or 'json'")
            )
        if problems:
            raise ConfigError(problems)
        return cls(**values)


# -- feeds.toml ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    """The validated contents of a configuration file."""

    path: str
    feeds: tuple[Feed, ...]
    watchlists: tuple[Watchlist, ...]
    channels: tuple[ChannelConfig, ...]
    subscriptions: tuple[Subscription, ...]
    timezone: str = "UTC"
    # Watchlists whose entries do not compile (a bad query, regex or name). They are left
    # out of `watchlists`, so the service runs with the others and keeps the last saved
    # version of these; `alerts check` reports them and fails.
    watchlist_problems: tuple[ConfigProblem, ...] = ()
    rejected_watchlists: tuple[str, ...] = ()  # the names of those watchlists
    # The channel that gets the operators' notices (a channel paused after failing).
    ops_channel: str = ""
    # Watchlists people may subscribe to themselves on the web form (empty: no form).
    self_service: tuple[str, ...] = ()
    channel_by_name: dict[str, ChannelConfig] = field(default_factory=dict, compare=False)

    def feed(self, name: str) -> Feed | None:
        """The feed called `name`, if declared."""
        return next((f for f in self.feeds if f.name == name), None)

    def subscription(self, name: str) -> Subscription | None:
        """The subscription called `name`, if declared."""
        return next((s for s in self.subscriptions if s.name == name), None)


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_INTERVAL_PART = re.compile(r"(\d+)\s*(d|h|m|s)", re.IGNORECASE)
_TOP_LEVEL = {"settings", "feeds", "watchlists", "channels", "subscriptions"}
_KEYS: dict[str, set[str]] = {
    "settings": {"timezone", "default_interval", "ops_channel", "self_service"},
    "feeds": {
        "name",
        "url",
        "title",
        "interval",
        "enabled",
        "fetch_article",
        "official",
        "kind",
        "issuer",
        "html",
        "json",
        "format",
        "max_removed_share",
    },
    "watchlists": {
        "name",
        "terms",
        "queries",
        "regexes",
        "entities",
        "exclude",
        "description",
        "importance",
        "urgent",
    },
    "channels": {
        "name",
        "type",
        "to",
        "from",
        "url",
        "url_env",
        "secret",
        "secret_env",
        "previous_secret",
        "previous_secret_env",
    },
    "subscriptions": {
        "name",
        "watchlists",
        "channel",
        "email",
        "schedule",
        "timezone",
        "quiet_hours",
        "immediate_importance",
        "send_empty",
        "max_stories",
        "filter",
    },
}
MAX_STORIES_LIMIT = 500
_IMPORTANCES = ", ".join(i.value for i in Importance)


def parse_interval(
    text: str, *, low: timedelta = MIN_INTERVAL, high: timedelta | None = MAX_INTERVAL
) -> timedelta:
    """'30m', '2h', '1h30m', '90s', '1d' -> timedelta; ValueError with the accepted forms.

    The value must lie in [low, high] (no upper bound when `high` is None).
    """
    compact = text.replace(" ", "")
    parts = _INTERVAL_PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts).lower() != compact.lower():
        raise ValueError(f"bad interval {text!r}: use a number and a unit, e.g. '30m', '2h', '1d'")
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    seconds = sum(int(n) * units[u.lower()] for n, u in parts)
    value = timedelta(seconds=seconds)
    if value < low or (high is not None and value > high):
        bound = f"between {_human(low)} and {_human(high)}" if high else f"at least {_human(low)}"
        raise ValueError(f"interval {text!r} must be {bound}")
    return value


def _human(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class _Lines:
    """Find the line of a key in a TOML file (tomllib reports no positions for valid files)."""

    _ARRAY = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
    _TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]")
    _KEY = re.compile(r'^\s*("?)([A-Za-z0-9_-]+)\1\s*=')

    def __init__(self, text: str) -> None:
        self.where: dict[tuple[str, int, str], int] = {}
        self.text_lines = text.splitlines()
        counts: dict[str, int] = {}
        table, index = "", 0
        for number, line in enumerate(text.splitlines(), start=1):
            if m := self._ARRAY.match(line):
                if "." in m.group(1):
                    continue  # [[watchlists.entities]]: its keys belong to the parent entry
                table = m.group(1)
                index = counts.get(table, -1) + 1
                counts[table] = index
                self.where[(table, index, "")] = number
            elif m := self._TABLE.match(line):
                table, index = m.group(1), 0
                self.where[(table, 0, "")] = number
            elif m := self._KEY.match(line):
                self.where.setdefault((table, index, m.group(2)), number)

    def line(self, table: str, index: int, key: str = "") -> int | None:
        return self.where.get((table, index, key)) or self.where.get((table, index, ""))

    def line_of(self, table: str, index: int, key: str, value: str) -> int | None:
        """The line holding `value` in a (possibly multi-line) array under `key`."""
        first = self.line(table, index, key)
        if first is None:
            return None
        needle = value[:40]
        for offset, line in enumerate(self.text_lines[first - 1 :]):
            if needle and needle in line:
                return first + offset
            if offset and (self._ARRAY.match(line) or self._TABLE.match(line)):
                break
        return first


class _Checker:
    """Collects problems with their location instead of stopping at the first."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = _Lines(text)
        self.problems: list[ConfigProblem] = []

    def add(self, table: str, index: int | None, key: str, message: str, label: str = "") -> None:
        idx = 0 if index is None else index
        line = self.lines.line(table, idx, key)
        where = table if index is None else f"{table}[{index}]"
        if label:
            where += f" {label!r}"
        if key:
            where += f".{key}"
        if line is not None:
            where = f"line {line}, {where}"
        self.problems.append(ConfigProblem(self.path, where, message))


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a configuration file; raises ConfigError listing every problem."""
    env = os.environ if environ is None else environ
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [ConfigProblem(name, "file", "not found (set --config or ALERTS_CONFIG)")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(name, "file", f"cannot be read: {exc}")]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        text_msg = str(exc)
        where = "syntax"
        if m := re.search(r"\s*\(at line (\d+), column (\d+)\)", text_msg):
            where = f"line {m.group(1)}, column {m.group(2)}"
            text_msg = text_msg[: m.start()]
        raise ConfigError([ConfigProblem(name, where, f"TOML syntax error: {text_msg}")]) from exc
    return _validate(name, text, data, env)


def _validate(name: str, text: str, data: dict[str, Any], env: Mapping[str, str]) -> Config:
    check = _Checker(name, text)
    for key in data:
        if key not in _TOP_LEVEL:
            check.add(
                key,
                None,
                "",
                f"unknown section {key!r}; expected one of {', '.join(sorted(_TOP_LEVEL))}",
            )

    settings = data.get("settings", {})
    timezone, default_interval = "UTC", timedelta(minutes=30)
    if not isinstance(settings, dict):
        check.add("settings", None, "", "must be a table: [settings]")
        settings = {}
    _unknown_keys(check, "settings", None, settings)
    if "timezone" in settings:
        try:
            check_zone(str(settings["timezone"]))
            timezone = str(settings["timezone"])
        except ScheduleError as exc:
            check.add("settings", None, "timezone", str(exc))
    if "default_interval" in settings:
        try:
            default_interval = parse_interval(str(settings["default_interval"]))
        except ValueError as exc:
            check.add("settings", None, "default_interval", str(exc))
    ops_channel = settings.get("ops_channel", "")
    if not isinstance(ops_channel, str):
        check.add("settings", None, "ops_channel", "must be the name of a channel")
        ops_channel = ""
    self_service: list[str] = []
    if "self_service" in settings:
        self_service = _strings(check, "settings", 0, settings, "self_service", "")

    tables = {
        t: _tables(check, data, t) for t in ("feeds", "watchlists", "channels", "subscriptions")
    }
    for table, raws in tables.items():
        _unique_names(check, table, [raw.get("name") for raw in raws])
    feeds = [
        f
        for i, raw in enumerate(tables["feeds"])
        if (f := _feed(check, i, raw, default_interval)) is not None
    ]
    parsed = [
        (i, w)
        for i, raw in enumerate(tables["watchlists"])
        if (w := _watchlist(check, i, raw)) is not None
    ]
    watchlists, watchlist_problems = _compilable(check, parsed, tables["watchlists"])
    # A watchlist naming a list source that is gone is rejected like one that does not
    # compile (its saved version keeps working); a subscription filter doing so is an error.
    stale = _stale_list_facets(check, tables, feeds)
    for name, problems in stale.items():
        if name in {w.name for w in watchlists}:
            watchlist_problems.extend(problems)
    watchlists = [w for w in watchlists if w.name not in stale]
    good_names = {w.name for w in watchlists}
    rejected = tuple(w.name for _, w in parsed if w.name not in good_names)
    channels = [
        c
        for i, raw in enumerate(tables["channels"])
        if (c := _channel(check, i, raw, env)) is not None
    ]
    watchlist_names = {str(raw.get("name")) for raw in tables["watchlists"]}
    channel_names = {str(raw.get("name")) for raw in tables["channels"]}
    subscriptions = [
        s
        for i, raw in enumerate(tables["subscriptions"])
        if (s := _subscription(check, i, raw, watchlist_names, channel_names, timezone)) is not None
    ]
    if ops_channel and ops_channel not in channel_names:
        check.add("settings", None, "ops_channel", f"no channel named {ops_channel!r}")
    for offered in self_service:
        if offered not in watchlist_names:
            check.add("settings", None, "self_service", f"no watchlist named {offered!r}")
    if check.problems:
        # Every problem at once, the watchlists' entries included.
        raise ConfigError([*check.problems, *watchlist_problems])
    return Config(
        path=name,
        feeds=tuple(feeds),
        watchlists=tuple(watchlists),
        channels=tuple(channels),
        subscriptions=tuple(subscriptions),
        timezone=timezone,
        channel_by_name={c.name: c for c in channels},
        watchlist_problems=tuple(watchlist_problems),
        rejected_watchlists=rejected,
        ops_channel=ops_channel,
        self_service=tuple(self_service),
    )


def _tables(check: _Checker, data: dict[str, Any], table: str) -> list[dict[str, Any]]:
    raw = data.get(table, [])
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        check.add(table, None, "", f"must be an array of tables: [[{table}]]")
        return []
    return raw


def _unknown_keys(check: _Checker, table: str, index: int | None, raw: dict[str, Any]) -> None:
    for key in raw:
        if key not in _KEYS[table]:
            hint = _closest(key, _KEYS[table])
            label = raw.get("name") if isinstance(raw.get("name"), str) else ""
            check.add(
                table,
                index,
                key,
                f"unknown key {key!r}"
                + (
                    f"; did you mean {hint!r}?"
                    if hint
                    else f"; allowed: {', '.join(sorted(_KEYS[table]))}"
                ),
                str(label),
            )


def _closest(word: str, choices: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _name(check: _Checker, table: str, index: int, raw: dict[str, Any]) -> str | None:
    value = raw.get("name")
    if not isinstance(value, str) or not _NAME.match(value):
        check.add(
            table,
            index,
            "name",
            "missing or invalid name: use letters, digits, '.', '_' or '-' (at most 80)",
        )
        return None
    return value


def _string(
    check: _Checker,
    table: str,
    index: int,
    raw: dict[str, Any],
    key: str,
    label: str,
    default: str = "",
) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        check.add(table, index, key, "must be a string", label)
        return default
    return value


def _strings(
    check: _Checker, table: str, index: int, raw: dict[str, Any], key: str, label: str
) -> list[str]:
    value = raw.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(x, str) for x in value):
        check.add(table, index, key, "must be a non-empty list of strings", label)
        return []
    return list(value)


def _feed(check: _Checker, i: int, raw: dict[str, Any], default: timedelta) -> Feed | None:
    _unknown_keys(check, "feeds", i, raw)
    name = _name(check, "feeds", i, raw)
    label = name or ""
    url = _string(check, "feeds", i, raw, "url", label)
    problem = url_problem(url)
    if problem:
        check.add("feeds", i, "url", problem, label)
    interval = default
    if "interval" in raw:
        try:
            interval = parse_interval(str(raw["interval"]))
        except ValueError as exc:
            check.add("feeds", i, "interval", str(exc), label)
    flags: dict[str, bool] = {}
    for key, default_flag in (("enabled", True), ("fetch_article", False), ("official", False)):
        flag = raw.get(key, default_flag)
        if not isinstance(flag, bool):
            check.add("feeds", i, key, "must be true or false", label)
            flag = default_flag
        flags[key] = flag
    title = _string(check, "feeds", i, raw, "title", label)
    kind, spec = _source_kind(check, i, raw, label)
    if kind is SourceKind.LIST and interval < MIN_LIST_INTERVAL:
        check.add(
            "feeds",
            i,
            "interval",
            "a list file is polled at most every 2h (they change daily at most)",
            label,
        )
    issuer = raw.get("issuer", "")
    if not isinstance(issuer, str) or not _ISSUER.match(issuer):
        check.add("feeds", i, "issuer", 'must be a short code such as "US" or "EU"', label)
        issuer = ""
    if name is None or problem:
        return None
    return Feed(
        name=name,
        url=url,
        interval=interval,
        title=title or name,
        enabled=flags["enabled"],
        fetch_article=flags["fetch_article"],
        official=flags["official"],
        kind=kind,
        issuer=issuer.upper(),
        spec=spec,
    )


MIN_LIST_INTERVAL = timedelta(hours=2)
_ISSUER = re.compile(r"^(?:[A-Za-z]{2,8})?$")
# The keys each kind accepts beyond the common ones.
_KIND_KEYS = {
    SourceKind.FEED: {"fetch_article"},
    # Listing rows and API results are often bare titles: their pages hold the text.
    SourceKind.HTML: {"html", "fetch_article"},
    SourceKind.JSON: {"json", "fetch_article"},
    SourceKind.LIST: {"format", "max_removed_share"},
}


def _stale_list_facets(
    check: _Checker, tables: Mapping[str, list[dict[str, Any]]], feeds: list[Feed]
) -> dict[str, list[ConfigProblem]]:
    """`list:x` in a watchlist query or a subscription filter must name a list source: a
    typo would otherwise never match anything, silently. Watchlists with such a query are
    returned (name -> problems); subscription filters are added to `check` as errors."""
    lists = {f.name.casefold() for f in feeds if f.kind is SourceKind.LIST}
    known = ", ".join(sorted(lists)) or "none configured"
    stale: dict[str, list[ConfigProblem]] = {}
    places = [("watchlists", key) for key in ("queries", "exclude")] + [("subscriptions", "filter")]
    for table, key in places:
        for i, raw in enumerate(tables[table]):
            value = raw.get(key, [])
            texts = [value] if isinstance(value, str) else value
            if not isinstance(texts, list):
                continue
            label = str(raw.get("name", ""))
            for text in texts:
                for name in _list_facet_values(text):
                    if name.casefold() in lists:
                        continue
                    message = f'list:{name} names no list source (kind = "list"): {known}'
                    if table == "subscriptions":
                        check.add(table, i, key, message, label)
                        continue
                    line = check.lines.line_of(table, i, key, text) or check.lines.line(
                        table, i, key
                    )
                    where = f'watchlist "{label}"'
                    if line is not None:
                        where = f"line {line}, {where}"
                    stale.setdefault(label, []).append(
                        ConfigProblem(check.path, where, f"{key}: {message}")
                    )
    return stale


def _list_facet_values(text: object) -> list[str]:
    if not isinstance(text, str):
        return []
    try:
        node = parse_query(text)
    except QueryError:
        return []  # reported with the watchlist's other problems
    return [leaf.value for leaf in leaves(node) if isinstance(leaf, Facet) and leaf.name == "list"]


def _source_kind(
    check: _Checker, i: int, raw: dict[str, Any], label: str
) -> tuple[SourceKind, ListingSpec | JsonApiSpec | ListSpec | None]:
    """The feed's kind and its parsed spec; problems are added to `check`."""
    try:
        kind = SourceKind(raw.get("kind", "feed"))
    except ValueError:
        kinds = ", ".join(f'"{k.value}"' for k in SourceKind)
        check.add("feeds", i, "kind", f"{raw.get('kind')!r} is not one of {kinds}", label)
        return SourceKind.FEED, None
    others = set().union(*(keys for k, keys in _KIND_KEYS.items() if k is not kind))
    for key in sorted(others - _KIND_KEYS[kind]):
        if key in raw:
            check.add("feeds", i, key, f'not used by kind = "{kind.value}"', label)
    spec: ListingSpec | JsonApiSpec | ListSpec | None = None
    try:
        if kind is SourceKind.HTML:
            spec = ListingSpec.from_mapping(_spec_table(raw, "html", ListingSpec))
        elif kind is SourceKind.JSON:
            spec = JsonApiSpec.from_mapping(_spec_table(raw, "json", JsonApiSpec))
        elif kind is SourceKind.LIST:
            if "format" not in raw:
                raise ValueError('required for kind = "list"')
            spec = ListSpec.from_mapping(raw)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        key = {SourceKind.HTML: "html", SourceKind.JSON: "json"}.get(kind, "format")
        if message.startswith("max_removed_share: "):
            key = "max_removed_share"
        check.add("feeds", i, key, message.removeprefix(f"{key}: "), label)
    return kind, spec


def _spec_table(raw: dict[str, Any], key: str, cls: type[Any]) -> dict[str, Any]:
    table = raw.get(key)
    if table is None:
        raise ValueError(f'a [feeds.{key}] table is required for kind = "{key}"')
    if not isinstance(table, dict):
        raise ValueError(f"{key} must be a table ([feeds.{key}])")
    required = [
        f.name
        for f in dataclass_fields(cls)
        if f.default is MISSING and f.default_factory is MISSING and f.name not in table
    ]
    if required:
        raise ValueError(f"[feeds.{key}] needs {', '.join(required)}")
    return table


def url_problem(url: str) -> str | None:
    """Why `url` is not a usable http(s) URL, or None."""
    if not url:
        return "missing url"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        return f"bad URL {url!r}: must start with http:// or https://"
    if not parts.hostname:
        return f"bad URL {url!r}: no host"
    try:
        _ = parts.port
    except ValueError:
        return f"bad URL {url!r}: invalid port"
    return None


_ENTITY_KEYS = {"name", "kind", "aliases", "weak_aliases", "identifiers", "id"}


def _watchlist(check: _Checker, i: int, raw: dict[str, Any]) -> Watchlist | None:
    """The watchlist's shape (types, keys); its entries are checked by `_compilable`."""
    _unknown_keys(check, "watchlists", i, raw)
    name = _name(check, "watchlists", i, raw)
    label = name or ""
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("terms", "queries", "regexes", "exclude"):
        if key in raw:
            lists[key] = tuple(_strings(check, "watchlists", i, raw, key, label))
    entities: list[Entity] = []
    raw_entities = raw.get("entities", [])
    if not isinstance(raw_entities, list) or not all(isinstance(e, dict) for e in raw_entities):
        check.add(
            "watchlists", i, "entities", "must be a list of tables: [[watchlists.entities]]", label
        )
        raw_entities = []
    for k, raw_entity in enumerate(raw_entities):
        for key in raw_entity:
            if key not in _ENTITY_KEYS:
                hint = _closest(key, _ENTITY_KEYS)
                more = f"; did you mean {hint!r}?" if hint else ""
                check.add(
                    "watchlists", i, "entities", f"entities[{k}]: unknown key {key!r}{more}", label
                )
        try:
            entities.append(entity_from_dict(raw_entity))
        except ValueError as exc:
            check.add("watchlists", i, "entities", f"entities[{k}]: {exc}", label)
    description = raw.get("description", "")
    if not isinstance(description, str):
        check.add("watchlists", i, "description", "must be a string", label)
        description = ""
    importance = _importance(check, "watchlists", i, raw, "importance", label) or (
        Importance.NORMAL
    )
    urgent: tuple[str, ...] = ()
    if "urgent" in raw:
        urgent = tuple(_strings(check, "watchlists", i, raw, "urgent", label))
        entries = {
            *lists.get("terms", ()),
            *lists.get("queries", ()),
            *lists.get("regexes", ()),
            *(e.name for e in entities),
        }
        for entry in urgent:
            if entry not in entries:
                check.add(
                    "watchlists",
                    i,
                    "urgent",
                    f"{entry!r} is not one of this watchlist's terms, queries, regexes or "
                    "entity names (write it exactly as listed there)",
                    label,
                )
    if name is None:
        return None
    return Watchlist(
        name=name,
        entities=tuple(entities),
        description=description,
        importance=importance,
        urgent=urgent,
        **lists,
    )


def _importance(
    check: _Checker, table: str, i: int, raw: dict[str, Any], key: str, label: str
) -> Importance | None:
    if key not in raw:
        return None
    try:
        return Importance(str(raw[key]).lower())
    except ValueError:
        check.add(table, i, key, f"must be one of {_IMPORTANCES}, not {raw[key]!r}", label)
        return None


# Which config key holds each kind of watchlist entry (for line numbers).
_ENTRY_KEYS = {
    "terms": "terms",
    "query": "queries",
    "regexes": "regexes",
    "exclude": "exclude",
    "entities": "entities",
}


def _compilable(
    check: _Checker, parsed: list[tuple[int, Watchlist]], raws: list[dict[str, Any]]
) -> tuple[list[Watchlist], list[ConfigProblem]]:
    """Split watchlists into those that compile and the problems of those that do not."""
    good: list[Watchlist] = []
    problems: list[ConfigProblem] = []
    for i, watchlist in parsed:
        found = watchlist_problems(watchlist)
        if not found:
            good.append(watchlist)
            continue
        for problem in found:
            entry, _, rest = problem.entry.partition("[")
            key = _ENTRY_KEYS.get(entry, entry)
            line = None
            if rest:
                position = int(rest.rstrip("]"))
                values = raws[i].get(key, [])
                if isinstance(values, list) and position < len(values):
                    value = values[position]
                    text = value if isinstance(value, str) else str(value.get("name", ""))
                    line = check.lines.line_of("watchlists", i, key, text)
            line = line or check.lines.line("watchlists", i, key)
            where = f'watchlist "{watchlist.name}"'
            if line is not None:
                where = f"line {line}, {where}"
            problems.append(ConfigProblem(check.path, where, problem.message))
    return good, problems


def _channel(
    check: _Checker, i: int, raw: dict[str, Any], env: Mapping[str, str]
) -> ChannelConfig | None:
    _unknown_keys(check, "channels", i, raw)
    name = _name(check, "channels", i, raw)
    label = name or ""
    kind_raw = raw.get("type")
    try:
        kind = ChannelKind(str(kind_raw))
    except ValueError:
        check.add(
            "channels",
            i,
            "type",
            f"unknown channel type {kind_raw!r}; use {', '.join(k.value for k in ChannelKind)}",
            label,
        )
        return None
    ok = name is not None
    to: list[str] = []
    url = secret = ""
    if kind is ChannelKind.EMAIL:
        to = _strings(check, "channels", i, raw, "to", label)
        for address in to:
            if "@" not in parseaddr(address)[1]:
                check.add("channels", i, "to", f"{address!r} is not an email address", label)
                ok = False
        ok = ok and bool(to)
    else:
        url = _secret(check, i, raw, "url", env, label)
        problem = url_problem(url) if url else None
        if problem:
            check.add("channels", i, "url", problem, label)
        if not url and "url" not in raw and "url_env" not in raw:
            check.add(
                "channels",
                i,
                "url_env",
                f"a {kind.value} channel needs url_env "
                "(the environment variable holding its URL) or url",
                label,
            )
        ok = ok and bool(url) and not problem
    previous = ""
    for key in ("secret", "previous_secret"):
        if key not in raw and f"{key}_env" not in raw:
            continue
        if kind is not ChannelKind.WEBHOOK:
            check.add("channels", i, key, "only webhook channels sign their messages", label)
            ok = False
            continue
        value = _secret(check, i, raw, key, env, label)
        if value.startswith("whsec_"):
            try:
                base64.b64decode(value.removeprefix("whsec_"), validate=True)
            except binascii.Error:
                check.add(
                    "channels", i, key, "starts with whsec_ but the rest is not base64", label
                )
                ok = False
        elif value and len(value) < 16:
            check.add("channels", i, key, "is too short: use at least 16 characters", label)
            ok = False
        if key == "secret":
            secret = value
        else:
            previous = value
    if previous and not secret:
        check.add(
            "channels",
            i,
            "previous_secret",
            "a previous secret is only used during a rotation: set the new one as secret",
            label,
        )
        ok = False
    sender = _string(check, "channels", i, raw, "from", label)
    if not ok or name is None:
        return None
    return ChannelConfig(
        name=name,
        kind=kind,
        to=tuple(to),
        sender=sender,
        url=url,
        secret=secret,
        previous_secret=previous,
    )


def _secret(
    check: _Checker, i: int, raw: dict[str, Any], key: str, env: Mapping[str, str], label: str
) -> str:
    """A secret is read from the variable named by `<key>_env`, or given inline as `<key>`."""
    env_key = f"{key}_env"
    if env_key in raw:
        var = raw[env_key]
        if not isinstance(var, str) or not var:
            check.add("channels", i, env_key, "must name an environment variable", label)
            return ""
        value = env.get(var, "")
        if not value:
            check.add("channels", i, env_key, f"environment variable {var} is not set", label)
        return value
    value = raw.get(key, "")
    return value if isinstance(value, str) else ""


def _subscription(
    check: _Checker,
    i: int,
    raw: dict[str, Any],
    watchlists: set[str],
    channels: set[str],
    timezone: str,
) -> Subscription | None:
    _unknown_keys(check, "subscriptions", i, raw)
    name = _name(check, "subscriptions", i, raw)
    label = name or ""
    follows = _strings(check, "subscriptions", i, raw, "watchlists", label)
    ok = name is not None and bool(follows)
    for w in follows:
        if w not in watchlists:
            check.add("subscriptions", i, "watchlists", f"no watchlist named {w!r}", label)
            ok = False
    channel = _string(check, "subscriptions", i, raw, "channel", label)
    email = _string(check, "subscriptions", i, raw, "email", label).strip()
    if channel and email:
        check.add(
            "subscriptions",
            i,
            "email",
            "set either channel (a configured channel) or email (one subscriber), not both",
            label,
        )
        ok = False
    elif email:
        if "@" not in parseaddr(email)[1] or any(c in email for c in "\r\n,;"):
            check.add("subscriptions", i, "email", f"{email!r} is not an email address", label)
            ok = False
        # The bare address: it is what unsubscribe links are signed for and compared with.
        email = parseaddr(email)[1]
    elif channel not in channels:
        check.add(
            "subscriptions",
            i,
            "channel",
            f"no channel named {channel!r}" if channel else "needs a channel or an email",
            label,
        )
        ok = False
    zone = _string(check, "subscriptions", i, raw, "timezone", label, timezone) or timezone
    try:
        check_zone(zone)
    except ScheduleError as exc:
        check.add("subscriptions", i, "timezone", str(exc), label)
        ok, zone = False, timezone
    schedule = _string(check, "subscriptions", i, raw, "schedule", label, "immediate")
    try:
        parse_schedule(schedule, zone)
    except ScheduleError as exc:
        check.add("subscriptions", i, "schedule", str(exc), label)
        ok = False
    quiet = _string(check, "subscriptions", i, raw, "quiet_hours", label)
    if quiet:
        try:
            QuietHours.parse(quiet)
        except ScheduleError as exc:
            check.add("subscriptions", i, "quiet_hours", str(exc), label)
            ok = False
    immediate = _importance(check, "subscriptions", i, raw, "immediate_importance", label)
    send_empty = raw.get("send_empty", False)
    if not isinstance(send_empty, bool):
        check.add("subscriptions", i, "send_empty", "must be true or false", label)
        ok = False
    max_stories = raw.get("max_stories", 50)
    if (
        not isinstance(max_stories, int)
        or isinstance(max_stories, bool)
        or not 1 <= max_stories <= MAX_STORIES_LIMIT
    ):
        check.add(
            "subscriptions",
            i,
            "max_stories",
            f"must be a whole number from 1 to {MAX_STORIES_LIMIT}",
            label,
        )
        ok = False
    facet_filter = _string(check, "subscriptions", i, raw, "filter", label)
    if facet_filter:
        try:
            parse_filter(facet_filter)
        except QueryError as exc:
            check.add("subscriptions", i, "filter", str(exc), label)
            ok = False
    if not ok or name is None:
        return None
    return Subscription(
        name=name,
        watchlists=tuple(follows),
        channel=channel,
        schedule=schedule,
        email=email,
        timezone=zone,
        quiet_hours=quiet,
        immediate_importance=immediate,
        send_empty=bool(send_empty),
        max_stories=int(max_stories),
        filter=facet_filter,
    )


def _unique_names(check: _Checker, table: str, names: list[object]) -> None:
    seen: set[object] = set()
    for index, name in enumerate(names):
        if name is not None and name in seen:
            check.add(table, index, "name", f"duplicate name {name!r}")
        seen.add(name)


def resolve_config_path(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """--config, else ALERTS_CONFIG, else ./feeds.toml."""
    env = os.environ if environ is None else environ
    return option or env.get("ALERTS_CONFIG") or DEFAULT_CONFIG_PATH
