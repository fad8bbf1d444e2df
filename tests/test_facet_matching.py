"""Facet filters in watchlist queries (`issuer:EU AND target:RU`) and entities matched on
official list changes by their names (`Item.designation`), not by a text search."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

import pytest

from alerts.classify import ActionType, Measure
from alerts.classify.lexicons import TARGET_ALIASES
from alerts.domain import (
    FACET_NAMES,
    DesignationRecord,
    Entity,
    EntityKind,
    Item,
    ItemFacets,
    Match,
    MatchKind,
    Watchlist,
)
from alerts.matching import compile_watchlists, watchlist_problems
from alerts.matching.countries import find_country
from alerts.matching.query import (
    FACET_VALUES,
    TARGET_REGIMES,
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
from alerts.sources.lists.model import Action

# --- helpers -------------------------------------------------------------------------------


def show(node: Node) -> str:
    """`[issuer=EU]` for a facet leaf, `word` or `title:word` for a phrase, `(AND ...)`."""
    if isinstance(node, Facet):
        return f"[{node.name}={node.value}]"
    if isinstance(node, Phrase):
        scope = "" if len(node.fields) > 1 else f"{node.fields[0]}:"
        return scope + node.text
    if isinstance(node, And | Or):
        name = "AND" if isinstance(node, And) else "OR"
        return f"({name} {' '.join(show(c) for c in node.children)})"
    if isinstance(node, Not):
        return f"(NOT {show(node.child)})"
    assert isinstance(node, Near)
    return f"(NEAR {show(node.left)} {show(node.right)})"


def parsed(query: str) -> str:
    return show(parse_query(query))


def item(
    summary: str = "",
    title: str = "",
    *,
    facets: Mapping[str, tuple[str, ...]] | None = None,
    reasons: Mapping[str, tuple[str, ...]] | None = None,
    designation: DesignationRecord | None = None,
) -> Item:
    return Item(
        feed="wire",
        guid=None,
        link=None,
        title=title,
        summary=summary,
        facets=ItemFacets(dict(facets or {}), dict(reasons or {})),
        designation=designation,
    )


EU_PACKAGE = {
    "sanctions_action": ("true",),
    "action": ("package",),
    "issuer": ("EU",),
    "target": ("BY", "RU"),
    "measure": ("asset_freeze",),
}
EU_REASONS = {
    "issuer": ("'the Council' in title",),
    "target": ("'Russia' in title", "'Belarus' in summary"),
}
OFAC_ADDED = {
    "sanctions_action": ("true",),
    "action": ("designation",),
    "issuer": ("US",),
    "list": ("us-ofac-sdn",),
    "programme": ("RUSSIA-EO14024", "UKRAINE-EO13662"),
    "designation": ("added",),
}


def matches(watchlist: Watchlist, it: Item) -> tuple[Match, ...]:
    matcher = compile_watchlists([watchlist])
    assert matcher.problems == ()
    return matcher.match(it)


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("issuer:EU AND target:RU", "(AND [issuer=EU] [target=RU])"),
        ("issuer:EU target:RU", "(AND [issuer=EU] [target=RU])"),
        ("sanctions_action:true", "[sanctions_action=true]"),
        ("Sanctions_Action:TRUE", "[sanctions_action=true]"),
        ("ISSUER:eu", "[issuer=eu]"),  # compared ignoring case; open values kept as written
        ("Navalny AND issuer:US", "(AND Navalny [issuer=US])"),
        (
            "list:us-ofac-sdn AND programme:RUSSIA-EO14024 AND designation:added",
            "(AND [list=us-ofac-sdn] [programme=RUSSIA-EO14024] [designation=added])",
        ),
        ('programme:"CYBER2"', "[programme=CYBER2]"),
        ("issuer:(EU OR UK)", "(OR [issuer=EU] [issuer=UK])"),
        ("issuer:(EU -UK)", "(AND [issuer=EU] (NOT [issuer=UK]))"),
        ("sanctions -issuer:RU", "(AND sanctions (NOT [issuer=RU]))"),
        ("title:Russia OR target:RU", "(OR title:Russia [target=RU])"),
        # targets: ISO codes, country names and demonyms, regions, regimes
        ("target:ru", "[target=RU]"),
        ("target:Russia", "[target=RU]"),
        ('target:"North Korea"', "[target=KP]"),
        ("target:Belarusian", "[target=BY]"),
        ("target:UA-43", "[target=UA-43]"),
        ("target:terrorism", "[target=TERRORISM]"),
        ("target:human-rights", "[target=HUMAN_RIGHTS]"),
        # closed values: any case, '-' or a space for '_', the US spelling of licence
        ("measure:ASSET_FREEZE", "[measure=asset_freeze]"),
        ('measure:"asset freeze"', "[measure=asset_freeze]"),
        ("action:general-license", "[action=general_licence]"),
        ("designation:Removed", "[designation=removed]"),
        ("sanctions_action:False", "[sanctions_action=false]"),
        # a colon after a name that is neither a field nor a facet, nor letters, is a word
        ("sanctions_2024:x", "sanctions_2024:x"),
    ],
)
def test_parse_facets(query: str, tree: str) -> None:
    assert parsed(query) == tree


def test_facet_leaves_carry_the_value_column() -> None:
    assert leaves(parse_query('x issuer:EU -target:"North Korea"')) == (
        Phrase("x", False, ("title", "summary", "content"), 1),
        Facet("issuer", "EU", 10),
        Facet("target", "KP", 21),
    )
    assert [leaf.column for leaf in leaves(parse_query('x issuer:EU -target:"North Korea"'))] == [
        1,
        10,
        21,
    ]
    node = parse_query("issuer:EU sanctions -target:RU -(issuer:UK x)")
    assert [show(leaf) for leaf in positive_leaves(node)] == ["[issuer=EU]", "sanctions"]
    # The same facet twice is one leaf.
    assert leaves(parse_query("issuer:EU OR (issuer:EU x)")) == (
        Facet("issuer", "EU", 8),
        Phrase("x", False, ("title", "summary", "content"), 25),
    )


FACETS = ", ".join(FACET_NAMES)
UNKNOWN = f"(use title, summary, content, source, tag, or a facet: {FACETS})"
NOT_NEGATED = "query needs at least one word or phrase that is not negated"
OR_NEGATED = "each OR branch needs at least one word or phrase that is not negated"
REGIMES = "TERRORISM, CYBER, HUMAN_RIGHTS, NARCOTICS"


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        # unknown names keep the column of the name
        ("issuers:EU", 1, f"unknown field 'issuers' {UNKNOWN}"),
        ("x sanction_action:true", 3, f"unknown field 'sanction_action' {UNKNOWN}"),
        ("x -(y facet:EU)", 7, f"unknown field 'facet' {UNKNOWN}"),
        # values that can never occur point at the value
        ("sanctions_action:maybe", 18, "sanctions_action: 'maybe' never occurs (use true, false)"),
        (
            "x designation:deleted",
            15,
            "designation: 'deleted' never occurs (use added, amended, removed)",
        ),
        ("issuer:EU AND measure:(asset_freeze OR fines)", 40, "measure: 'fines' never occurs"),
        ("action:sanctions", 8, "action: 'sanctions' never occurs (use designation, package,"),
        (
            "target:Narnia",
            8,
            f"target: 'Narnia' is no country code, country name or regime ({REGIMES})",
        ),
        ('target:"EU"', 8, "target: 'EU' is no country code"),
        ("issuer:EU*", 8, "issuer: a facet value is compared whole; drop the '*'"),
        # a facet is not a word: no proximity
        ("issuer:EU NEAR Russia", 1, "NEAR needs a word or phrase on each side, not a facet"),
        ("Russia NEAR/3 issuer:EU", 15, "NEAR/3 needs a word or phrase on each side, not a facet"),
        ("issuer:(EU NEAR UK)", 9, "NEAR needs a word or phrase on each side, not a facet"),
        # one scope per leaf
        ("title:(issuer:EU)", 8, "issuer: inside title:(...); a word has only one field"),
        ("issuer:(EU target:RU)", 12, "target: inside issuer:(...); a word has only one field"),
        ("issuer:", 1, "issuer: needs a value or group after it"),
        ("x issuer:-EU", 3, "issuer: needs a value or group after it"),
        # a facet is something found, its absence is not
        ("NOT issuer:US", 1, NOT_NEGATED),
        ("-issuer:US", 1, NOT_NEGATED),
        ("-issuer:US -target:RU", 1, NOT_NEGATED),
        ("issuer:(-US)", 1, NOT_NEGATED),
        ("Russia OR -issuer:US", 11, OR_NEGATED),
    ],
)
def test_facet_errors(query: str, column: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert caught.value.column == column, str(caught.value)
    assert caught.value.message.startswith(message), str(caught.value)


def test_facet_values_count_towards_the_leaf_limit() -> None:
    assert parse_query(" OR ".join(["issuer:EU"] * 64))
    with pytest.raises(QueryError, match="too many words"):
        parse_query(" OR ".join(["issuer:EU"] * 65))


def test_closed_values_agree_with_the_classifier_and_the_lists() -> None:
    # The parser refuses values outside these: they must be every value the producers set.
    assert set(FACET_VALUES) <= set(FACET_NAMES)
    assert set(FACET_VALUES["action"]) == {a.value for a in ActionType}
    assert set(FACET_VALUES["measure"]) == {m.value for m in Measure}
    assert set(FACET_VALUES["designation"]) == {a.value for a in Action}
    targets = {p.value for p in TARGET_ALIASES}
    assert {t for t in targets if find_country(t) is None} == set(TARGET_REGIMES)


# --- evaluation (query module) -----------------------------------------------------------


def test_evaluate_reports_a_facet_hit() -> None:
    have = {("issuer", "EU"), ("target", "RU")}

    def hits(leaf: Leaf) -> list[Hit]:
        if isinstance(leaf, Facet):
            return [Hit("facet", 0, 0)] if (leaf.name, leaf.value) in have else []
        return [Hit("title", 0, 1)] if leaf.text == "Navalny" else []

    def run(query: str) -> list[str] | None:
        result = evaluate(parse_query(query), hits)
        return None if result is None else [show(leaf) for leaf, _ in result]

    assert run("issuer:EU AND target:RU") == ["[issuer=EU]", "[target=RU]"]
    assert run("issuer:US") is None
    assert run("issuer:(US OR EU)") == ["[issuer=EU]"]
    assert run("Navalny -issuer:EU") is None
    assert run("Navalny -issuer:US") == ["Navalny"]
    assert run("Navalny issuer:EU") == ["Navalny", "[issuer=EU]"]
    # A facet hit in any other field does not count.
    assert evaluate(parse_query("issuer:EU"), lambda leaf: [Hit("title", 0, 1)]) is None


# --- facet queries in the engine -----------------------------------------------------------


def test_a_query_of_facets_alone_matches_by_facets() -> None:
    w = Watchlist("eu", queries=("issuer:EU AND target:RU",))
    found = matches(w, item("nothing to see", facets=EU_PACKAGE, reasons=EU_REASONS))
    assert found == (
        Match(
            watchlist="eu",
            term="issuer:EU AND target:RU",
            field="facet",
            start=0,
            end=0,
            snippet="'the Council' in title",
            kind=MatchKind.QUERY,
            matched="issuer:EU",
            highlight=None,
        ),
        Match(
            watchlist="eu",
            term="issuer:EU AND target:RU",
            field="facet",
            start=0,
            end=0,
            snippet="'Russia' in title",
            kind=MatchKind.QUERY,
            matched="target:RU",
            highlight=None,
        ),
    )
    assert matches(w, item("nothing to see")) == ()
    assert matches(w, item("x", facets={"issuer": ("EU",), "target": ("IR",)})) == ()


def test_facet_values_compare_ignoring_case_and_show_the_items_spelling() -> None:
    w = Watchlist("w", queries=("issuer:eu", "sanctions_action:TRUE"))
    found = matches(w, item("", facets=EU_PACKAGE))
    assert [(m.matched, m.snippet) for m in found] == [
        ("issuer:EU", "issuer: EU"),  # no reason: the facet and value
        ("sanctions_action:true", "sanctions_action: true"),
    ]


@pytest.mark.parametrize(
    ("query", "hit"),
    [
        ("sanctions_action:true", True),
        ("sanctions_action:false", False),
        ("issuer:(UK OR EU)", True),
        ("issuer:(UK OR US)", False),
        ("target:Belarus", True),
        ('target:"Belarus" -target:Iran', True),
        ("target:Belarus -issuer:EU", False),
        ("measure:asset-freeze AND action:package", True),
        ("designation:added", False),
        ("(issuer:US AND designation:added) OR (issuer:EU AND action:package)", True),
    ],
)
def test_facet_query_evaluation(query: str, hit: bool) -> None:
    found = matches(Watchlist("w", queries=(query,)), item("x", facets=EU_PACKAGE))
    assert bool(found) is hit


def test_words_and_facets_together() -> None:
    w = Watchlist("w", queries=("Navalny AND issuer:US",))
    text = "Treasury sanctions officials over Navalny"
    found = matches(w, item(text, facets={"issuer": ("US",)}))
    assert [
        (m.field, m.matched, text[m.start : m.end] if m.field != "facet" else "") for m in found
    ] == [
        ("summary", "Navalny", "Navalny"),
        ("facet", "issuer:US", ""),
    ]
    assert matches(w, item(text, facets={"issuer": ("EU",)})) == ()
    assert matches(w, item("no name here", facets={"issuer": ("US",)})) == ()
    # A facet under NOT only filters: the word has to be found.
    neg = Watchlist("w", queries=("Navalny -issuer:RU",))
    assert [m.matched for m in matches(neg, item(text, facets={"issuer": ("US",)}))] == ["Navalny"]
    assert matches(neg, item(text, facets={"issuer": ("RU",)})) == ()


def test_designation_facets_follow_a_list_and_programme() -> None:
    w = Watchlist(
        "sdn", queries=("list:us-ofac-sdn AND programme:RUSSIA-EO14024 AND designation:added",)
    )
    found = matches(w, item("ROTENBERG, Arkadii added", facets=OFAC_ADDED))
    assert [m.matched for m in found] == [
        "list:us-ofac-sdn",
        "programme:RUSSIA-EO14024",
        "designation:added",
    ]
    removed = {**OFAC_ADDED, "designation": ("removed",)}
    assert matches(w, item("x", facets=removed)) == ()


def test_facet_exclusions_veto_and_explain() -> None:
    w = Watchlist("w", terms=("sanctions",), exclude=("issuer:RU",))
    matcher = compile_watchlists([w, Watchlist("other", terms=("sanctions",))])
    moscow = item(
        "Moscow announces counter-sanctions",
        facets={"issuer": ("RU",)},
        reasons={"issuer": ("'Moscow' in summary",)},
    )
    result = matcher.explain(moscow)
    assert [m.watchlist for m in result.matches] == ["other"]
    (veto,) = result.vetoes
    assert (veto.watchlist, veto.exclusion, veto.field, veto.snippet) == (
        "w",
        "issuer:RU",
        "facet",
        "'Moscow' in summary",
    )
    assert [m.term for m in veto.vetoed] == ["sanctions"]
    assert [m.watchlist for m in matcher.match(item("new sanctions", facets=EU_PACKAGE))] == [
        "w",
        "other",
    ]
    assert [m.watchlist for m in matcher.match(item("new sanctions"))] == ["w", "other"]


def test_exclusions_mixing_words_and_facets() -> None:
    w = Watchlist("w", terms=("sanctions",), exclude=("football AND sanctions_action:false",))
    matcher = compile_watchlists([w])
    no_action = {"sanctions_action": ("false",)}
    assert matcher.match(item("football club sanctions", facets=no_action)) == ()
    assert matcher.match(item("football club sanctions", facets=EU_PACKAGE))
    assert matcher.match(item("sanctions on Iran", facets=no_action))
    (veto,) = matcher.explain(item("football club sanctions", facets=no_action)).vetoes
    assert (veto.field, veto.snippet) == ("summary", "football club sanctions")


def test_explain_shows_facet_matches() -> None:
    w = Watchlist("w", terms=("Russia",), queries=("issuer:EU",))
    result = compile_watchlists([w]).explain(item("Russia", facets=EU_PACKAGE, reasons=EU_REASONS))
    assert [(m.kind, m.field, m.matched, m.snippet) for m in result.matches] == [
        (MatchKind.TERM, "summary", "", "Russia"),
        (MatchKind.QUERY, "facet", "issuer:EU", "'the Council' in title"),
    ]


def test_facet_queries_are_valid_watchlists_and_bad_values_are_problems() -> None:
    assert watchlist_problems(Watchlist("w", queries=("issuer:EU",))) == []
    (problem,) = watchlist_problems(Watchlist("w", queries=("designation:deleted",)))
    assert str(problem) == (
        "watchlist \"w\": query col 13: designation: 'deleted' never occurs"
        " (use added, amended, removed)"
    )
    (problem,) = watchlist_problems(Watchlist("w", terms=("x",), exclude=("NOT issuer:US",)))
    assert problem.entry == "exclude[0]" and "not negated" in problem.message


ORACLE_QUERIES = [
    "issuer:EU AND target:RU",
    "issuer:EU target:(RU OR BY) -measure:travel_ban",
    "Navalny OR issuer:US",
    "(Navalny AND issuer:US) OR target:RU",
    "issuer:EU AND (Navalny OR target:RU)",
    "Navalny issuer:US",
    "Navalny NEAR/3 prison AND sanctions_action:true",
    "sanctions_action:true -(issuer:EU OR issuer:UK)",
    "(issuer:EU OR Navalny) (target:BY OR prison)",
]
ORACLE_ITEMS = [
    (text, {"issuer": issuer, "target": target, "sanctions_action": action})
    for text in ("Navalny in prison", "prison news", "")
    for issuer in ((), ("EU",), ("US",), ("UK",))
    for target in ((), ("RU",), ("BY", "RU"))
    for action in ((), ("true",))
]


@pytest.mark.parametrize("query", ORACLE_QUERIES)
def test_facet_look_ups_never_miss_a_match(query: str) -> None:
    # The engine evaluates a query only when an item has one of the leaves it is looked up
    # under; the answer must be the same as evaluating it on every item.
    matcher = compile_watchlists([Watchlist("w", queries=(query,))])
    excluding = compile_watchlists([Watchlist("x", terms=("alert",), exclude=(query,))])
    node = parse_query(query)
    for text, facets in ORACLE_ITEMS:
        it = item(text, facets={k: v for k, v in facets.items() if v})
        words = text.split()

        def hits(leaf: Leaf, words: list[str] = words, it: Item = it) -> list[Hit]:
            if isinstance(leaf, Facet):
                return [Hit("facet", 0, 0)] if it.facets.has(leaf.name, leaf.value) else []
            return [Hit("summary", i, i + 1) for i, w in enumerate(words) if w == leaf.text]

        expected = evaluate(node, hits) is not None
        assert bool(matcher.match(it)) is expected, (query, text, facets)
        flagged = dataclasses.replace(it, title="alert")
        assert bool(excluding.explain(flagged).vetoes) is expected, (query, text, facets)


def test_an_and_of_facets_is_looked_up_under_its_rarest() -> None:
    # `issuer:EU AND target:RU` needs target RU: an item with issuer EU alone never has the
    # query evaluated (its facets beyond the issuer are never read for it).
    w = Watchlist("w", queries=("issuer:EU AND target:RU",))
    it = Item("wire", None, None, "", "x", facets=ItemFacets(_IssuerOnly({"issuer": ("EU",)})))
    assert compile_watchlists([w]).match(it) == ()


class _IssuerOnly(Mapping[str, tuple[str, ...]]):
    """Facet values that fail the test if a facet other than the issuer is looked up."""

    def __init__(self, values: dict[str, tuple[str, ...]]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return self._values[key]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        if key != "issuer":
            raise AssertionError(f"{key} looked up")
        return self._values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class _Untouchable(Mapping[str, tuple[str, ...]]):
    """Facet values that fail the test if the engine so much as looks at them."""

    def __getitem__(self, key: str) -> tuple[str, ...]:
        raise AssertionError("facets read")

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("facets read")

    def __len__(self) -> int:
        raise AssertionError("facets read")


def test_watchlists_without_facet_queries_never_read_facets() -> None:
    w = Watchlist("w", terms=("sanctions",), queries=("Russia -issuer",), exclude=("football",))
    it = Item("wire", None, None, "", "sanctions on Russia", facets=ItemFacets(_Untouchable()))
    assert [m.kind for m in compile_watchlists([w]).match(it)] == [
        MatchKind.TERM,
        MatchKind.QUERY,
    ]


# --- designation items -----------------------------------------------------------------------

ROTENBERG = Entity("Arkady Rotenberg", aliases=("Аркадий Ротенберг",))


def record(
    name: str,
    *aliases: str,
    weak: tuple[str, ...] = (),
    kind: str = "person",
    action: str = "added",
    programmes: tuple[str, ...] = ("RUSSIA-EO14024",),
) -> DesignationRecord:
    return DesignationRecord(
        list="us-ofac-sdn",
        id="36122",
        action=action,
        kind=kind,
        name=name,
        aliases=aliases,
        weak_aliases=weak,
        programmes=programmes,
    )


def listing(rec: DesignationRecord) -> Item:
    """An item as list changes make them: the record's names are in its text too."""
    known = [*rec.aliases, *(f"{a} (weak)" for a in rec.weak_aliases)]
    summary = f"{rec.name}: {rec.kind} {rec.action} {rec.list}, entry {rec.id}."
    if known:
        summary += f" Also known as: {'; '.join(known)}."
    return item(summary, f"{rec.name} {rec.action} {rec.list}", designation=rec)


