"""The country table (`alerts.matching.countries`) and the shape of the matching quality set."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from alerts.matching.countries import COUNTRIES, Country, find_country

QUALITY = Path(__file__).parent / "data" / "matching" / "quality.toml"

_CODE_RE = re.compile(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?")


def plain(text: str) -> str:
    """Case- and accent-folded, with any run of non-letters as one space (test's own fold)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", letters))


def by_code(code: str) -> Country:
    return next(c for c in COUNTRIES if c.code == code)


# --- the table ---


def test_codes_are_unique_and_well_formed() -> None:
    codes = [c.code for c in COUNTRIES]
    assert [c for c, n in Counter(codes).items() if n > 1] == []
    assert [c for c in codes if not _CODE_RE.fullmatch(c)] == []


def test_every_entry_has_a_name_and_no_blank_forms() -> None:
    for country in COUNTRIES:
        assert country.names, country.code
        for form in (*country.names, *country.demonyms):
            assert form.strip() == form and form, (country.code, form)


def test_un_members_and_territories_are_all_there() -> None:
    states = [c for c in COUNTRIES if len(c.code) == 2]
    # 193 UN member states plus XK, TW, PS, EH, HK, MO and VA.
    assert len(states) == 200
    for code in ("XK", "TW", "PS", "EH", "HK", "MO", "VA"):
        assert by_code(code)
    regions = {c.names[0] for c in COUNTRIES if "-" in c.code}
    assert {
        "Crimea",
        "Donetsk",
        "Luhansk",
        "Zaporizhzhia",
        "Kherson",
        "Abkhazia",
        "South Ossetia",
        "Transnistria",
    } <= regions


def test_no_form_names_two_places() -> None:
    owners: dict[str, set[str]] = {}
    for country in COUNTRIES:
        for form in (*country.names, *country.demonyms):
            owners.setdefault(plain(form), set()).add(country.code)
    shared = {form: codes for form, codes in owners.items() if len(codes) > 1}
    assert shared == {}


def test_no_form_is_another_places_code() -> None:
    codes = {plain(c.code): c.code for c in COUNTRIES}
    clashes = [
        (country.code, form)
        for country in COUNTRIES
        for form in (*country.names, *country.demonyms)
        if codes.get(plain(form), country.code) != country.code
    ]
    assert clashes == []


def test_names_and_demonyms_do_not_overlap_within_an_entry() -> None:
    for country in COUNTRIES:
        forms = [plain(f) for f in (*country.names, *country.demonyms)]
        assert len(forms) == len(set(forms)), country.code


# --- find_country ---


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Russia", "RU"),
        ("russian federation", "RU"),
        ("RUSSIANS", "RU"),
        ("Russian", "RU"),
        ("RU", "RU"),
        ("ru", "RU"),
        ("North Korea", "KP"),
        ("DPRK", "KP"),
        ("Democratic People's Republic of Korea", "KP"),
        ("Democratic People’s Republic of Korea", "KP"),  # typographic apostrophe
        ("North Korean", "KP"),
        ("Iran", "IR"),
        ("Islamic Republic of Iran", "IR"),
        ("Iranians", "IR"),
        ("Burma", "MM"),
        ("Myanmar", "MM"),
        ("Türkiye", "TR"),
        ("Turkiye", "TR"),
        ("TÜRKIYE", "TR"),
        ("Turkey", "TR"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d’Ivoire", "CI"),
        ("Ivory Coast", "CI"),
        ("Czechia", "CZ"),
        ("Czech Republic", "CZ"),
        ("Guinea-Bissau", "GW"),
        ("Guinea Bissau", "GW"),
        ("  united   kingdom ", "GB"),
        ("U.K.", "GB"),
        ("Antigua & Barbuda", "AG"),
        ("São Tomé and Príncipe", "ST"),
        ("Sao Tome and Principe", "ST"),
        ("ＲＵＳＳＩＡ", "RU"),  # full-width
        ("Burkinabe", "BF"),
        ("US", "US"),  # the code, though "US" is not listed as a name
        ("U.S.", "US"),
        ("Holy See", "VA"),
        ("Vatican", "VA"),
        ("Macao", "MO"),
        ("UA-43", "UA-43"),
        ("ua-43", "UA-43"),
        ("Crimean", "UA-43"),
        ("Lugansk", "UA-09"),
        ("Zaporozhye", "UA-23"),
        ("Abkhazians", "GE-AB"),
        ("South Ossetian", "XX-SO"),
        ("Pridnestrovie", "MD-SN"),
        ("Kosovar", "XK"),
        ("Congo", "CD"),
        ("Congolese", "CD"),
        ("Republic of the Congo", "CG"),
        ("Congo-Brazzaville", "CG"),
        ("Dominican", "DO"),
        ("Guinea", "GN"),
        ("Georgia", "GE"),
        ("Nigerien", "NE"),
        ("Nigerian", "NG"),
    ],
)
def test_find_country(query: str, code: str) -> None:
    country = find_country(query)
    assert country is not None, query
    assert country.code == code


