"""feeds.toml and ALERTS_* settings: valid files load, every problem is named with its place."""

from datetime import timedelta
from pathlib import Path

import pytest

from alerts.config import SETTINGS, Settings, load_config, parse_interval
from alerts.domain import ChannelKind
from alerts.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
[settings]
timezone = "Europe/London"

[[feeds]]
name = "eu-council"
url = "https://www.consilium.europa.eu/en/rss/pressreleases.ashx"
interval = "30m"

[[watchlists]]
name = "russia"
terms = ["Navalny", "sanctions against Russia"]

[[channels]]
name = "mail"
type = "email"
to = ["a@example.org", "Compliance <b@example.org>"]

[[channels]]
name = "slack"
type = "slack"
url_env = "TEST_SLACK_URL"

[[subscriptions]]
name = "daily"
watchlists = ["russia"]
channel = "mail"
schedule = "daily 08:00"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_config_is_valid() -> None:
    config = load_config(ROOT / "feeds.toml", environ={})
    assert len(config.feeds) >= 8
    assert all(f.url.startswith("https://") for f in config.feeds)
    # OFAC's retired RSS must not be listed.
    assert not any(
        "ofac.xml" in f.url or "treasury.gov/resource-center" in f.url for f in config.feeds
    )
    assert {s.channel for s in config.subscriptions} <= {c.name for c in config.channels}


def test_good_config_loads_with_secrets_from_environment(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, GOOD), environ={"TEST_SLACK_URL": "https://hooks.example/x"}
    )
    assert config.feeds[0].interval == timedelta(minutes=30)
    assert config.watchlists[0].terms == ("Navalny", "sanctions against Russia")
    slack = config.channel_by_name["slack"]
    assert slack.kind is ChannelKind.SLACK and slack.url == "https://hooks.example/x"
    assert config.subscription("daily") is not None


def problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(
            write(tmp_path, text), environ=environ or {"TEST_SLACK_URL": "https://h.example/"}
        )
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'interval = "30m"',
            'intervall = "30m"',
            "line 8, feeds[0] 'eu-council'.intervall: unknown key 'intervall'; did you mean 'interval'?",
        ),
        (
            'url = "https://www.consilium',
            'url = "ftp://www.consilium',
            "line 7, feeds[0] 'eu-council'.url: bad URL",
        ),
        (
            'interval = "30m"',
            'interval = "5 parsecs"',
            "feeds[0] 'eu-council'.interval: bad interval '5 parsecs'",
        ),
        ('interval = "30m"', 'interval = "1s"', "must be between 10s and 7d"),
        (
            'timezone = "Europe/London"',
            'timezone = "Europe/Londn"',
            "line 3, settings.timezone: unknown time zone 'Europe/Londn'",
        ),
        (
            'schedule = "daily 08:00"',
            'schedule = "daily 08:00 Mars/Base"',
            "subscriptions[0] 'daily'.schedule: unknown time zone",
        ),
        (
            'watchlists = ["russia"]',
            'watchlists = ["rusia"]',
            "line 26, subscriptions[0] 'daily'.watchlists: no watchlist named 'rusia'",
        ),
        (
            'channel = "mail"',
            'channel = "email"',
            "subscriptions[0] 'daily'.channel: no channel named 'email'",
        ),
        (
            'to = ["a@example.org", ',
            'to = ["not-an-address", ',
            "'not-an-address' is not an email address",
        ),
        ('type = "slack"', 'type = "pager"', "unknown channel type 'pager'"),
        ("[settings]", "[setings]", "unknown section 'setings'"),
    ],
)
def test_each_problem_is_named_with_its_place(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    found = problems(tmp_path, GOOD.replace(old, new, 1))
    assert any(expected in p for p in found), found
    assert all(p.startswith(str(tmp_path / "feeds.toml")) for p in found)


def test_missing_secret_names_the_variable(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD, environ={"OTHER": "x"})
    assert any("url_env: environment variable TEST_SLACK_URL is not set" in p for p in found)


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    text = GOOD.replace('interval = "30m"', 'interval = "never"').replace(
        'channel = "mail"', 'channel = "nope"'
    )
    found = problems(tmp_path, text)
    assert len(found) == 2


def test_duplicate_names(tmp_path: Path) -> None:
    text = GOOD + '\n[[feeds]]\nname = "eu-council"\nurl = "https://example.org/feed"\n'
    assert any("duplicate name 'eu-council'" in p for p in problems(tmp_path, text))


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('name = "russia"', 'name = "russia'))
    assert any("line 11, column 15: TOML syntax error" in p for p in found), found


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_intervals() -> None:
    assert parse_interval("1h30m") == timedelta(minutes=90)
    assert parse_interval("1d") == timedelta(days=1)
    with pytest.raises(ValueError, match="bad interval"):
        parse_interval("soon")