def named(entities: tuple[Entity, ...], rec: DesignationRecord) -> list[tuple[str, str]]:
    found = matches(Watchlist("w", entities=entities), listing(rec))
    return [(m.term, m.matched) for m in found]


def test_a_designation_names_the_watched_entity() -> None:
    rec = record("ROTENBERG, Arkadii Romanovich", "Arkady Romanovich ROTENBERG")
    (m,) = matches(Watchlist("w", entities=(ROTENBERG,)), listing(rec))
    assert m == Match(
        watchlist="w",
        term="Arkady Rotenberg",
        field="designation",
        start=0,
        end=0,
        snippet="us-ofac-sdn: added ROTENBERG, Arkadii Romanovich (RUSSIA-EO14024)",
        kind=MatchKind.ENTITY,
        matched="ROTENBERG, Arkadii Romanovich",
        highlight=(19, 48),
    )
    assert m.highlight is not None
    assert m.snippet[m.highlight[0] : m.highlight[1]] == m.matched


@pytest.mark.parametrize(
    ("name", "aliases"),
    [
        ("ROTENBERG, Arkadii Romanovich", ()),  # comma order, patronymic, transliteration
        ("ROTENBERG, Arkady", ()),
        ("Arkady Romanovich ROTENBERG", ()),
        ("ROTENBERG Arkadiy Romanovich", ()),  # Russian order without a comma
        ("РОТЕНБЕРГ Аркадий Романович", ()),  # Cyrillic, Russian order
        ("Ротенберг, Аркадий", ()),
        ("Ротенберга Аркадия", ()),  # inflected, as in a Russian decree
        ("ROTENBERG, A. R.", ("Arkadiy ROTENBERG",)),  # through a strong alias
    ],
)
def test_designation_names_across_scripts_and_orders(name: str, aliases: tuple[str, ...]) -> None:
    assert [t for t, _ in named((ROTENBERG,), record(name, *aliases))] == ["Arkady Rotenberg"]
    # The Latin name alone finds a Cyrillic record, and the Cyrillic alias alone a Latin one.
    assert named((Entity("Arkady Rotenberg"),), record(name, *aliases))
    assert named((Entity("Аркадий Ротенберг"),), record(name, *aliases))


