"""The sanctions classifier: quality on the labelled sets, each rule on its own, and the
`ItemFacets` built from items and from sanctions-list changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alerts.classify import ActionType, Measure, classify, designation_facets, item_facets
from alerts.classify.classifier import mentions_sanctions
from alerts.classify.lexicons import SANCTIONS_TERMS
from alerts.classify.scoring import Example, example_from_json, is_held_out, score
from alerts.domain import FACET_NAMES, DesignationRecord

DATA = Path(__file__).parent / "data" / "classify"


def _load(name: str) -> list[Example]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [example_from_json(json.loads(line)) for line in lines if line.strip()]


def test_labelled_set_is_big_enough_and_mixed() -> None:
    examples = _load("labelled.jsonl")
    assert len(examples) >= 280
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


def test_blind1_quality_meets_targets() -> None:
    # Blind for the first round of rules, then seen while the second round was tuned: it is
    # tuning data now, held to the same targets.
    report = score(_load("blind1.jsonl"))
    assert report.precision >= 0.95
    assert report.recall >= 0.90
    assert report.issuer_accuracy >= 0.95


def test_blind2_is_big_enough_and_guards_precision() -> None:
    # Written after this round's rules were frozen and scored once (docs/benchmarks.md);
    # only precision is guarded, as for the first blind set, so it stays nearly blind.
    examples = _load("blind2.jsonl")
    assert len(examples) >= 60
    assert len([e for e in examples if not e.sanctions_action]) >= 20
    assert score(examples).precision >= 0.95


def test_blind3_is_kept_and_guards_precision() -> None:
    # Written by another engineer without reading the rules and scored once; like blind-2,
    # only precision is guarded so that tuning does not quietly fit it.
    examples = _load("blind3.jsonl")
    assert len(examples) == 40
    assert score(examples).precision >= 0.95


def test_sanctions_word_gate_agrees_with_the_lexicon() -> None:
    # `mentions_sanctions` is one scan standing in for every SANCTIONS_TERMS entry.
    texts = [t for name in ("labelled.jsonl", "blind1.jsonl") for e in _load(name)
             for t in (e.title, e.summary)]  # fmt: skip
    for text in texts:
        expected = any(p.regex.search(text) for p in SANCTIONS_TERMS)
        assert mentions_sanctions(text) == expected, text


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


@pytest.mark.parametrize(
    "title",
    [
        "UK sanctions Russian judges who jailed Kara-Murza",
        "US imposes sanctions on ICC judges",
        "EU imposes sanctions on Russian football officials over doping cover-up",
    ],
)
def test_veto_overruled_when_the_issuer_is_the_subject(title: str) -> None:
    facets = classify(title)
    assert facets.sanctions_action
    rules = [r.rule for r in facets.why("sanctions_action")]
    assert rules[0].startswith("overruled:neg:")
    assert rules[1] == "override:issuer-subject"


@pytest.mark.parametrize(
    ("title", "rule"),
    [
        ("US judge imposes sanctions on Giuliani", "neg:court"),
        ("UK court freezes assets of Russian oligarch in divorce battle", "neg:court"),
        # Tourist visas are vetoed even with the government as subject.
        ("Japan eases visa restrictions for Chinese tourists", "neg:immigration"),
    ],
)
def test_veto_kept_when_the_issuer_is_not_the_subject(title: str, rule: str) -> None:
    facets = classify(title)
    assert not facets.sanctions_action
    assert facets.why("sanctions_action")[0].rule == rule


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
        # An issuer word in target position is a target, not the issuer.
        ("China sanctions US defence firms over Taiwan arms sales", "CN", ("TW", "US")),
        ("Russia bans entry to 23 British MPs in retaliation for sanctions", "RU", ("GB",)),
        # Any country named as the subject of a sanctions verb issues it.
        ("Belarus sanctions EU diplomats in tit-for-tat move", "BY", ()),
        ("Iran imposes sanctions on British officials", "IR", ("GB",)),
        # The Commerce Department and its Entity List.
        ("Commerce adds 12 Russian entities to Entity List", "US", ("RU",)),
        ("Chinese firms added to Entity List over military links", "US", ("CN",)),
        # NZ's Russia Sanctions Act names both the issuer and the target.
        ("New Zealand adds 24 individuals to Russia Sanctions Act register", "NZ", ("RU",)),
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


# --- Lexicon entries added for issue 6's recall gaps ------------------------------------------


@pytest.mark.parametrize(
    ("title", "summary", "source", "kind", "rule"),
    [
        # Asset freezes as the action.
        ("Japan imposes asset freeze on Russian banks", "", None, "designation", "action:designation"),
        ("Japan's finance ministry announces asset freeze measures on North Korean hackers", "", None, "designation", "action:designation"),
        # Adjectives between the verb and "sanctions".
        ("DFAT imposes targeted financial sanctions on Myanmar military leaders", "", None, "designation", "action:designation"),
        # Canada's Special Economic Measures Act, without the word "sanctions".
        ("Canada lists 10 Russian entities under Special Economic Measures", "", "CA", "designation", "action:designation"),
        ("Amendments to the Special Economic Measures (Belarus) Regulations", "Canada is adding 8 individuals.", "CA", "designation", "official:designations"),
        # Australia's Autonomous Sanctions.
        ("Australia lists Iranian cyber actors under its autonomous sanctions framework", "", None, "designation", "action:designation"),
        # Switzerland taking over EU sanctions.
        ("Switzerland implements latest EU sanctions against Russia", "", None, "package", "action:package-adopted"),
        ("Der Bundesrat setzt neue EU-Sanktionen gegen Belarus um", "", None, "designation", "action:adopted"),
        # Export-control listings.
        ("Commerce restricts exports to Russian and Belarusian aircraft parts suppliers", "", None, "export_listing", "action:export-listing"),
        ("Additions to the Entity List", "BIS is adding 11 entities to the Entity List.", "US", "export_listing", "action:export-listing"),
        # Visa restrictions.
        ("U.S. restricts visas for Ethiopian officials undermining peace talks", "", None, "visa_restriction", "action:visa"),
        ("Russia bans entry to 500 Americans in retaliation for sanctions", "", None, "visa_restriction", "action:visa"),
        # General licences, also beside an FAQ label in an official title.
        ("OFSI publishes new general licence for wind-down of Russian bank", "", None, "general_licence", "action:general-licence"),
        ("Treasury grants license for humanitarian aid deliveries to Afghanistan", "", None, "general_licence", "action:general-licence"),
        ("Issuance of Russia-related General License; Publication of Russia-related Frequently Asked Questions", "", "US", "general_licence", "action:general-licence"),
        ("US eases Venezuela oil sanctions with new license for Chevron", "", None, "general_licence", "action:general-licence"),
        # Delistings.
        ("Canada drops sanctions on three Syrian banks", "", None, "delisting", "action:delisting"),
        ("UN committee strikes two individuals off Libya sanctions list", "", None, "delisting", "action:delisting"),
        ("Syria Designations Removals", "", "US", "delisting", "action:delisting"),
        # Treasury's and the EU's own phrasing.
        ("Treasury Takes Action Against Iranian Shadow Banking Network", "", None, "designation", "action:designation"),
        ("Belarus: EU lists further 25 individuals over repression", "", None, "designation", "action:designation"),
        ("New UK sanctions target Kremlin-linked propagandists", "", None, "designation", "action:designation"),
        ("New Zealand sanctions further Russian disinformation actors", "", None, "designation", "action:sanctions-verb"),
        # Quoted objects and numbered packages named in the summary.
        ("EU sanctions 'shadow fleet' tankers carrying Russian oil", "", None, "designation", "action:sanctions-verb"),
        ("EU verhängt neue Sanktionen gegen Russland", "Die EU-Staaten haben das 19. Sanktionspaket beschlossen.", None, "package", "action:package"),
    ],
)  # fmt: skip
def test_new_action_cues(
    title: str, summary: str, source: str | None, kind: str, rule: str
) -> None:
    facets = classify(title, summary, source_issuer=source, official=source is not None)
    assert facets.sanctions_action
    assert facets.action_type == kind
    assert facets.why("action_type")[0].rule == rule


@pytest.mark.parametrize(
    ("title", "rule"),
    [
        ("Court orders asset freeze on crypto fraudster's accounts", "neg:court"),
        ("Judge lifts asset freeze on former CEO in divorce case", "neg:court"),
        ("Police freeze assets of suspected drug gang", "neg:freezing-order"),
        ("UK tightens visa restrictions for overseas students", "neg:immigration"),
        ("UK lifts visa restrictions on Ukrainian refugees", "neg:immigration"),
        ("Regulator issues licence to new digital bank", "no-sanctions-term"),
        ("Government announces special economic measures to support farmers", "no-sanctions-term"),
        ("Explainer: how Canada's Special Economic Measures Act works", "comment:label"),
        ("New Zealand MPs debate Russia Sanctions Act amendment", "comment:speculation"),
        ("What the Entity List means for chip suppliers", "comment:about"),
        ("Company removes Russian products citing sanctions", "comment:about"),
        ("Government sanctions 2,000 new teacher posts", "neg:budget"),
        ("Party sanctions MP for breaking whip", "neg:politics"),
        ("Bank implements new sanctions screening software", "neg:industry"),
        ("India extends export ban on onions", "neg:commodity"),
        ("Sanctioned Russian oligarch's yacht sold at auction", "no-action-cue"),
        ("Minister imposes sanctions on rogue landlords", "no-issuer-or-target"),
        ("UK designates new national park in Scotland", "neg:other-designation"),
        ("EU designates Google as gatekeeper under Digital Markets Act", "neg:other-designation"),
        ("France lifts embargo on press coverage of trial", "neg:press-embargo"),
        ("EU takes action against Hungary over media law", "no-sanctions-term"),
    ],
)
def test_new_hard_negatives(title: str, rule: str) -> None:
    facets = classify(title)
    assert not facets.sanctions_action
    assert facets.why("sanctions_action")[0].rule == rule


def test_official_feed_faq_alone_stays_negative() -> None:
    facets = classify(
        "Publication of Amended Iran-related Frequently Asked Question",
        "OFAC published an amended FAQ on Iranian sanctions.",
        source_issuer="US",
        official=True,
    )
    assert not facets.sanctions_action


# --- item_facets ------------------------------------------------------------------------------


def test_item_facets_of_an_action() -> None:
    facets = item_facets(
        "HM Treasury sanctions Russian military suppliers",
        "They are subject to an asset freeze.",
    )
    assert set(facets.values) <= set(FACET_NAMES)
    assert facets.get("sanctions_action") == ("true",)
    assert facets.get("action") == ("designation",)
    assert facets.get("issuer") == ("UK",)
    assert facets.get("target") == ("RU",)
    assert facets.get("measure") == ("asset_freeze",)
    assert facets.reasons["issuer"] == ("'HM Treasury' in title",)
    assert facets.reasons["target"] == ("'Russian' in title",)
    assert facets.reasons["measure"] == ("'asset freeze' in summary",)
    assert facets.reasons["sanctions_action"] == ("'sanctions Russian' in title",)
    assert facets.has("issuer", "uk")


def test_item_facets_from_an_official_feed() -> None:
    facets = item_facets(
        "Syria Designations Removals",
        "OFAC removed 139 persons from the SDN List.",
        issuer="US",
        official=True,
    )
    assert facets.get("sanctions_action") == ("true",)
    assert facets.get("action") == ("delisting",)
    assert facets.get("issuer") == ("US",)
    assert facets.reasons["issuer"] == ("source issuer US (official feed)",)
    assert "delisting" in facets.get("measure")
    assert facets.reasons["target"] == ("'Syria' in title",)


def test_item_facets_of_a_hard_negative_say_why() -> None:
    facets = item_facets("NCAA sanctions Michigan football over sign-stealing", "")
    assert facets.values == {"sanctions_action": ("false",)}
    assert facets.reasons["sanctions_action"] == ("'NCAA' in title (sport body)",)


def test_item_facets_overruled_veto_is_explained() -> None:
    facets = item_facets("UK sanctions Russian judges who jailed Kara-Murza", "")
    assert facets.reasons["sanctions_action"][:2] == (
        "'judges' in title (court or lawyers, overruled)",
        "'UK' in title (issuer is the subject of the action)",
    )


def test_item_facets_issuer_of_a_non_action() -> None:
    # The text's issuer word is no issuer of a non-action; an official feed's own is.
    news = item_facets("US Treasury yields climb after jobs data", "")
    assert news.values == {"sanctions_action": ("false",)}
    faq = item_facets(
        "OFAC Compliance Hotline hours during the holidays", "", issuer="US", official=True
    )
    assert faq.get("sanctions_action") == ("false",)
    assert faq.get("issuer") == ("US",)
    assert faq.reasons["issuer"] == ("source issuer US (official feed)",)


@pytest.mark.parametrize(
    ("title", "issuer", "official"),
    [
        ("Russia's central bank holds key rate at 21%", "", False),
        ("Secretary's Meeting with the Foreign Minister of Japan", "US", True),
    ],
)
def test_item_facets_without_a_sanctions_word(title: str, issuer: str, official: bool) -> None:
    # The fast path gives what the full classification gives.
    facets = item_facets(title, "", issuer=issuer, official=official)
    assert facets.values["sanctions_action"] == ("false",)
    assert facets.reasons["sanctions_action"] == ("no sanctions word",)
    assert facets.get("issuer") == ((issuer,) if official else ())
    full = classify(title, "", source_issuer=issuer or None, official=official)
    assert not full.sanctions_action
    assert full.why("sanctions_action")[0].rule == "no-sanctions-term"


def test_item_facets_source_issuer_is_a_fallback() -> None:
    facets = item_facets("New sanctions on Iranian shipping firms", "", issuer="UK")
    assert facets.get("issuer") == ("UK",)
    assert facets.reasons["issuer"] == ("source issuer UK",)


# --- designation_facets -----------------------------------------------------------------------


def _record(action: str, programmes: tuple[str, ...] = ("RUSSIA-EO14024",)) -> DesignationRecord:
    return DesignationRecord(
        list="us-ofac-sdn",
        id="54321",
        action=action,
        kind="organization",
        name="Example Trading LLC",
        programmes=programmes,
    )


@pytest.mark.parametrize("action", ["added", "amended"])
def test_designation_facets_of_a_listing(action: str) -> None:
    facets = designation_facets(_record(action), issuer="US")
    assert set(facets.values) <= set(FACET_NAMES)
    assert facets.get("sanctions_action") == ("true",)
    assert facets.get("action") == ("designation",)
    assert facets.get("issuer") == ("US",)
    assert facets.get("list") == ("us-ofac-sdn",)
    assert facets.get("programme") == ("RUSSIA-EO14024",)
    assert facets.get("designation") == (action,)
    assert facets.get("measure") == ("asset_freeze",)
    assert facets.reasons["sanctions_action"] == (f"listed on us-ofac-sdn ({action})",)
    assert facets.reasons["issuer"] == ("us-ofac-sdn is published by US",)


def test_designation_facets_of_a_removal() -> None:
    facets = designation_facets(_record("removed", programmes=()), issuer="")
    assert facets.get("action") == ("delisting",)
    assert facets.get("designation") == ("removed",)
    assert facets.get("measure") == ("asset_freeze", "delisting")
    assert facets.reasons["sanctions_action"] == ("delisted from us-ofac-sdn (removed)",)
    assert "issuer" not in facets.values
    assert "programme" not in facets.values


def test_designation_targets_come_from_country_programmes() -> None:
    from alerts.classify.facets import programme_targets
    from alerts.domain import DesignationRecord

    assert programme_targets(["RUSSIA-EO14024", "UKRAINE-EO13660", "CYBER2", "SDGT"]) == [
        ("RU", "RUSSIA-EO14024")
    ]
    assert programme_targets(["Democratic People's Republic of Korea", "DPRK3"]) == [
        ("KP", "Democratic People's Republic of Korea")
    ]
    assert programme_targets(["Global Human Rights", "ISIL (Da'esh) and Al-Qaida"]) == []
    assert programme_targets(["CAATSA - RUSSIA"]) == [("RU", "CAATSA - RUSSIA")]
    assert programme_targets(["Guinea-Bissau", "South Sudan"]) == [
        ("GW", "Guinea-Bissau"),
        ("SS", "South Sudan"),
    ]
    # The EU/UK Ukraine regime targets Ukrainians; OFAC's UKRAINE-EO programmes, Russia.
    assert programme_targets(["Ukraine"]) == [("UA", "Ukraine")]
    assert programme_targets(["UKRAINE-EO13662"]) == [("RU", "UKRAINE-EO13662")]
    record = DesignationRecord("uk", "RUS1", "added", "person", "X Y", programmes=("Russia",))
    facets = designation_facets(record, issuer="UK")
    assert facets.get("target") == ("RU",)
    assert facets.reasons["target"] == ("programme Russia",)
