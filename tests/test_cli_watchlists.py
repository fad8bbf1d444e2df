"""Watchlist tools on the command line: check, match --explain, import, backtest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.config import load_config
from alerts.dedup import identify
from alerts.domain import Item, NewItem
from alerts.store.repository import Store
from tests.test_cli import invoke

ROOT = Path(__file__).resolve().parents[1]
ENTITIES = ROOT / "tests" / "data" / "entities"

CONFIG = """
[[feeds]]
name = "wire"
url = "https://wire.example/feed.xml"

[[watchlists]]
name = "russia"
terms = ["Navalny"]
queries = ['title:sanctions AND (Russia OR Belarus)']
exclude = ["football"]

[[watchlists.entities]]
name = "PUTIN, Vladimir Vladimirovich"

[[watchlists]]
name = "officials"
description = "entities imported from OpenSanctions"
terms = ["placeholder-term-never-seen"]

[[channels]]
name = "inbox"
type = "email"
to = ["desk@example.org"]

[[subscriptions]]
name = "desk"
watchlists = ["russia", "officials"]
channel = "inbox"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def args(config: Path, database_url: str) -> list[str]:
    return ["--config", str(config), "--database", database_url]


def test_check_names_the_watchlist_and_column(config: Path, database_url: str) -> None:
    broken = CONFIG.replace("(Russia OR Belarus)", "(Russia OR Belarus")
    config.write_text(broken, encoding="utf-8")
    result = invoke("check", *args(config, database_url))
    assert result.exit_code == 2
    assert 'line 9, watchlist "russia": query col 21: unbalanced parenthesis' in result.output


def test_match_explain_shows_spelling_offsets_and_vetoes(config: Path, database_url: str) -> None:
    lines = "\n".join(
        json.dumps(row, ensure_ascii=False)
        for row in (
            {"title": "US sanctions Russia", "summary": "President Vladimir Putin's allies"},
            {"title": "Football sanctions", "summary": "Навального поддержали"},
        )
    )
    result = invoke("match", *args(config, database_url), "--explain", "--all", input=lines)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "[russia] entity 'PUTIN, Vladimir Vladimirovich': found 'Vladimir Putin'" in out
    assert "President [[Vladimir Putin]]'s allies" in out
    assert "[russia] query 'title:sanctions AND (Russia OR Belarus)': found 'sanctions'" in out
    assert "(via word 'Russia')" in out
    assert "[russia] EXCLUDED by 'football' in title" in out
    assert "1 of 2 items matched" in out


def test_import_then_match_saved_and_list(config: Path, database_url: str) -> None:
    ftm = ENTITIES / "russia-officials.ftm.json"
    result = invoke("watchlists", "import", *args(config, database_url), "officials", str(ftm))
    assert result.exit_code == 0, result.output
    assert "watchlist 'officials'" in result.output and "11 added" in result.output
    assert "line " in result.output  # the fixture's broken lines are reported, not fatal

    listed = invoke("watchlists", "list", *args(config, database_url))
    assert "officials" in listed.output

    text = json.dumps({"title": "ПАО «Роснефть» под санкциями", "summary": ""})
    saved = invoke(
        "match", *args(config, database_url), "--saved", "--watchlist", "officials", input=text
    )
    assert "[officials]" in saved.output, saved.output

    # Importing again changes nothing; a file with no usable entity changes nothing.
    again = invoke("watchlists", "import", *args(config, database_url), "officials", str(ftm))
    assert " 0 added" in again.output
    empty = config.parent / "empty.ftm.json"
    empty.write_text('{"id": "x", "schema": "Address", "properties": {}}\n', encoding="utf-8")
    bad = invoke("watchlists", "import", *args(config, database_url), "officials", str(empty))
    assert bad.exit_code == 1 and "nothing was changed" in bad.output


def test_import_rejects_missing_file(config: Path, database_url: str) -> None:
    missing = str(config.parent / "nope.csv")
    result = invoke("watchlists", "import", *args(config, database_url), "x", missing)
    assert result.exit_code == 2
    assert "no such file" in result.output