def test_an_alias_match_says_which_name_and_highlights_it() -> None:
    rec = record(
        "ROTENBERG, A. R.",
        "Arkady Romanovich ROTENBERG",
        programmes=("RUSSIA-EO14024", "UKRAINE-EO13661", "UKRAINE-EO13662", "CYBER2", "SDGT"),
    )
    (m,) = matches(Watchlist("w", entities=(ROTENBERG,)), listing(rec))
    assert m.matched == "Arkady Romanovich ROTENBERG"
    assert m.snippet == (
        "us-ofac-sdn: added ROTENBERG, A. R., a.k.a. Arkady Romanovich ROTENBERG"
        " (RUSSIA-EO14024, UKRAINE-EO13661, UKRAINE-EO13662, +2 more)"
    )
    assert m.highlight is not None
    assert m.snippet[m.highlight[0] : m.highlight[1]] == "Arkady Romanovich ROTENBERG"


def test_organisations_and_vessels_by_their_names() -> None:
    rosneft = Entity("PJSC Rosneft", kind=EntityKind.ORGANIZATION)
    rec = record("ROSNEFT OIL COMPANY", "OAO ROSNEFT", "ПАО «Роснефть»", kind="organization")
    assert named((rosneft,), rec) == [("PJSC Rosneft", "OAO ROSNEFT")]
    # A one-word vessel name needs no ship word nearby: the record says it is a vessel.
    sokol = Entity("Sokol", kind=EntityKind.VESSEL)
    assert named((sokol,), record("SOKOL", kind="vessel")) == [("Sokol", "SOKOL")]
    # Kinds must agree; an unknown kind may name any but a country.
    assert named((sokol,), record("SOKOL", kind="organization")) == []
    assert named((ROTENBERG,), record("Arkady ROTENBERG", kind="vessel")) == []
    assert named((ROTENBERG,), record("Arkady ROTENBERG", kind="unknown")) == [
        ("Arkady Rotenberg", "Arkady ROTENBERG")
    ]
    assert named((sokol,), record("SOKOL", kind="aircraft")) == [("Sokol", "SOKOL")]


