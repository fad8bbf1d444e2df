"""Words and keys: the normal form terms and texts share."""

from __future__ import annotations

import pytest

from alerts.matching.keys import PLACEHOLDER, text_key, variants, word_spans, words


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (["Navalny", "NAVALNY", "Navalnyy", "Navalnyi", "Naval'nyy", "Naval\u00adny"], "navalni"),
        (["Rosneft", "Rosneft's", "Rosneft’s", "ＲＯＳＮＥＦＴ", "ROSNEFTʼS"], "rosneft"),
        (["Khodorkovsky", "Hodorkovsky", "Khodorkovskiy", "Khodorkovskii"], "hodorkovski"),
        (["Gaddafi", "Gadhafi"], "gadafi"),
        (["Qaddafi", "Kadhafi", "Kaddafi"], "kadafi"),
        (["Aleksei", "Alexei", "Alexey", "Aleksey"], "alexei"),
        (["école", "e\u0301cole", "ECOLE"], "ecole"),
        (["l'Union", "Union"], "union"),
    ],
)
def test_spellings_share_a_key(spellings: list[str], key: str) -> None:
    assert {text_key(s) for s in spellings} == {key}


def test_cyrillic_words_are_stemmed_and_marked() -> None:
    forms = ["Навальный", "Навального", "Навальному", "Навальным", "Навальном"]
    assert {text_key(w) for w in forms} == {"^navaln"}
    assert text_key("Роснефти") == text_key("Роснефть") == "^rosneft"
    # Short stems are left alone: they would merge unrelated words.
    assert text_key("Русь") != text_key("Россия")


def test_greek_and_foreign_names_in_cyrillic_share_one_stem() -> None:
    forms = ["Μητσοτάκης", "Μητσοτάκη", "Мицотакис", "Мицотакиса"]
    assert {text_key(w) for w in forms} == {"^mitsotak"}
    assert ("^mitsotak",) in variants(["Mitsotakis"])
    assert text_key("Κυριάκου") == text_key("Κυριάκος") == text_key("Κυριάκο") == "^kiriak"
    assert text_key("Николас") == text_key("Николаса") == "^nikol"
    assert ("^nikol", "^madur") in variants(["Nicolás", "Maduro"])
    assert text_key("Борис") == text_key("Бориса")  # short stems are left whole


def test_arabic_words_become_consonant_skeletons() -> None:
    assert text_key("القذافي") == "~kdf"
    assert ("~mr", "~kdf") in variants(["Muammar", "Qaddafi"], abjad_form=True)
    assert variants(["Hamas"], abjad_form=True) == [("hamas",), ("^hamas",)]  # too loose alone
    assert text_key("حماس") == "~hms" != text_key("حماه")


def test_term_variants_cover_latin_cyrillic_and_abjad_text() -> None:
    assert variants(["Навальный"]) == [("navalni",), ("^navaln",)]
    assert ("~nvln",) in variants(["Navalny"], abjad_form=True)
    assert variants(["习", "近", "平"]) == [("习", "近", "平")]


def test_words_and_spans_agree_on_every_script() -> None:
    text = "Kim Jong-un, Rosneft's «ПАО» 习近平 हिन्दी e\u0301cole O'Brien 12,000"
    found = words(text)
    assert found == [
        "Kim", "Jong", "un", "Rosneft's", "ПАО", "习", "近", "平", "हिन्दी", "e\u0301cole",
        "O'Brien", "12", "000",
    ]  # fmt: skip
    assert [text[a:b] for a, b in word_spans(text)] == found


def test_words_that_fold_to_nothing_get_a_placeholder_key() -> None:
    assert text_key("ʹ") == PLACEHOLDER