def _store_items(database_url: str, config: Path) -> None:
    """Two weeks of items, stored as a poll would store them."""
    from alerts.app import open_database
    from alerts.config import Settings

    settings = Settings.from_env(database_url=database_url, config_path=str(config))
    engine = open_database(settings)
    try:
        store = Store(engine)
        loaded = load_config(config)
        now = datetime.now(UTC)
        store.sync_config(
            loaded.feeds, loaded.watchlists, loaded.channels, loaded.subscriptions, now
        )
        rows = [
            ("EU sanctions Belarus", "New listings", 2),
            ("UK sanctions Russia", "Navalny allies", 3),
            ("Weather", "Sunny in Minsk", 4),
            ("Navalny memorial", "Crowds in Moscow", 5),
            ("Old story about Navalny", "", 40),  # outside a 30-day window
            ("Rosneft exports fall", "", 6),
        ]
        for n, (title, summary, days_ago) in enumerate(rows):
            item = Item(feed="wire", guid=f"g{n}", link=None, title=title, summary=summary)
            store.record_poll(
                "wire",
                now=now - timedelta(days=days_ago),
                next_poll_at=now,
                url="https://wire.example/feed.xml",
                etag=None,
                last_modified=None,
                items=[NewItem(item, identify(item))],
            )
    finally:
        engine.dispose()


def test_backtest_reports_catches_and_the_change_against_saved(
    config: Path, database_url: str
) -> None:
    _store_items(database_url, config)
    result = invoke("backtest", *args(config, database_url), "russia", "--since", "30d", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["items_scanned"] == 5
    assert {c["title"] for c in report["caught"]} == {
        "EU sanctions Belarus",
        "UK sanctions Russia",
        "Navalny memorial",
    }
    assert report["added"] == [] and report["removed"] == []
    assert len(report["per_day"]) >= 30 and round(report["alerts_per_day"], 1) == 0.1

    # Entities imported into the watchlist count for both versions: not "removed".
    entities = config.parent / "rosneft.csv"
    entities.write_text("name,kind\nPJSC Rosneft,organization\n", encoding="utf-8")
    assert (
        invoke(
            "watchlists", "import", *args(config, database_url), "russia", str(entities)
        ).exit_code
        == 0
    )
    result = invoke("backtest", *args(config, database_url), "russia", "--json")
    report = json.loads(result.output)
    assert "Rosneft exports fall" in {c["title"] for c in report["caught"]}
    assert report["removed"] == [] and report["added"] == []

    # A proposed change in a file: drop the query, add Minsk. What it adds and removes.
    proposed = config.parent / "proposed.toml"
    proposed.write_text(
        '[[watchlists]]\nname = "russia"\nterms = ["Navalny", "Minsk"]\n', encoding="utf-8"
    )
    result = invoke("backtest", *args(config, database_url), str(proposed), "--json")
    report = json.loads(result.output)
    assert [c["title"] for c in report["added"]] == ["Weather"]
    assert [c["title"] for c in report["removed"]] == ["EU sanctions Belarus"]

    text = invoke("backtest", *args(config, database_url), str(proposed), "--since", "7d")
    assert "compared with the saved version: +1 added, -1 removed" in text.output


@pytest.mark.parametrize("bad", ["0d", "soon", "30y"])
def test_backtest_rejects_bad_durations(config: Path, database_url: str, bad: str) -> None:
    result = invoke("backtest", *args(config, database_url), "russia", "--since", bad)
    assert result.exit_code == 2 and "bad duration" in result.output


def test_backtest_rejects_a_broken_proposal_with_its_column(
    config: Path, database_url: str
) -> None:
    proposed = config.parent / "proposed.toml"
    proposed.write_text('[[watchlists]]\nname = "russia"\nqueries = ["(a"]\n', encoding="utf-8")
    result = invoke("backtest", *args(config, database_url), str(proposed))
    assert result.exit_code == 2
    assert 'watchlist "russia": query col 1: unbalanced parenthesis' in result.output


def test_facet_and_designation_matches_are_explained_without_text_positions() -> None:
    from alerts.cli.watchlists import explain_match
    from alerts.domain import Match, MatchKind

    facet = Match(
        watchlist="eu-russia", term="issuer:EU AND target:RU", field="facet", start=0, end=0,
        snippet="'the Council' in title", kind=MatchKind.QUERY, matched="issuer:EU",
    )  # fmt: skip
    assert explain_match(facet, "") == [
        "  [eu-russia] query 'issuer:EU AND target:RU': the item has facet 'issuer:EU'",
        "      because 'the Council' in title",
    ]
    listed = Match(
        watchlist="people", term="Marina Volkova", field="designation", start=0, end=0,
        snippet="uk-list: added VOLKOVA, Marina Olegovna (Russia)", kind=MatchKind.ENTITY,
        matched="VOLKOVA, Marina Olegovna",
    )  # fmt: skip
    assert explain_match(listed, "") == [
        "  [people] entity 'Marina Volkova': listed as 'VOLKOVA, Marina Olegovna'",
        "      uk-list: added VOLKOVA, Marina Olegovna (Russia)",
    ]