def test_a_shared_surname_is_not_the_person() -> None:
    watched = Entity("Arkady Rotenberg", weak_aliases=("Rotenberg",))
    for rec in [
        record("ROTENBERG, Boris Romanovich", "Boris ROTENBERG"),
        record("ROTENBERG, Igor Arkadyevich"),
        record("ROTENBERG", kind="unknown"),
    ]:
        assert named((watched,), rec) == [], rec.name


def test_weak_names_never_match_alone() -> None:
    # The record's weak alias is the watched name: not enough, though the item's text
    # spells it out ("Also known as: Arkady Rotenberg (weak)").
    rec = record("ROTENBERG, Igor Arkadyevich", weak=("Arkady Rotenberg",))
    assert "Arkady Rotenberg (weak)" in listing(rec).summary
    assert named((ROTENBERG,), rec) == []
    # The watched entity's weak alias is the record's name: not enough either.
    putin = Entity("Vladimir Putin", weak_aliases=("Putin",))
    assert named((putin,), record("PUTIN", kind="unknown")) == []
    # With a strong name matched, weak names add nothing: one match, on the strong name.
    rec = record("PUTIN, Vladimir Vladimirovich", weak=("PUTIN",))
    assert named((putin,), rec) == [("Vladimir Putin", "PUTIN, Vladimir Vladimirovich")]