@pytest.mark.parametrize(
    "query",
    [
        "",
        "Atlantis",
        "Korea",  # both Koreas: left out on purpose
        "Korean",
        "Macedonia",  # also the Greek region
        "Persian",
        "Central African",
        "Republic of China",  # inside "People's Republic of China"
        "Moscow",  # capitals are not names of the country
        "Russ",
    ],
)
def test_find_country_refuses_ambiguous_and_unknown(query: str) -> None:
    assert find_country(query) is None


def test_spot_checks() -> None:
    russia = by_code("RU")
    assert russia.names[:2] == ("Russia", "Russian Federation")
    assert {"Russian", "Russians"} <= set(russia.demonyms)
    korea = by_code("KP")
    assert {"North Korea", "DPRK", "Democratic People's Republic of Korea"} <= set(korea.names)
    assert "North Korean" in korea.demonyms
    assert {"Iranian", "Iranians"} <= set(by_code("IR").demonyms)
    assert "Burma" in by_code("MM").names
    assert {"Türkiye", "Turkey"} <= set(by_code("TR").names)
    assert {"Côte d'Ivoire", "Ivory Coast"} <= set(by_code("CI").names)
    assert {"Czechia", "Czech Republic"} <= set(by_code("CZ").names)
    # Plain "Guinea" is Guinea's alone.
    for code in ("GQ", "GW", "PG"):
        assert "guinea" not in {plain(n) for n in by_code(code).names}


# --- the matching quality set ---


def load_quality() -> dict[str, list[dict[str, object]]]:
    with QUALITY.open("rb") as f:
        return tomllib.load(f)


def test_quality_set_is_well_formed() -> None:
    data = load_quality()
    entities = data["entities"]
    ids = [e["id"] for e in entities]
    assert len(ids) == len(set(ids))
    for entity in entities:
        assert entity["kind"] in {"person", "organization", "vessel", "country"}, entity
        assert isinstance(entity["name"], str) and entity["name"], entity
        for key in ("aliases", "weak_aliases", "identifiers"):
            values = entity.get(key, [])
            assert isinstance(values, list), (entity["id"], key)
            assert all(isinstance(v, str) and v for v in values), (entity["id"], key)
    cases = data["cases"]
    assert len(cases) >= 170
    seen: set[tuple[object, object]] = set()
    for case in cases:
        assert set(case) == {"entity", "text", "match", "why"}, case
        assert case["entity"] in ids, case
        assert isinstance(case["text"], str) and case["text"].strip(), case
        assert isinstance(case["match"], bool), case
        assert isinstance(case["why"], str) and case["why"], case
        pair = (case["entity"], case["text"])
        assert pair not in seen, case
        seen.add(pair)
    labels = Counter(case["match"] for case in cases)
    assert labels[True] and labels[False]
    # Every entity is tested both ways.
    for entity_id in ids:
        outcomes = {c["match"] for c in cases if c["entity"] == entity_id}
        assert outcomes == {True, False}, entity_id


def test_quality_country_entities_are_in_the_table() -> None:
    for entity in load_quality()["entities"]:
        if entity["kind"] == "country":
            assert find_country(str(entity["name"])) is not None, entity["name"]
