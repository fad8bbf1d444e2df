"""Watchlists in feeds.toml: every entry kind loads; bad entries name the watchlist, the
entry and the place, and leave the other watchlists working."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.config import load_config
from alerts.domain import Entity, EntityKind
from alerts.errors import ConfigError

WATCHLISTS = """
[[watchlists]]
name = "russia"
description = "Russia sanctions, people and companies"
terms = ["Navalny", "sanction*"]
queries = [
  'title:sanctions AND (Russia OR Belarus)',
  '"export restrictions" NEAR/10 Russia',
]
regexes = ['\\bEO\\s?14024\\b']
exclude = ["football OR tennis"]

[[watchlists.entities]]
name = "PUTIN, Vladimir Vladimirovich"
kind = "person"
weak_aliases = ["Putin"]

[[watchlists.entities]]
name = "PJSC Rosneft"
kind = "organization"
aliases = ["Rosneft Oil Company"]

[[watchlists]]
name = "shipping"
entities = [{ name = "Sea Breeze", kind = "vessel", identifiers = ["IMO 9187629"] }]
"""


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={})


def test_every_entry_kind_loads(tmp_path: Path) -> None:
    config = load(tmp_path, WATCHLISTS)
    assert config.watchlist_problems == ()
    russia, shipping = config.watchlists
    assert russia.terms == ("Navalny", "sanction*")
    assert len(russia.queries) == 2 and russia.regexes == ("\\bEO\\s?14024\\b",)
    assert russia.exclude == ("football OR tennis",)
    assert russia.description.startswith("Russia")
    assert russia.entities[0] == Entity(
        "PUTIN, Vladimir Vladimirovich", EntityKind.PERSON, weak_aliases=("Putin",)
    )
    assert russia.entities[1].kind is EntityKind.ORGANIZATION
    assert shipping.entities == (
        Entity("Sea Breeze", EntityKind.VESSEL, identifiers=("IMO 9187629",)),
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "'title:sanctions AND (Russia OR Belarus)'",
            "'title:sanctions AND (Russia OR Belarus'",
            'line 7, watchlist "russia": query col 21: unbalanced parenthesis',
        ),
        (
            "'\\bEO\\s?14024\\b'",
            "'(\\w+)\\s\\1'",
            "line 10, watchlist \"russia\": regex '(\\\\w+)\\\\s\\\\1': regex is not valid RE2"
            " syntax: backreferences (\\1) are not supported",
        ),
        ('"sanction*"]', '""]', "watchlist \"russia\": term '': term is empty"),
        ('"sanction*"]', '"a\\u0007b"]', "term has a control character (U+0007)"),
        ('"sanction*"]', '"' + "x" * 10_000 + '"]', "term is too long (10000 characters"),
        ('"sanction*"]', '"*"]', "term '*': term has no letters or digits"),
        (
            '["football OR tennis"]',
            '["NOT football"]',
            "exclude col 1: query needs at least one word",
        ),
        ('name = "Sea Breeze"', 'name = ""', "watchlist \"shipping\": entity '': name is empty"),
    ],
)
def test_bad_entries_name_watchlist_and_leave_others_working(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in WATCHLISTS
    config = load(tmp_path, WATCHLISTS.replace(old, new, 1))
    messages = [str(p) for p in config.watchlist_problems]
    assert any(expected in m for m in messages), messages
    assert all(m.startswith(f"{tmp_path / 'feeds.toml'}: ") for m in messages)
    # The broken watchlist is left out; the other one still compiles and works.
    assert len(config.watchlists) == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('kind = "person"', 'kind = "ship"', "kind 'ship' is not one of person"),
        (
            'kind = "person"',
            'knd = "person"',
            "entities[0]: unknown key 'knd'; did you mean 'kind'?",
        ),
        ('weak_aliases = ["Putin"]', 'weak_aliases = "Putin"', "weak_aliases must be a list"),
        ("queries = [", "querys = [", "unknown key 'querys'; did you mean 'queries'?"),
    ],
)
def test_malformed_watchlists_are_config_errors(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, WATCHLISTS.replace(old, new, 1))
    assert any(expected in str(p) for p in info.value.problems), info.value.problems


def test_watchlist_with_only_exclusions_is_rejected(tmp_path: Path) -> None:
    config = load(tmp_path, '[[watchlists]]\nname = "empty"\nexclude = ["sport"]\n')
    (problem,) = config.watchlist_problems
    assert "only exclusions: add a term, query, regex or entity to match" in str(problem)


def test_watchlist_without_entries_is_declared_for_imported_entities(tmp_path: Path) -> None:
    # `alerts watchlists import officials FILE` fills it; subscriptions can follow it.
    text = '[[watchlists]]\nname = "officials"\n'
    text += '[[channels]]\nname = "mail"\ntype = "email"\nto = ["a@example.org"]\n'
    text += '[[subscriptions]]\nname = "s"\nwatchlists = ["officials"]\nchannel = "mail"\n'
    config = load(tmp_path, text)
    assert config.watchlists[0].name == "officials" and config.watchlist_problems == ()


def test_shape_errors_and_entry_errors_are_reported_together(tmp_path: Path) -> None:
    broken = WATCHLISTS.replace('kind = "person"', 'kind = "planet"', 1).replace(
        "(Russia OR Belarus)", "(Russia OR Belarus", 1
    )
    with pytest.raises(ConfigError) as info:
        load(tmp_path, broken)
    messages = [str(p) for p in info.value.problems]
    assert any("kind 'planet'" in m for m in messages)
    assert any("query col 21: unbalanced parenthesis" in m for m in messages)