def test_one_match_per_entity_and_the_record_wins_over_the_text() -> None:
    rec = record("ROTENBERG, Arkadii Romanovich", "Arkady Romanovich ROTENBERG", "Arkady ROTENBERG")
    it = listing(rec)
    assert "Arkady Romanovich ROTENBERG" in it.summary  # the text names him several times
    found = matches(Watchlist("w", entities=(ROTENBERG,)), it)
    assert [(m.field, m.matched) for m in found] == [
        ("designation", "ROTENBERG, Arkadii Romanovich")
    ]
    # Two watchlists with the entity: one match each.
    matcher = compile_watchlists(
        [Watchlist("a", entities=(ROTENBERG,)), Watchlist("b", entities=(ROTENBERG,))]
    )
    assert [(m.watchlist, m.field) for m in matcher.match(it)] == [
        ("a", "designation"),
        ("b", "designation"),
    ]


def test_designation_items_still_match_terms_queries_and_countries() -> None:
    rec = record("ROTENBERG, Arkadii Romanovich")
    w = Watchlist(
        "w",
        terms=("Rotenberg",),
        queries=("ofac NEAR/3 sdn",),
        entities=(ROTENBERG, Entity("Russia", kind=EntityKind.COUNTRY)),
    )
    it = item(
        "Sanctioned under RUSSIA-EO14024 by OFAC (SDN list).",
        "ROTENBERG, Arkadii Romanovich added to the SDN list",
        designation=rec,
    )
    found = matches(w, it)
    assert sorted((m.kind.value, m.field, m.term) for m in found) == [
        ("entity", "designation", "Arkady Rotenberg"),
        ("entity", "summary", "Russia"),
        ("query", "summary", "ofac NEAR/3 sdn"),
        ("query", "summary", "ofac NEAR/3 sdn"),
        ("term", "title", "Rotenberg"),
    ]


