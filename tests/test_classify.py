"""The sanctions classifier: quality on the labelled set, and each rule on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alerts.classify import ActionType, Measure, classify
from alerts.classify.scoring import Example, example_from_json, is_held_out, score

DATA = Path(__file__).parent / "data" / "classify"


def _load(name: str) -> list[Example]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [example_from_json(json.loads(line)) for line in lines if line.strip()]


def test_labelled_set_is_big_enough_and_mixed() -> None:
    examples = _load("labelled.jsonl")
    assert len(examples) >= 220
    negatives = [e for e in examples if not e.sanctions_action]
    assert len(negatives) >= 80
    held_out = [e for e in examples if is_held_out(e)]
    assert 0.2 < len(held_out) / len(examples) < 0.4


def test_held_out_quality_meets_targets() -> None:
    report = score(e for e in _load("labelled.jsonl") if is_held_out(e))
    assert report.precision >= 0.95
    assert report.recall >= 0.90
    assert report.issuer_accuracy >= 0.95


def test_in_sample_quality_meets_targets() -> None:
    report = score(e for e in _load("labelled.jsonl") if not is_held_out(e))
    assert report.precision >= 0.95
    assert report.recall >= 0.90
    assert report.issuer_accuracy >= 0.95


def test_blind_set_precision() -> None:
    # Written after tuning and scored once; recall there is reported, precision guarded.
    report = score(_load("blind.jsonl"))
    assert report.precision >= 0.95


def test_ofac_designation_with_reasons() -> None:
    facets = classify(
        "Treasury Sanctions Russian Oil Traders",
        "OFAC today designated 12 entities.",
    )
    assert facets.sanctions_action
    assert facets.action_type is ActionType.DESIGNATION
    assert facets.issuer == "US"
    assert facets.targets == ("RU",)
    assert Measure.ASSET_FREEZE in facets.measures
    for facet in ("sanctions_action", "action_type", "issuer", "targets", "measures"):
        assert facets.why(facet), facet
    assert facets.why("issuer")[0].span == "Treasury"


def test_official_listing_title_without_verb() -> None:
    facets = classify("Russia-related Designations", source_issuer="US", official=True)
    assert facets.sanctions_action
    assert facets.issuer == "US"
    assert facets.why("issuer")[0].rule == "source:official"
    assert facets.targets == ("RU",)


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("EU adopts 19th package of sanctions against Russia", ActionType.PACKAGE),
        ("EU extends economic sanctions against Russia for six months", ActionType.EXTENSION),
        ("US lifts sanctions on Syrian central bank", ActionType.DELISTING),
        ("OFAC issues General License 8L for energy transactions", ActionType.GENERAL_LICENCE),
        ("Commerce Adds 28 Chinese Entities to the Entity List", ActionType.EXPORT_LISTING),
        ("US imposes visa restrictions on Nicaraguan officials", ActionType.VISA_RESTRICTION),
    ],
)
def test_action_types(title: str, kind: ActionType) -> None:
    facets = classify(title)
    assert facets.sanctions_action
    assert facets.action_type is kind


@pytest.mark.parametrize(
    ("title", "rule"),
    [
        ("NCAA sanctions Michigan football over sign-stealing", "neg:sport"),
        ("FIFA sanctions club for racist chants", "neg:sport"),
        ("Judge sanctions lawyers for fake AI citations", "neg:court"),
        ("Parliament sanctions funding for new hospital wing", "neg:budget"),
        ("Bank fined $300 million for violating US sanctions on Iran", "neg:enforcement"),
        ("Analysis: What the new EU sanctions mean for Russian LNG", "comment:label"),
        ("EU could impose new sanctions on Russia next month", "comment:speculation"),
        ("US may consider sanctions on Chinese banks", "comment:speculation"),
        ("Sanctions relief talks stall as Iran rejects US terms", "comment:speculation"),
        ("Kremlin condemns new EU sanctions as illegal", "comment:reaction"),
        ("Kommentar: Warum die Sanktionen gegen Russland wirken", "comment:label"),
        ("Эксперты: санкции могут ударить по экспорту", "comment:speculation"),
        ("School sanctions students for vaping", "no-action-cue"),
    ],
)
def test_hard_negatives(title: str, rule: str) -> None:
    facets = classify(title)
    assert not facets.sanctions_action
    assert facets.why("sanctions_action")[0].rule == rule
    assert facets.targets == ()


def test_court_veto_overruled_by_issuer_and_target() -> None:
    facets = classify("UK sanctions Russian judges who jailed Kara-Murza")
    assert facets.sanctions_action
    rules = [r.rule for r in facets.why("sanctions_action")]
    assert rules[:2] == ["overruled:neg:court", "override:issuer+target"]


@pytest.mark.parametrize(
    ("title", "issuer", "targets"),
    [
        ("EU verhängt neue Sanktionen gegen Russland", "EU", ("RU",)),
        ("L'UE adopte un 19e paquet de sanctions contre la Russie", "EU", ("RU",)),
        ("США ввели санкции против российских нефтяных компаний", "US", ("RU",)),
        (
            "Security Council 1718 Committee Removes One Entry from Its Sanctions List",
            "UN",
            ("KP",),
        ),
        ("Financial Sanctions Notice: Russia. HM Treasury adds entries", "UK", ("RU",)),
        ("Canada and UK jointly sanction Iranian drone makers", "CA", ("IR",)),
        pytest.param(
            "China sanctions US defence firms over Taiwan arms sales",
            "CN",
            ("TW", "US"),
            marks=pytest.mark.xfail(reason="known: an issuer's country named as target is dropped"),
        ),
    ],
)
def test_issuer_and_targets(title: str, issuer: str, targets: tuple[str, ...]) -> None:
    facets = classify(title)
    assert facets.sanctions_action
    assert facets.issuer == issuer
    assert facets.targets == targets


def test_source_issuer_is_a_fallback_for_news() -> None:
    facets = classify("New sanctions on Iranian shipping firms", source_issuer="UK")
    assert facets.issuer == "UK"
    assert facets.why("issuer")[0].rule == "source"


def test_ukraine_is_not_a_target() -> None:
    facets = classify("EU sanctions Russian officials over war against Ukraine")
    assert facets.targets == ("RU",)