def test_settings_from_environment() -> None:
    s = Settings.from_env({"ALERTS_TICK_SECONDS": "2.5", "ALERTS_DATABASE_URL": "sqlite:///x.db"})
    assert s.tick_seconds == 2.5 and s.database_url == "sqlite:///x.db"
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"ALERTS_TICK_SECONDS": "often", "ALERTS_LOG_FORMAT": "xml"})
    text = str(info.value)
    assert "ALERTS_TICK_SECONDS: 'often' is not a valid float" in text
    assert "ALERTS_LOG_FORMAT" in text


def test_every_setting_has_a_field() -> None:
    fields = set(Settings.__dataclass_fields__)
    assert {s.attr for s in SETTINGS} == fields


# -- source kinds (issue 6) ----------------------------------------------------------------

KINDS = """
[[feeds]]
name = "ofac-actions"
kind = "html"
url = "https://ofac.treasury.gov/recent-actions"
official = true
issuer = "us"
[feeds.html]
item = "div.action-row"
title = ".action-title a"
date = ".action-date"
date_formats = ["%B %d, %Y"]

[[feeds]]
name = "fr"
kind = "json"
url = "https://www.federalregister.gov/api/v1/documents.json"
[feeds.json]
items = "results"
title = "title"
next_page = "next_page_url"
max_pages = 2

[[feeds]]
name = "sdn"
kind = "list"
url = "https://sanctionslistservice.ofac.treas.gov/changes/latest"
format = "ofac-sls-delta"
interval = "6h"
"""