def test_an_item_without_a_designation_is_matched_by_text_as_before() -> None:
    found = matches(Watchlist("w", entities=(ROTENBERG,)), item("Arkady Rotenberg's bank was hit"))
    assert [(m.field, m.matched) for m in found] == [("summary", "")]


def test_exclusions_apply_to_designation_matches() -> None:
    w = Watchlist("w", entities=(ROTENBERG,), exclude=("designation:removed",))
    matcher = compile_watchlists([w])
    removed = record("ROTENBERG, Arkadii", action="removed")
    it = item(
        "removed",
        designation=removed,
        facets={**OFAC_ADDED, "designation": ("removed",)},
    )
    result = matcher.explain(it)
    assert result.matches == ()
    (veto,) = result.vetoes
    assert (veto.field, [m.field for m in veto.vetoed]) == ("facet", ["designation"])
    assert [m.field for m in matcher.match(listing(record("ROTENBERG, Arkadii")))] == [
        "designation"
    ]


def test_a_watchlist_following_a_list_and_an_entity_on_one_item() -> None:
    w = Watchlist(
        "w",
        queries=("list:us-ofac-sdn AND designation:added",),
        entities=(ROTENBERG,),
    )
    rec = record("ROTENBERG, Arkadii Romanovich")
    it = item("x", designation=rec, facets=OFAC_ADDED, reasons={"list": ("list change",)})
    assert [(m.kind, m.field, m.matched) for m in compile_watchlists([w]).match(it)] == [
        (MatchKind.ENTITY, "designation", "ROTENBERG, Arkadii Romanovich"),
        (MatchKind.QUERY, "facet", "list:us-ofac-sdn"),
        (MatchKind.QUERY, "facet", "designation:added"),
    ]


def test_an_entity_the_record_does_not_name_may_match_the_listed_name_in_the_title() -> None:
    # "Rosneft" is not a name form of "ROSNEFT OIL COMPANY", but a watcher of Rosneft wants
    # to hear that it was listed: the title, which holds only the primary name, is searched.
    rosneft = Entity("Rosneft", kind=EntityKind.ORGANIZATION)
    rec = record("ROSNEFT OIL COMPANY", kind="organization")
    [(term, field)] = [
        (m.term, m.field) for m in matches(Watchlist("w", entities=(rosneft,)), listing(rec))
    ]
    assert (term, field) == ("Rosneft", "title")
    # The summary's weak aliases never match alone, and kinds must still agree.
    foreman = Entity("The Foreman", kind=EntityKind.PERSON)
    weak = record("PETROVSKY, Ivan", weak=("THE FOREMAN",))
    assert named((foreman,), weak) == []
    sokol = Entity("Sokol", kind=EntityKind.VESSEL)
    assert named((sokol,), record("SOKOL SHIPPING LLC", kind="organization")) == []
