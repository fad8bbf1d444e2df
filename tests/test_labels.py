"""Digest labels from facets: readable text, a stable order, actions only when acted, a cap."""

from __future__ import annotations

import pytest

from alerts.delivery.labels import KINDS, MAX_LABEL_CHARS, MAX_LABELS, Label, label_texts, labels
from alerts.domain import ItemFacets
from tests.test_digest import LISTING_FACETS, PACKAGE_FACETS


def facets(**values: tuple[str, ...]) -> ItemFacets:
    return ItemFacets(values)


def test_text_item_reads_issuer_action_targets_measures() -> None:
    assert labels(PACKAGE_FACETS) == (
        Label("issuer", "EU"),
        Label("action", "Sanctions package"),
        Label("target", "Russia"),
        Label("target", "Belarus"),
        Label("measure", "Asset freeze"),
        Label("measure", "Travel ban"),
    )
    assert label_texts(PACKAGE_FACETS)[:3] == ["EU", "Sanctions package", "Russia"]


@pytest.mark.parametrize(
    ("action", "text"),
    [
        ("designation", "New designations"),
        ("package", "Sanctions package"),
        ("extension", "Extension"),
        ("delisting", "Delisting"),
        ("general_licence", "General licence"),
        ("export_listing", "Export-control listing"),
        ("visa_restriction", "Visa restriction"),
        ("brand_new_kind", "Brand new kind"),  # a value added later still reads
    ],
)
def test_every_action_reads(action: str, text: str) -> None:
    assert label_texts(facets(sanctions_action=("true",), action=(action,))) == [text]


def test_measures_and_targets_read() -> None:
    got = label_texts(
        facets(
            sanctions_action=("true",),
            target=("KP", "ua-43", "CYBER", "HUMAN_RIGHTS", "ZZ"),
            measure=("export_control", "arms_embargo", "sectoral", "licence"),
        ),
        limit=20,
    )
    assert got == [
        "North Korea",
        "Crimea",  # a region's subdivision code, from the country table
        "Cyber",
        "Human rights",
        "ZZ",  # unknown codes are shown as they are
        "Export control",
        "Arms embargo",
        "Sectoral",
        "Licence",
    ]


def test_a_measure_the_action_implies_is_not_repeated() -> None:
    visa = facets(sanctions_action=("true",), action=("visa_restriction",), measure=("travel_ban",))
    assert label_texts(visa) == ["Visa restriction"]
    delisting = facets(sanctions_action=("true",), action=("delisting",), measure=("delisting",))
    assert label_texts(delisting) == ["Delisting"]


def test_designation_item_says_what_happened_on_which_list() -> None:
    assert labels(LISTING_FACETS) == (
        Label("issuer", "US"),
        Label("designation", "Added to us-ofac-sdn"),  # instead of "New designations"
        Label("target", "Russia"),
        Label("measure", "Asset freeze"),
        Label("programme", "RUSSIA-EO14024"),
    )
    for change, text in (
        ("amended", "Amended on uk-sanctions"),
        ("removed", "Removed from uk-sanctions"),
    ):
        record = facets(list=("uk-sanctions",), designation=(change,), programme=("RUS",))
        # A list change is an action whatever sanctions_action says: the list is the fact.
        assert label_texts(record) == [text, "RUS"]


def test_designation_on_several_lists_names_them_apart() -> None:
    both = facets(designation=("added",), list=("us-ofac-sdn", "eu-fsf"))
    assert labels(both) == (
        Label("designation", "Added"),
        Label("list", "us-ofac-sdn"),
        Label("list", "eu-fsf"),
    )


def test_non_action_item_shows_its_issuer_only() -> None:
    commentary = facets(
        sanctions_action=("false",),
        action=("package",),
        issuer=("eu",),
        target=("RU",),
        measure=("asset_freeze",),
    )
    assert labels(commentary) == (Label("issuer", "EU"),)
    assert labels(facets(target=("RU",), measure=("sectoral",))) == ()  # unclassified
    assert labels(ItemFacets()) == ()
    # An issuer named in full (feeds.toml) stays as written.
    assert label_texts(facets(issuer=("Council of the EU",))) == ["Council of the EU"]


def test_a_designation_with_thirty_programmes_is_capped() -> None:
    many = ItemFacets({**LISTING_FACETS.values, "programme": tuple(f"PROG-{i}" for i in range(30))})
    got = labels(many)
    assert len(got) == MAX_LABELS
    assert [x.text for x in got[:5]] == [
        "US",
        "Added to us-ofac-sdn",
        "Russia",
        "Asset freeze",
        "PROG-0",
    ]
    assert got[-1] == Label("more", "+27 more")
    assert len(labels(many, limit=3)) == 3
    with pytest.raises(ValueError, match="limit"):
        labels(many, limit=1)


def test_feed_values_are_one_line_clipped_and_deduplicated() -> None:
    messy = facets(
        sanctions_action=("TRUE",),
        issuer=("  EU ", "EU", ""),
        programme=("A\nB", "x" * 500, "a b"),
    )
    got = label_texts(messy)
    assert got[:2] == ["EU", "A B"]
    assert len(got[2]) == MAX_LABEL_CHARS and got[2].endswith("…")
    assert len(got) == 3  # "a b" says what "A B" said
    # Text is returned as is: escaping is each renderer's job.
    assert label_texts(facets(issuer=("<b>",))) == ["<B>"]


def test_kinds_are_known_and_ordered() -> None:
    for f in (PACKAGE_FACETS, LISTING_FACETS):
        kinds = [x.kind for x in labels(f)]
        assert set(kinds) <= set(KINDS)
        assert kinds == sorted(kinds, key=KINDS.index)
