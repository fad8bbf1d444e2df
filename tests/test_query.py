"""Watchlist boolean queries: syntax, precedence, scopes, proximity, errors, evaluation."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

import pytest

from alerts.matching.query import (
    DEFAULT_FIELDS,
    FIELDS,
    And,
    Facet,
    Hit,
    Leaf,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    QueryError,
    evaluate,
    leaves,
    parse_query,
    positive_leaves,
)


def show(node: Node) -> str:
    """A compact rendering of a tree: `(AND a (NOT b))`, `title:"x y"*`, `(ONEAR/3 a b)`,
    `[issuer=EU]` for a facet leaf."""
    if isinstance(node, Facet):
        return f"[{node.name}={node.value}]"
    if isinstance(node, Phrase):
        text = f'"{node.text}"' if " " in node.text else node.text
        scope = "" if node.fields == DEFAULT_FIELDS else ",".join(node.fields) + ":"
        return f"{scope}{text}{'*' if node.prefix else ''}"
    if isinstance(node, And | Or):
        name = "AND" if isinstance(node, And) else "OR"
        return f"({name} {' '.join(show(c) for c in node.children)})"
    if isinstance(node, Not):
        return f"(NOT {show(node.child)})"
    op = "ONEAR" if node.ordered else "NEAR"
    return f"({op}/{node.distance} {show(node.left)} {show(node.right)})"


def parsed(query: str) -> str:
    return show(parse_query(query))


# --- syntax ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        # precedence: NOT > AND (explicit or implicit) > OR
        ("sanctions Russia", "(AND sanctions Russia)"),
        ("sanctions AND Russia", "(AND sanctions Russia)"),
        ("a OR b c", "(OR a (AND b c))"),
        ("a b OR c", "(OR (AND a b) c)"),
        ("a AND b OR c AND d", "(OR (AND a b) (AND c d))"),
        ("a OR b AND c OR d", "(OR a (AND b c) d)"),
        ("(a OR b) c", "(AND (OR a b) c)"),
        ("NOT a b", "(AND (NOT a) b)"),
        ("a NOT b OR c", "(OR (AND a (NOT b)) c)"),
        ("a AND NOT b", "(AND a (NOT b))"),
        ("a -b", "(AND a (NOT b))"),
        ('a -"b c"', '(AND a (NOT "b c"))'),
        ("a -(b OR c)", "(AND a (NOT (OR b c)))"),
        ("a NOT -b", "(AND a (NOT (NOT b)))"),
        ("x -a-b", "(AND x (NOT a-b))"),  # only a leading dash negates
        ("anti-war", "anti-war"),
        # groups are flattened and redundant parentheses dropped
        ("((a))", "a"),
        ("(a b) (c d)", "(AND a b c d)"),
        ("a OR (b OR c)", "(OR a b c)"),
        ("(a OR b) (c OR d)", "(AND (OR a b) (OR c d))"),
        # only upper case is an operator
        ("and or not", "(AND and or not)"),
        ("Sanctions And Russia", "(AND Sanctions And Russia)"),
        ("a near b", "(AND a near b)"),
        ("AND-b x", "(AND AND-b x)"),
        # words, prefixes, phrases
        ("Navalny", "Navalny"),
        ("sanction*", "sanction*"),
        ("U.S.* AT&T", "(AND U.S.* AT&T)"),
        ('"sanctions against Russia"', '"sanctions against Russia"'),
        ('"economic sanction*"', '"economic sanction"*'),
        ("“sanctions against Russia”", '"sanctions against Russia"'),
        ('"  spaced \t out  "', '"spaced out"'),
        ('"AND" "OR"', "(AND AND OR)"),
        ('"title:x"', "title:x"),  # not a scope: a phrase is literal
        ('a"b c"d', '(AND a "b c" d)'),
        ("a\nOR\tb", "(OR a b)"),
        # scopes
        ("title:Russia", "title:Russia"),
        ("Title:Russia SOURCE:tass", "(AND title:Russia source:tass)"),
        ('tag:"oil price*"', 'tag:"oil price"*'),
        ("title: Russia", "title:Russia"),
        ("title:(Russia OR Belarus) sanctions", "(AND (OR title:Russia title:Belarus) sanctions)"),
        ("title:(a -b)", "(AND title:a (NOT title:b))"),
        ("title:(a title:b)", "(AND title:a title:b)"),
        ("x -source:tass", "(AND x (NOT source:tass))"),
        ("summary:(a (b OR c))", "(AND summary:a (OR summary:b summary:c))"),
        ("content:12:30", "content:12:30"),
        # a colon after something other than letters is part of the word
        ("12:30", "12:30"),
        (":x", ":x"),
        ("covid-19:update", "covid-19:update"),
        # proximity binds tighter than NOT and AND
        ("a NEAR b", "(NEAR/10 a b)"),
        ('"sanctions" NEAR/5 Russia', "(NEAR/5 sanctions Russia)"),
        ("a ONEAR b", "(ONEAR/10 a b)"),
        ('"asset freeze" ONEAR/3 bank*', '(ONEAR/3 "asset freeze" bank*)'),
        ("a NEAR/1 b", "(NEAR/1 a b)"),
        ("a NEAR/100 b", "(NEAR/100 a b)"),
        ("a NEAR/007 b", "(NEAR/7 a b)"),
        ("x a NEAR b y", "(AND x (NEAR/10 a b) y)"),
        ("x OR a NEAR b", "(OR x (NEAR/10 a b))"),
        ("-a NEAR b c", "(AND (NOT (NEAR/10 a b)) c)"),
        ("title:a NEAR b", "(NEAR/10 title:a b)"),
        ("title:(a NEAR b)", "(NEAR/10 title:a title:b)"),
        ("(a) NEAR (b)", "(NEAR/10 a b)"),  # a parenthesised leaf is still a leaf
    ],
)
def test_parse(query: str, tree: str) -> None:
    assert parsed(query) == tree


def test_leaf_attributes() -> None:
    query = 'x  title:"economic  sanction*" -tag:y* (“a b”)'
    assert leaves(parse_query(query)) == (
        Phrase("x", False, DEFAULT_FIELDS, 1),
        Phrase("economic sanction", True, ("title",), 10),
        Phrase("y", True, ("tag",), 37),
        Phrase("a b", False, DEFAULT_FIELDS, 41),
    )


def test_near_fields() -> None:
    near = parse_query("Putin ONEAR/3 title:Navalny")
    assert near == Near(
        Phrase("Putin", False, DEFAULT_FIELDS, 1),
        Phrase("Navalny", False, ("title",), 21),
        distance=3,
        ordered=True,
    )


def test_constants() -> None:
    assert FIELDS == ("title", "summary", "content", "source", "tag")
    assert DEFAULT_FIELDS == ("title", "summary", "content")


# --- errors ------------------------------------------------------------------------------

BOTH = "needs a term on both sides"
NOT_NEGATED = "query needs at least one word or phrase that is not negated"
OR_NEGATED = "each OR branch needs at least one word or phrase that is not negated"
UNKNOWN = (
    "(use title, summary, content, source, tag, or a facet: sanctions_action, action, issuer,"
    " target, measure, list, programme, designation)"
)


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("", 1, "query is empty"),
        ("  \t ", 1, "query is empty"),
        # parentheses
        ("sanctions (Russia", 11, "unbalanced parenthesis"),
        ("a) b", 2, "unbalanced parenthesis"),
        ("((a)", 1, "unbalanced parenthesis"),
        ("(a))", 4, "unbalanced parenthesis"),
        (")", 1, "unbalanced parenthesis"),
        ("a (b (c) d", 3, "unbalanced parenthesis"),
        ("a ()", 3, "empty parentheses"),
        # quotes and leaves
        ('a "b c', 3, "unterminated quote"),
        ("“b c", 1, "unterminated quote"),
        ('"" a', 1, "empty phrase"),
        ('a "  "', 3, "empty phrase"),
        ('"a b"* x', 6, "put the '*' inside the quotes"),
        ("*", 1, "a bare '*' matches everything; put it after a word (sanction*)"),
        ("a *", 3, "a bare '*' matches everything; put it after a word (sanction*)"),
        ('"*"', 2, "a bare '*' matches everything; put it after a word (sanction*)"),
        ('"a *"', 4, "a bare '*' matches everything; put it after a word (sanction*)"),
        ("-*", 2, "a bare '*' matches everything; put it after a word (sanction*)"),
        ("sanc*tion", 5, "'*' is only allowed at the end of a word"),
        ("sanction**", 9, "'*' is only allowed at the end of a word"),
        ('"sanc* against"', 6, "'*' is only allowed at the end of a phrase"),
        ("a &", 3, "'&' has no letters or digits"),
        ("a .*", 3, "'.*' has no letters or digits"),
        ('a "--"', 3, "phrase has no letters or digits"),
        # operators without operands
        ("sanctions AND", 11, f"AND {BOTH}"),
        ("AND a", 1, f"AND {BOTH}"),
        ("a AND OR b", 3, f"AND {BOTH}"),
        ("a AND AND b", 3, f"AND {BOTH}"),
        ("a OR", 3, f"OR {BOTH}"),
        ("OR a", 1, f"OR {BOTH}"),
        ("(OR a)", 2, f"OR {BOTH}"),
        ("(a OR) b", 4, f"OR {BOTH}"),
        ("a NOT", 3, "NOT needs a term after it"),
        ("a NOT OR b", 3, "NOT needs a term after it"),
        ("a -", 3, "'-' needs a word, phrase or group right after it"),
        ("a - b", 3, "'-' needs a word, phrase or group right after it"),
        ("(a -)", 4, "'-' needs a word, phrase or group right after it"),
        ("a -AND b", 3, "'-' needs a word, phrase or group right after it"),
        # fields
        ("body:x", 1, f"unknown field 'body' {UNKNOWN}"),
        ("a -body:(x y)", 4, f"unknown field 'body' {UNKNOWN}"),
        ("a http://example.com", 3, f"unknown field 'http' {UNKNOWN}"),
        ("Note: x", 1, f"unknown field 'Note' {UNKNOWN}"),
        ("title:x:y", 7, f"unknown field 'x' {UNKNOWN}"),
        ("title:", 1, "title: needs a word, phrase or group after it"),
        ("a title: ", 3, "title: needs a word, phrase or group after it"),
        ("title:-x", 1, "title: needs a word, phrase or group after it"),
        ("title:AND x", 1, "title: needs a word, phrase or group after it"),
        ("title:summary:x", 1, "title: needs a word, phrase or group after it"),
        ("(a title:)", 4, "title: needs a word, phrase or group after it"),
        ("title:(a summary:b)", 10, "summary: inside title:(...); a word has only one field"),
        # proximity
        ("sanctions NEAR/0 x", 11, "NEAR/0: distance must be 1..100"),
        ("a NEAR/101 b", 3, "NEAR/101: distance must be 1..100"),
        ("a ONEAR/0 b", 3, "ONEAR/0: distance must be 1..100"),
        ("a NEAR/ten b", 3, "NEAR/ten: distance must be 1..100"),
        ("a NEAR/-1 b", 3, "NEAR/-1: distance must be 1..100"),
        ("a NEAR/ b", 3, "NEAR/: distance is missing (for example NEAR/10)"),
        ("a ONEAR/ b", 3, "ONEAR/: distance is missing (for example ONEAR/10)"),
        ("a NEAR", 3, f"NEAR {BOTH}"),
        ("NEAR a", 1, f"NEAR {BOTH}"),
        ("a ONEAR/5", 3, f"ONEAR/5 {BOTH}"),
        ("a NEAR OR b", 3, f"NEAR {BOTH}"),
        ("(a OR b) NEAR c", 1, "NEAR needs a word or phrase on each side, not a group"),
        ("x (a b) NEAR/3 c", 3, "NEAR/3 needs a word or phrase on each side, not a group"),
        ("a NEAR (b c)", 8, "NEAR needs a word or phrase on each side, not a group"),
        ("a NEAR title:(b c)", 8, "NEAR needs a word or phrase on each side, not a group"),
        ("a NEAR -b", 8, "NEAR needs a word or phrase on each side, not a negation"),
        ("a ONEAR NOT b", 9, "ONEAR needs a word or phrase on each side, not a negation"),
        ("a NEAR b NEAR/2 c", 10, "NEAR/2 cannot follow another NEAR; join them with AND"),
        # nothing to find
        ("NOT sport", 1, NOT_NEGATED),
        ("-x -y", 1, NOT_NEGATED),
        ("  -(a b)", 3, NOT_NEGATED),
        ("NOT NOT a", 1, NOT_NEGATED),
        ("-x (a OR -b)", 1, NOT_NEGATED),
        ("-(a NEAR b)", 1, NOT_NEGATED),
        ("a OR -b", 6, OR_NEGATED),
        ("a OR title:(-b)", 6, OR_NEGATED),
        ("a OR b OR NOT (c OR d)", 11, OR_NEGATED),
        ("a OR (-b -c) OR d", 6, OR_NEGATED),
        # control characters (tab, newline and CR are spaces)
        ("a\x00b", 2, "control character U+0000"),
        ("a \x1b[0m", 3, "control character U+001B"),
        ("a\x85", 2, "control character U+0085"),
        ('"a\x0bb"', 3, "control character U+000B"),
    ],
)
def test_errors(query: str, column: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert (caught.value.column, caught.value.message) == (column, message)
    assert str(caught.value) == f"col {column}: {message}"


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ('AND "unterminated', 1),  # the leftmost problem wins
        ('a) "unterminated', 2),
        ('a "unterminated', 3),
        ("body:x AND", 1),
    ],
)
def test_leftmost_error(query: str, column: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert caught.value.column == column


def test_error_is_a_value_error_and_pickles() -> None:
    with pytest.raises(ValueError, match=r"^col 5: unterminated quote$"):
        parse_query('abc "x')
    error = QueryError(12, "NEAR/0: distance must be 1..100")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.column, copy.message, str(copy)) == (12, error.message, str(error))


# --- limits ------------------------------------------------------------------------------


def test_length_limit() -> None:
    assert parse_query("a" * 1000) == Phrase("a" * 1000, False, DEFAULT_FIELDS, 1)
    assert parse_query("a" * 1000 + "  \n")  # trailing spaces are not counted
    with pytest.raises(QueryError) as caught:
        parse_query("a" * 1001)
    assert str(caught.value) == "col 1001: query is too long (1001 characters, at most 1000)"


def test_leaf_limit() -> None:
    words = [f"w{i:02d}" for i in range(65)]  # 3 characters and a space each
    assert len(leaves(parse_query(" ".join(words[:64])))) == 64
    with pytest.raises(QueryError) as caught:
        parse_query(" ".join(words))
    assert str(caught.value) == "col 257: too many words and phrases (at most 64)"


def test_leaf_limit_counts_repeats() -> None:
    with pytest.raises(QueryError, match="too many words"):
        parse_query(" OR ".join(["a"] * 65))


DEEP = "nested too deeply (at most 32 levels of parentheses and NOTs)"


@pytest.mark.parametrize(
    ("ok", "too_deep", "column"),
    [
        ("(" * 32 + "a" + ")" * 32, "(" * 33 + "a" + ")" * 33, 33),
        ("x " + "NOT " * 32 + "a", "x " + "NOT " * 33 + "a", 3 + 32 * 4),
        ("x " + "-" * 32 + "a", "x " + "-" * 33 + "a", 35),
        ("x " + "-(" * 16 + "a" + ")" * 16, "x " + "-(" * 17 + "a" + ")" * 17, 35),
        ("title:" + "(" * 32 + "a" + ")" * 32, "title:" + "(" * 33 + "a" + ")" * 33, 39),
    ],
)
def test_depth_limit(ok: str, too_deep: str, column: int) -> None:
    assert parse_query(ok)
    with pytest.raises(QueryError) as caught:
        parse_query(too_deep)
    assert (caught.value.column, caught.value.message) == (column, DEEP)


# --- leaves ------------------------------------------------------------------------------


def test_leaves_in_order_deduplicated() -> None:
    node = parse_query('b a* "x y" OR (a NEAR title:c) -d -(a e) title:a')
    assert [show(leaf) for leaf in leaves(node)] == [
        "b",
        "a*",
        '"x y"',
        "a",
        "title:c",
        "d",
        "e",
        "title:a",
    ]
    assert [show(leaf) for leaf in positive_leaves(node)] == [
        "b",
        "a*",
        '"x y"',
        "a",
        "title:c",
        "title:a",
    ]
    # the first occurrence is the one kept
    assert [leaf.column for leaf in leaves(parse_query("a b a"))] == [1, 3]


def test_positive_leaves_skip_everything_under_not() -> None:
    node = parse_query("x NOT (y NOT z) -(p NEAR q)")
    assert [leaf.text for leaf in positive_leaves(node)] == ["x"]
    assert [leaf.text for leaf in leaves(node)] == ["x", "y", "z", "p", "q"]


# --- evaluation --------------------------------------------------------------------------

Table = dict[str, list[Hit]]


def run(query: str, table: Table) -> list[tuple[str, Hit]] | None:
    """Evaluate with hits looked up by the leaf's text (a `*` appended for prefixes;
    `name=value` for a facet)."""

    def hits(leaf: Leaf) -> Sequence[Hit]:
        if isinstance(leaf, Facet):
            return table.get(f"{leaf.name}={leaf.value}", [])
        return table.get(leaf.text + ("*" if leaf.prefix else ""), [])

    result = evaluate(parse_query(query), hits)
    return None if result is None else [(show(leaf), hit) for leaf, hit in result]


def t(start: int, end: int | None = None) -> Hit:
    return Hit("title", start, start + 1 if end is None else end)


def s(start: int, end: int | None = None) -> Hit:
    return Hit("summary", start, start + 1 if end is None else end)


def c(start: int, end: int | None = None) -> Hit:
    return Hit("content", start, start + 1 if end is None else end)


def test_leaf() -> None:
    assert run("a", {"a": [s(4)]}) == [("a", s(4))]
    assert run("a", {"b": [s(4)]}) is None
    assert run("a*", {"a*": [s(4)]}) == [("a*", s(4))]


def test_first_hit_is_by_field_then_position() -> None:
    table = {"a": [c(0), s(9), t(7), t(3), s(1)]}
    assert run("a", table) == [("a", t(3))]
    assert run("a", {"a": [c(5), c(2, 4), c(2, 3)]}) == [("a", c(2, 3))]


def test_and_reports_every_child() -> None:
    table = {"a": [s(4), t(8)], "b": [c(1)], "x y": [s(0, 2)]}
    assert run('a b "x y"', table) == [("a", t(8)), ("b", c(1)), ('"x y"', s(0, 2))]
    assert run("a AND b AND z", table) is None


def test_or_picks_first_matching_child() -> None:
    table = {"a": [t(1)], "b": [t(0)], "c": [s(2)]}
    assert run("a OR b", table) == [("a", t(1))]
    assert run("b OR a", table) == [("b", t(0))]
    assert run("z OR c OR a", table) == [("c", s(2))]
    assert run("z OR y", table) is None
    assert run("(z b) OR (a c)", table) == [("a", t(1)), ("c", s(2))]


def test_not_vetoes_and_adds_nothing() -> None:
    table = {"a": [t(1)], "b": [c(9)]}
    assert run("a -b", table) is None
    assert run("a NOT b", table) is None
    assert run("a -z", table) == [("a", t(1))]
    assert run("a -(b z)", table) == [("a", t(1))]  # the whole group must match to veto
    assert run("a -(b OR z)", table) is None
    assert run("a NOT NOT b", table) == [("a", t(1))]


def test_field_scoping() -> None:
    table = {"a": [s(1)], "tass": [Hit("source", 0, 1)], "oil": [Hit("tag", 0, 1)]}
    assert run("title:a", table) is None
    assert run("summary:a", table) == [("summary:a", s(1))]
    # unscoped leaves look in title, summary and content only
    assert run("tass", table) is None
    assert run("oil", table) is None
    assert run("a source:tass", table) == [("a", s(1)), ("source:tass", Hit("source", 0, 1))]
    assert run("tag:oil", table) == [("tag:oil", Hit("tag", 0, 1))]
    assert run("a -source:tass", table) is None
    assert run("title:(a OR tass)", table) is None
    assert run("summary:(z OR a)", table) == [("summary:a", s(1))]


def test_hits_are_fetched_once_per_leaf() -> None:
    calls: list[str] = []

    def hits(leaf: Phrase) -> Sequence[Hit]:
        calls.append(leaf.text)
        return [t(0), t(5)]

    result = evaluate(parse_query("a (a OR b) a NEAR/5 a -summary:a"), hits)
    assert result is not None
    assert sorted(calls) == ["a", "a"]  # `a` with default fields, and `summary:a`


def test_repeated_pairs_are_reported_once() -> None:
    assert run("a (a OR b)", {"a": [t(1)]}) == [("a", t(1))]


@pytest.mark.parametrize(
    ("query", "a", "b", "found"),
    [
        # words between = later.start - earlier.end, at most the distance
        ("a NEAR/2 b", t(0), t(3), True),
        ("a NEAR/2 b", t(0), t(4), False),
        ("a NEAR/2 b", t(5), t(2), True),  # either order
        ("a NEAR/2 b", t(6), t(2), False),
        ("a NEAR/1 b", t(0), t(1), True),  # adjacent: no words between
        ("a NEAR/1 b", t(1), t(0), True),
        ("a NEAR b", t(0), t(11), True),  # default distance 10
        ("a NEAR b", t(0), t(12), False),
        ("a NEAR/100 b", s(0), s(101), True),
        ("a NEAR/100 b", s(0), s(102), False),
        # ordered: the left leaf first
        ("a ONEAR/2 b", t(0), t(3), True),
        ("a ONEAR/2 b", t(3), t(0), False),
        ("b ONEAR/2 a", t(3), t(0), True),
        ("a ONEAR b", t(0), t(1), True),
        # multi-word hits measure from their edges
        ("a NEAR/1 b", t(0, 3), t(4, 6), True),
        ("a NEAR/1 b", t(4, 6), t(0, 3), True),
        ("a NEAR/1 b", t(0, 3), t(5, 6), False),
        # overlapping hits do not count
        ("a NEAR/5 b", t(0, 3), t(2, 4), False),
        ("a NEAR/5 b", t(1, 2), t(0, 3), False),
        ("a NEAR/5 b", t(2), t(2), False),
        # same field only
        ("a NEAR/5 b", t(0), s(1), False),
        ("title:a NEAR/5 b", s(0), s(1), False),
        ("title:a NEAR/5 title:b", t(0), t(1), True),
    ],
)
def test_near_distance(query: str, a: Hit, b: Hit, found: bool) -> None:
    result = run(query, {"a": [a], "b": [b]})
    assert (result is not None) is found
    if result is not None:
        assert [hit for _, hit in result] == (
            [a, b] if query.startswith(("a", "title")) else [b, a]
        )


def test_near_reports_the_closest_pair() -> None:
    table = {
        "a": [c(40), t(0), s(10), s(30)],
        "b": [t(9), s(25), s(17), c(41)],
    }
    assert run("a NEAR b", table) == [("a", c(40)), ("b", c(41))]
    assert run("title:a NEAR b", table) == [("title:a", t(0)), ("b", t(9))]
    assert run("summary:(a NEAR b)", table) == [("summary:a", s(30)), ("summary:b", s(25))]
    assert run("summary:(a ONEAR b)", table) == [("summary:a", s(10)), ("summary:b", s(17))]
    assert run("summary:(b ONEAR a)", table) == [("summary:b", s(25)), ("summary:a", s(30))]


def test_near_ties_break_by_field_then_position() -> None:
    table = {"a": [c(0), s(5), t(20), t(10)], "b": [c(2), s(3), t(22), t(12)]}
    assert run("a NEAR b", table) == [("a", t(10)), ("b", t(12))]


def test_near_same_leaf_needs_two_occurrences() -> None:
    assert run("a NEAR/3 a", {"a": [t(4)]}) is None
    assert run("a NEAR/3 a", {"a": [t(4), t(0)]}) == [("a", t(0)), ("a", t(4))]


def test_near_with_many_hits() -> None:
    # Only every 50th position of `a` and a single far `b` in the same field: none is close.
    table = {"a": [c(i) for i in range(0, 50_000, 50)], "b": [c(50_025)]}
    assert run("a NEAR/10 b", table) is None
    table["b"].append(c(20_040))
    assert run("a NEAR/10 b", table) == [("a", c(20_050)), ("b", c(20_040))]


def test_near_under_not_and_or() -> None:
    table = {"fine": [t(0)], "parking": [t(2)], "sanctions": [s(0)]}
    assert run("sanctions -fine NEAR/1 parking", table) is None
    assert run("sanctions -fine ONEAR/1 parking", table) is None
    assert run("sanctions -fine NEAR/1 title:parking", table) is None
    assert run("sanctions -parking ONEAR/1 fine", table) == [("sanctions", s(0))]
    assert run("(fine NEAR/1 parking) OR sanctions", table) == [
        ("fine", t(0)),
        ("parking", t(2)),
    ]


def test_result_is_deterministic_whatever_the_hit_order() -> None:
    base = {"a": [t(3), s(0), c(7), t(1)], "b": [s(4), t(6), c(5)], "x": [c(1)]}
    query = "(a b) OR x -(x NEAR/1 b)"
    expected = run(query, base)
    assert expected == [("a", t(1)), ("b", t(6))]
    for shift in range(1, 4):
        rotated = {k: v[shift % len(v) :] + v[: shift % len(v)] for k, v in base.items()}
        assert run(query, rotated) == expected
    reversed_ = {k: v[::-1] for k, v in base.items()}
    assert run(query, reversed_) == expected


def test_evaluate_accepts_hand_built_trees() -> None:
    a = Phrase("a", False, ("title",), 1)
    b = Phrase("b", False, DEFAULT_FIELDS, 3)
    tree = Or((And((a, Not(b))), b))
    table = {"a": [t(0)], "b": [s(1)]}
    assert evaluate(tree, lambda leaf: table[leaf.text]) == ((b, s(1)),)
    assert evaluate(tree, lambda leaf: table[leaf.text] if leaf.text == "a" else []) == ((a, t(0)),)
