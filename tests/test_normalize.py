"""Folding, tokenising and the map from folded back to original offsets."""

from __future__ import annotations

import random

import pytest

from alerts.matching.normalize import _fold_clusters, fold, fold_tokens, tokenize


def words_with_spans(text: str) -> list[tuple[str, str]]:
    """Each folded word with the original text its span maps back to."""
    folded = fold(text)
    out = []
    for word, start, end in tokenize(folded):
        o_start, o_end = folded.original_span(start, end)
        out.append((word, text[o_start:o_end]))
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Navalny", ("navalny",)),
        ("NAVALNY", ("navalny",)),
        ("Ｎａｖａｌｎｙ", ("navalny",)),  # full-width
        ("Zelenskyy Zelenśkyy", ("zelenskyy", "zelenskyy")),
        ("café", ("cafe",)),
        ("cafe\u0301", ("cafe",)),  # decomposed accent
        ("Łódź", ("lodz",)),
        ("Øresund", ("oresund",)),
        ("Đorđević", ("dordevic",)),
        ("Straße", ("strasse",)),
        ("İstanbul", ("istanbul",)),
        ("Æsir Œuvre", ("aesir", "oeuvre")),
        ("ﬁnance", ("finance",)),  # ligature expands under NFKD
        ("Навальный", ("навальный",)),
        ("НАВАЛЬНЫЙ", ("навальный",)),
        ("Ёлка", ("елка",)),  # ё folds to е ...
        ("Й", ("й",)),  # ... but й stays a letter of its own
        ("Naval\u00adny", ("navalny",)),  # soft hyphen is invisible
        ("one\u200btwo", ("one", "two")),  # zero width space separates
    ],
)
def test_fold_tokens(text: str, expected: tuple[str, ...]) -> None:
    assert fold_tokens(text) == expected


def test_separators_punctuation_hyphen_underscore() -> None:
    assert fold_tokens("sanctions-against\nRussia, (Iran)/EU_US") == (
        "sanctions",
        "against",
        "russia",
        "iran",
        "eu",
        "us",
    )


@pytest.mark.parametrize("text", ["Iran's", "Iran’s", "Iranʼs", "IRAN'S"])
def test_possessive_is_dropped(text: str) -> None:
    assert fold_tokens(text) == ("iran",)


def test_lone_s_is_kept_when_not_possessive() -> None:
    assert fold_tokens("plan 's vitamin s") == ("plan", "s", "vitamin", "s")


def test_scripts_where_marks_are_letters_keep_them() -> None:
    # Kana voicing marks change the word: ガ is not カ, and composed == decomposed.
    assert fold_tokens("ガス") != fold_tokens("カス")
    assert fold_tokens("が") == fold_tokens("か\u3099")
    # Devanagari vowel signs are part of the word, not separators.
    assert fold_tokens("नमस्ते दुनिया") == ("नमस्ते", "दुनिया")


def test_ascii_offsets_are_identity() -> None:
    assert words_with_spans("Iran's oil") == [("iran", "Iran"), ("oil", "oil")]


def test_offsets_map_into_original_for_expansions_and_accents() -> None:
    text = "Le ﬁnancier Łukasz a dit: Straße ＮＡＶＡＬＮＹ cafe\u0301!"
    assert words_with_spans(text) == [
        ("le", "Le"),
        ("financier", "ﬁnancier"),
        ("lukasz", "Łukasz"),
        ("a", "a"),
        ("dit", "dit"),
        ("strasse", "Straße"),
        ("navalny", "ＮＡＶＡＬＮＹ"),
        ("cafe", "cafe\u0301"),  # the combining accent belongs to the word
    ]


def test_offsets_cyrillic_and_soft_hyphen() -> None:
    text = "лидер оппозиции Алексей Наваль\u00adный"
    assert words_with_spans(text)[-1] == ("навальный", "Наваль\u00adный")


def test_fold_ascii_has_no_offset_lists() -> None:
    folded = fold("Plain ASCII")
    assert folded.text == "plain ascii"
    assert folded.starts is None
    assert folded.original_span(0, 5) == (0, 5)


def test_fast_path_agrees_with_cluster_path() -> None:
    """The translate-based path must give the same text and offsets as the general one."""
    rng = random.Random(7)
    pool = "abc XYZ-'’.\nßﬁæŒé Ł Ｎａ ёЙжшЩ\u00ad\u200b½№"
    for _ in range(300):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 40)))
        fast, slow = fold(text), _fold_clusters(text)
        assert fast.text == slow.text
        for i in range(len(fast.text)):
            assert fast.original_span(i, i + 1) == slow.original_span(i, i + 1)
