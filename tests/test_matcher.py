"""Watchlist matching: whole words, phrases, offsets, snippets, ordering, term checks."""

from __future__ import annotations

import pytest

from alerts.domain import Item, Match, Watchlist
from alerts.matching import compile_watchlists, term_problem
from alerts.matching.snippets import snippet

BIDEN_EN = (
    "The Biden administration announced a series of sanctions against Russia on Tuesday "
    "in response to the poisoning and jailing of opposition leader Alexei Navalny, the "
    "first punitive measures taken against Moscow by the new administration."
)
BIDEN_RU = (
    "Администрация Байдена объявила о серии санкций против России во вторник в ответ на "
    "отравление и заключение под стражу оппозиционного лидера Алексея Навального. "
    "Навальный находится в колонии."
)


def item(title: str = "", summary: str = "") -> Item:
    return Item(feed="f", guid=None, link=None, title=title, summary=summary)


def matches(terms: list[str], title: str = "", summary: str = "") -> tuple[Match, ...]:
    return compile_watchlists([Watchlist("w", tuple(terms))]).match(item(title, summary))


def found(terms: list[str], title: str = "", summary: str = "") -> list[str]:
    return [m.term for m in matches(terms, title, summary)]


# --- the real case ------------------------------------------------------------------------


def test_biden_navalny_story_english() -> None:
    matcher = compile_watchlists(
        [Watchlist("Russia", ('"sanctions against Russia"', "Navalny", "Навальный"))]
    )
    result = matcher.match(item("US sanctions Russia over Navalny", BIDEN_EN))
    # "Навальный" transliterates to the same word as "Navalny": one term, reported once.
    assert [(m.term, m.field) for m in result] == [
        ("Navalny", "title"),
        ("sanctions against Russia", "summary"),
        ("Navalny", "summary"),
    ]
    phrase = result[1]
    assert BIDEN_EN[phrase.start : phrase.end] == "sanctions against Russia"
    assert result[2].snippet.startswith("…")
    assert "Alexei Navalny" in result[2].snippet


def test_cyrillic_term_alone_finds_the_latin_spelling() -> None:
    matcher = compile_watchlists([Watchlist("Russia", ("Навальный",))])
    result = matcher.match(item("", BIDEN_EN))
    assert [(m.term, BIDEN_EN[m.start : m.end]) for m in result] == [("Навальный", "Navalny")]


def test_biden_navalny_story_russian() -> None:
    matcher = compile_watchlists([Watchlist("Russia", ("Navalny", "Навальный"))])
    result = matcher.match(item("", BIDEN_RU))
    # Cyrillic words are stemmed: the genitive "Навального" is found first.
    assert [(m.term, BIDEN_RU[m.start : m.end]) for m in result] == [("Navalny", "Навального")]
    assert BIDEN_RU.index("Навального") == result[0].start


# --- whole words --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text", "hit"),
    [
        ("Hama", "Hamas leaders met", False),
        ("Hamas", "Hamas leaders met", True),
        ("Hama", "in Hama, Syria", True),
        ("Iran", "Irani officials", False),
        ("Iran", "Iran's oil", True),
        ("Rosneft", "Rosneft’s exports", True),
        ("Rosneft", "#Rosneft!", True),
        ("Navalny", "Navalnys", False),
        ("Sber", "Sberbank", False),
        ("Wagner", "pro-Wagner channels", True),  # hyphen separates words
        ("Навальный", "НАВАЛЬНЫЙ", True),
        ("Навальный", "Навальным", True),  # Cyrillic case endings are stemmed
        ("Navalny", "Ｎａｖａｌｎｙ", True),  # full-width
        ("Zelensky", "Zelenský", True),  # accents
        ("Lukashenko", "Łukashenko", True),
        ("Straße", "STRASSE", True),
        ("financier", "the ﬁnancier", True),  # ligature
        ("COVID-19", "covid 19 rules", True),
        ("UK", "ukraine", False),
    ],
)
def test_whole_words(term: str, text: str, hit: bool) -> None:
    assert bool(found([term], summary=text)) is hit


def test_case_insensitive_and_term_as_written() -> None:
    result = matches(["navalny"], summary="NAVALNY speaks")
    assert [(m.term, m.start, m.end) for m in result] == [("navalny", 0, 7)]


# --- phrases ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "sanctions against Russia",
        "Sanctions  against\nRussia",
        "sanctions-against Russia",
        "sanctions, against: Russia",
        "SANCTIONS AGAINST RUSSIA'S banks",
    ],
)
def test_phrase_across_separators(text: str) -> None:
    assert found(["sanctions against Russia"], summary=text) == ["sanctions against Russia"]


@pytest.mark.parametrize(
    "text",
    [
        "sanctions against new Russia",
        "sanctions against Russian banks",
        "sanctions against",
        "against Russia sanctions",
    ],
)
def test_phrase_not_across_other_words(text: str) -> None:
    assert found(["sanctions against Russia"], summary=text) == []


def test_quoted_term_equals_unquoted() -> None:
    text = "new sanctions against Russia"
    assert found(['"sanctions against Russia"'], summary=text) == ["sanctions against Russia"]
    assert found(["  sanctions against Russia "], summary=text) == ["sanctions against Russia"]
    assert found(["“sanctions against Russia”"], summary=text) == ["sanctions against Russia"]


def test_phrase_offsets_cover_original_text() -> None:
    text = "US: Sanctions —\n against  Russia today"
    (m,) = matches(["sanctions against russia"], summary=text)
    assert text[m.start : m.end] == "Sanctions —\n against  Russia"