def test_source_kinds_load_with_their_specs(tmp_path: Path) -> None:
    from alerts.domain import SourceKind
    from alerts.sources.jsonapi import JsonApiSpec
    from alerts.sources.listing import ListingSpec
    from alerts.sources.lists.spec import ListFormat, ListSpec

    config = load_config(write(tmp_path, KINDS))
    html, api, sdn = config.feeds
    assert (html.kind, html.issuer, html.official) == (SourceKind.HTML, "US", True)
    assert isinstance(html.spec, ListingSpec) and html.spec.item == "div.action-row"
    assert isinstance(api.spec, JsonApiSpec) and api.spec.max_pages == 2
    assert sdn.kind is SourceKind.LIST
    assert sdn.spec == ListSpec(ListFormat.OFAC_SLS_DELTA, 0.2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[feeds]]\nname = "x"\nkind = "rss"\nurl = "https://a.example/"\n',
            """feeds[0] 'x'.kind: 'rss' is not one of "feed", "html", "json", "list\"""",
        ),
        (
            '[[feeds]]\nname = "x"\nkind = "html"\nurl = "https://a.example/"\n',
            "feeds[0] 'x'.html: a [feeds.html] table is required",
        ),
        (
            '[[feeds]]\nname = "x"\nkind = "html"\nurl = "https://a.example/"\n'
            '[feeds.html]\nitem = "div["\ntitle = "a"\n',
            "is not a valid CSS selector",
        ),
        (
            '[[feeds]]\nname = "x"\nkind = "json"\nurl = "https://a.example/"\n'
            '[feeds.json]\nitems = "results"\n',
            "feeds[0] 'x'.json: [feeds.json] needs title",
        ),
        (
            '[[feeds]]\nname = "x"\nkind = "list"\nurl = "https://a.example/"\ninterval = "6h"\n',
            "feeds[0] 'x'.format: required for kind = \"list\"",
        ),
        (
            '[[feeds]]\nname = "x"\nkind = "list"\nurl = "https://a.example/"\n'
            'format = "sdn"\ninterval = "6h"\n',
            "format: 'sdn' is not one of ofac-sdn-xml",
        ),
        (
            '[[feeds]]\nname = "x"\nkind = "list"\nurl = "https://a.example/"\n'
            'format = "eu-fsf-xml"\n',
            "a list file is polled at most every 2h",
        ),
        (
            '[[feeds]]\nname = "x"\nkind = "list"\nurl = "https://a.example/"\n'
            'format = "eu-fsf-xml"\ninterval = "6h"\nmax_removed_share = 2\n',
            "feeds[0] 'x'.max_removed_share: 2.0 is not above 0 and at most 1",
        ),
        (
            '[[feeds]]\nname = "x"\nkind = "list"\nurl = "https://a.example/"\nfetch_article = true\n'
            'format = "eu-fsf-xml"\ninterval = "6h"\n',
            "feeds[0] 'x'.fetch_article: not used by kind = \"list\"",
        ),
        (
            '[[feeds]]\nname = "x"\nurl = "https://a.example/"\nissuer = "United States"\n',
            "feeds[0] 'x'.issuer: must be a short code",
        ),
    ],
)
def test_bad_source_kinds_are_named(tmp_path: Path, text: str, message: str) -> None:
    found = problems(tmp_path, text)
    assert any(message in p for p in found), found


def test_subscription_filter_is_checked(tmp_path: Path) -> None:
    base = GOOD.replace('channel = "mail"', 'channel = "mail"\nfilter = "issuer:EU AND target:RU"')
    config = load_config(write(tmp_path, base), environ={"TEST_SLACK_URL": "https://h.example/"})
    assert config.subscription("daily") is not None
    assert config.subscription("daily").filter == "issuer:EU AND target:RU"  # type: ignore[union-attr]
    bad = GOOD.replace('channel = "mail"', 'channel = "mail"\nfilter = "Navalny"')
    [problem] = problems(tmp_path, bad)
    assert (
        "subscriptions[0] 'daily'.filter: col 1: 'Navalny': a subscription filter uses facets"
        in problem
    )


def test_list_facets_must_name_a_list_source(tmp_path: Path) -> None:
    watch = (
        '\n[[watchlists]]\nname = "listings"\nqueries = ["list:sdn AND designation:added", '
        '"list:us-ofac-sdn"]\n'
        '\n[[watchlists]]\nname = "fine"\nqueries = ["list:sdn"]\n'
        '\n[[channels]]\nname = "hook"\ntype = "webhook"\nurl = "https://h.example/"\n'
    )
    # A watchlist naming a list source that is gone is rejected, not the whole file: the
    # service keeps running with its saved version, and `alerts check` reports it.
    config = load_config(write(tmp_path, KINDS + watch), environ={})
    assert [w.name for w in config.watchlists] == ["fine"]
    assert config.rejected_watchlists == ("listings",)
    [problem] = [str(p) for p in config.watchlist_problems]
    assert 'watchlist "listings": queries: list:us-ofac-sdn names no list source' in problem
    assert '(kind = "list"): sdn' in problem
    # A subscription filter doing so is an error like any other in a subscription.
    subscribe = (
        '\n[[subscriptions]]\nname = "s"\nwatchlists = ["fine"]\nchannel = "hook"\n'
        'filter = "list:uk-list"\n'
    )
    found = problems(tmp_path, KINDS + watch + subscribe)
    assert any("subscriptions[0] 's'.filter: list:uk-list names no list source" in p for p in found)