def test_offsets_in_original_with_expansions_before_the_match() -> None:
    text = "ﬁrst Straße, then ＮＡＶＡＬＮＹ's team"
    (m,) = matches(["Navalny"], summary=text)
    assert text[m.start : m.end] == "ＮＡＶＡＬＮＹ"


def test_overlapping_terms_all_reported() -> None:
    result = found(["sanctions", "sanctions against Russia", "Russia"], summary=BIDEN_EN)
    assert result == ["sanctions", "sanctions against Russia", "Russia"]


# --- ordering and de-duplication ---------------------------------------------------------


def test_ordering_watchlists_then_field_then_position() -> None:
    matcher = compile_watchlists(
        [
            Watchlist("B", ("Moscow", "Navalny")),
            Watchlist("A", ("Navalny", "Biden")),
        ]
    )
    result = matcher.match(item("Navalny and Moscow", BIDEN_EN))
    assert [(m.watchlist, m.field, m.term) for m in result] == [
        ("B", "title", "Navalny"),
        ("B", "title", "Moscow"),
        ("B", "summary", "Navalny"),
        ("B", "summary", "Moscow"),
        ("A", "title", "Navalny"),
        ("A", "summary", "Biden"),
        ("A", "summary", "Navalny"),
    ]


def test_each_term_once_per_field_at_first_occurrence() -> None:
    text = "Navalny said. Later Navalny said again. NAVALNY."
    result = matches(["Navalny"], title="Navalny", summary=text)
    assert [(m.field, m.start) for m in result] == [("title", 0), ("summary", 0)]


def test_equivalent_terms_in_one_watchlist_reported_once() -> None:
    assert found(["Navalny", "NAVALNY", '"navalny"'], summary="Navalny") == ["Navalny"]


def test_a_watchlist_with_invalid_terms_is_rejected_and_the_others_work() -> None:
    matcher = compile_watchlists(
        [Watchlist("bad", ("", "?!", "Navalny")), Watchlist("good", ("Navalny",))]
    )
    assert [m.watchlist for m in matcher.match(item("", "Navalny"))] == ["good"]
    assert [str(p) for p in matcher.problems] == [
        "watchlist \"bad\": term '': term is empty",
        "watchlist \"bad\": term '?!': term has no letters or digits",
    ]


def test_no_match_and_empty_fields() -> None:
    assert matches(["Navalny"], title="", summary="") == ()
    assert compile_watchlists([]).match(item("Navalny", "Navalny")) == ()


# --- snippets ----------------------------------------------------------------------------


def test_snippet_short_text_is_whole_text_collapsed() -> None:
    (m,) = matches(["Navalny"], summary="  Alexei\n\nNavalny   was jailed ")
    assert m.snippet == "Alexei Navalny was jailed"


def test_snippet_cuts_at_word_boundaries_with_ellipses() -> None:
    (m,) = matches(["Navalny"], summary=BIDEN_EN)
    assert m.snippet.startswith("…") and m.snippet.endswith("…")
    body = m.snippet.strip("…")
    assert body in " ".join(BIDEN_EN.split())
    # Whole words at both ends: each end of the body is a word boundary in the text.
    start = BIDEN_EN.index(body)
    assert BIDEN_EN[start - 1].isspace()
    assert BIDEN_EN[start + len(body)].isspace()
    # About 60 characters each side.
    before, after = body.split("Navalny", 1)
    assert 40 <= len(before) <= 61
    assert 40 <= len(after) <= 61


def test_snippet_without_whitespace_uses_hard_cut() -> None:
    text = "x" * 100 + "Navalny" + "y" * 100
    assert snippet(text, 100, 107) == ("…" + "x" * 60 + "Navalny" + "y" * 60 + "…", (61, 68))


def test_snippet_at_edges() -> None:
    text = "Navalny " + "word " * 30
    text_, highlight = snippet(text, 0, 7)
    assert text_.startswith("Navalny word")
    assert text_.endswith("…")
    assert highlight == (0, 7)


# --- term_problem --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("", "term is empty"),
        ("   ", "term is empty"),
        ('""', "term is empty"),
        ("?!", "term has no letters or digits"),
        ('"—"', "term has no letters or digits"),
        ('"sanctions against Russia', 'term has an unbalanced double quote (")'),
        ("x" * 201, "term is too long (201 characters, at most 200)"),
        ("x" * 65, "term has a word longer than 64 characters, which text never matches"),
    ],
)
def test_term_problem_messages(term: str, message: str) -> None:
    assert term_problem(term) == message


@pytest.mark.parametrize(
    "term", ["Navalny", '"sanctions against Russia"', "Навальный", "x " * 100, "COVID-19"]
)
def test_term_problem_accepts_valid_terms(term: str) -> None:
    assert term_problem(term) is None


# --- scale ------------------------------------------------------------------------------------


def test_ten_thousand_terms_over_five_kilobytes() -> None:
    # Correctness at scale only; speed is measured by benchmarks/bench_matching.py.
    terms = tuple(f"term{i} word{i % 97}" if i % 3 else f"name{i}" for i in range(10_000))
    matcher = compile_watchlists([Watchlist("big", terms)])
    text = ("Alexei Navalny name42 and term7 word7 then Навальный ЛИДЕР. " * 90)[:5000]
    result = matcher.match(item("title name3", text))
    assert {m.term for m in result} == {"name3", "name42", "term7 word7"}
