"""The matching engine: every active watchlist compiled into one Aho-Corasick automaton.

Compiling turns every term, query word, entity name form and exclusion word of every
watchlist into key sequences (`keys.variants`), and puts them all in ONE automaton over
the text " key1 key2 key3 ", keys separated and framed by spaces, so a pattern " iong un "
can only match whole words, and a prefix term (`sanction*`) is a pattern without its
closing space. Matching an item keys each field's words once (cached per word), scans each
field once, and then works only on the hits, so the cost per item hardly depends on how
many terms there are. The automaton reports every occurrence of every pattern, nested and
overlapping ones included ("freight" inside "national freight guidance", a surname inside
a full name), which a longest-match scanner such as flashtext silently drops.

On the hits:

* terms report their first occurrence per field;
* queries (see `query`) are evaluated only when one of their positive words was hit, or,
  for a query that can match without any word, when the item has the facet value
  (`issuer:EU`) it is looked up under (see `_trigger`): the item's facet values are looked
  up in one dict, and only when some query needs it, so watchlists without facet queries
  pay nothing for them. A facet that helps a query match is reported as a match in field
  "facet" (`matched` "issuer:EU", the classifier's reason as the snippet);
* entities count when a strong name form was hit (capitalised, and not broken by a
  possessive the name lacks), or matched fuzzily around an exact part (see `fuzzy`); a
  patronymic or an initial may stand after the first name; a one-word vessel name needs
  a ship word nearby; weak aliases count only beside a strong hit;
* regexes (RE2) run on the fields of watchlists that have them;
* an exclusion that matches drops the whole watchlist for that item (facets included:
  `exclude = ["issuer:RU"]`).

An item made from an official list change (`Item.designation`) is matched against entities
by its names, not by a text search: each strong name of the record (name, strong aliases)
goes through the same name forms as a watched entity (`names.entity_forms`: "SURNAME,
Given" turned round, patronymics optional, legal forms dropped), and a form whose keys
equal a strong form of a watched entity of a compatible kind, as a whole, names that entity
(one look-up per form in the automaton's pattern table). Weak names on either side never
match on their own, and a strong pair is already a match, so they are not compared. On
such an item, a person, organisation or vessel the record does not name may still match
the listed primary name in the title as text (a watched "Rosneft" in "ROSNEFT OIL
COMPANY"), if the kinds agree, but never the summary, which repeats the record's aliases,
weak ones included, that a text search would take for strong names. Country entities,
terms, queries and regexes search its text as usual.

A `CompiledMatcher` does not change what it matches after construction (only bounded
look-up caches fill in, with single dict operations that are atomic under the GIL), so
worker threads share it; the service builds a new one in the background when watchlists
change and swaps the reference, so a running poll never sees a half-built one.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Protocol

import ahocorasick

from alerts.domain import (
    DesignationRecord,
    Entity,
    EntityKind,
    Item,
    ItemFacets,
    Match,
    MatchKind,
    Watchlist,
)
from alerts.matching.fuzzy import MAX_ANCHOR_NAMES, fuzzy_score, is_anchor, loose
from alerts.matching.keys import (
    ABJAD,
    APOSTROPHES,
    CYRILLIC,
    forget_compile_words,
    key_cache,
    prefix_variants,
    text_key,
    variants,
    word_spans,
    words,
)
from alerts.matching.names import NameForm, entity_forms, identifier_problem, is_patronymic_key
from alerts.matching.query import (
    DEFAULT_FIELDS,
    FACET_FIELD,
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
from alerts.matching.regexes import compile_regex, regex_problem
from alerts.matching.snippets import snippet
from alerts.matching.terms import MAX_TERM_LENGTH, parse_term, term_problem, text_problem

__all__ = [
    "DESIGNATION_FIELD",
    "MAX_FIELD_CHARS",
    "TAG_SEPARATOR",
    "CompiledMatcher",
    "Explanation",
    "Matcher",
    "Veto",
    "WatchlistProblem",
    "compile_watchlists",
    "snippet",
    "watchlist_problems",
]

MAX_FIELD_CHARS = 1_000_000  # text beyond this in one field is not matched (5 MB items)
# Between tags: a letter (MODIFIER LETTER PRIME) that is a word of its own but keys to the
# placeholder no term has, so no phrase can span two tags.
TAG_SEPARATOR = " \u02b9 "
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_FUZZY_CACHE_LIMIT = 100_000
_EMPTY: frozenset[int] = frozenset()

# Target kinds stored with each automaton pattern.
_TERM, _QUERY, _EXCLUDE, _ENTITY, _GAP = 0, 1, 2, 3, 4
# A pattern's target (what a hit on it means) packed in one int: kind, then two indexes
# (watchlist and term, query and leaf, entity and form...).
_KIND_SHIFT, _A_SHIFT, _MASK = 56, 28, (1 << 28) - 1


def _target(kind: int, a: int, b: int) -> int:
    return (kind << _KIND_SHIFT) | (a << _A_SHIFT) | b


_VARIANTS = 4  # packing radix: a form has at most 3 key sequences (plain, Cyrillic, abjad)

# Where matches not found in a field sort: after every field of the item.
DESIGNATION_FIELD = "designation"
_DESIGNATION_BASE = 2_000_000  # sort key of a designation match: after every text position
_DESIGNATION_RANK, _FACET_RANK = 1 << 20, (1 << 20) + 1
_FACET_HIT = (Hit(FACET_FIELD, 0, 0),)
_NO_HITS: dict[Leaf, list[Hit]] = {}
# Which watched entities a list record of a kind may name; records of other kinds
# (aircraft, unknown) may name any but a country.
_NAMEABLE = (EntityKind.PERSON, EntityKind.ORGANIZATION, EntityKind.VESSEL)
_RECORD_KINDS = {
    "person": (EntityKind.PERSON,),
    "organization": (EntityKind.ORGANIZATION,),
    "vessel": (EntityKind.VESSEL,),
}
_MAX_SNIPPET_PROGRAMMES = 3

# Words that say a vessel is meant. A ship's name is often a common word ("Sokol",
# "Ocean Star"), so a vessel's name counts only near one of these or its IMO number.
_VESSEL_CUES = frozenset(
    text_key(w)
    for w in [
        "vessel",
        "vessels",
        "ship",
        "ships",
        "tanker",
        "tankers",
        "supertanker",
        "carrier",
        "freighter",
        "bulker",
        "cargo",
        "container",
        "LNG",
        "LPG",
        "crude",
        "yacht",
        "superyacht",
        "trawler",
        "tug",
        "barge",
        "ferry",
        "MV",
        "MT",
        "IMO",
        "flagged",
        "flag",
        "hull",
        "crew",
        "port",
        "voyage",
        "sanker",
        "shipping",
        "судно",
        "судна",
        "танкер",
        "танкера",
        "сухогруз",
    ]
) | frozenset(text_key(w) for w in ("судном", "танкером", "судне", "танкере"))
_VESSEL_WINDOW = 8  # words either side


class Matcher(Protocol):
    """Finds why an item matches the compiled watchlists."""

    def match(self, item: Item) -> tuple[Match, ...]:
        """Every reason `item` matches, ordered by watchlist, field, position."""
        ...


@dataclass(frozen=True, slots=True)
class WatchlistProblem:
    """Why a watchlist (or one of its entries) could not be compiled."""

    watchlist: str
    entry: str  # "terms[2]", "queries[0]", "entities[3]", ...
    message: str

    def __str__(self) -> str:
        return f'watchlist "{self.watchlist}": {self.message}'


@dataclass(frozen=True, slots=True)
class Veto:
    """An exclusion that dropped a watchlist's matches for an item."""

    watchlist: str
    exclusion: str
    field: str
    snippet: str
    vetoed: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything the engine found in an item: the matches and what exclusions removed."""

    matches: tuple[Match, ...]
    vetoes: tuple[Veto, ...]


# -- compiling ----------------------------------------------------------------------


@dataclass(slots=True)
class _Query:
    watchlist: int
    text: str
    node: Node
    leaves: tuple[Leaf, ...]
    positive: frozenset[Leaf]
    facets: bool  # has a facet leaf: evaluated with the item's facets


@dataclass(slots=True)
class _Entity:
    watchlist: int
    entity: Entity
    forms: list[NameForm]

    def variants(self, form: int) -> list[tuple[str, ...]]:
        """The key sequences of one form (recomputed on demand: cheap, cached per word)."""
        f = self.forms[form]
        abjad = self.entity.kind is not EntityKind.COUNTRY
        return variants(f.words, abjad_form=abjad, scripts=f.scripts)[:_VARIANTS]


@dataclass(slots=True)
class _Compiling:
    """Mutable state while compiling; frozen into a `CompiledMatcher`."""

    patterns: dict[str, int] = field(default_factory=dict)
    targets: list[list[int]] = field(default_factory=list)  # see `_target`
    lengths: list[int] = field(default_factory=list)  # words per pattern
    # Fuzzy anchors: name part key -> where it stands, packed (entity, form and script,
    # part position), for the parts of strong names of two words or more.
    anchors: dict[str, list[int]] = field(default_factory=dict)
    # (facet, casefolded value) -> the queries / exclusions with that positive facet leaf.
    query_facets: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    exclude_facets: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def add_anchors(self, ei: int, fi: int, seqs: list[tuple[str, ...]]) -> None:
        # Latin and Cyrillic text ("Каддафи" for Gaddafi); consonant skeletons are loose
        # enough already.
        for vi, seq in enumerate(seqs):
            if len(seq) < 2 or seq[0][:1] == ABJAD:
                continue
            code = fi * _VARIANTS + vi
            if code >= 1 << 16:
                return  # past 16,000 forms an entity gets no more fuzzy anchors
            for pi, key in enumerate(seq[:256]):
                if is_anchor(key):
                    packed = (ei << 24) | (code << 8) | pi
                    # Under the loose key, so "Michail" finds Mikhail's forms.
                    self.anchors.setdefault(loose(key), []).append(packed)

    def add(self, seqs: Iterable[tuple[str, ...]], prefix: bool, target: int) -> int:
        added = 0
        for seq in seqs:
            key = " " + " ".join(seq) + ("" if prefix else " ")
            pid = self.patterns.get(key)
            if pid is None:
                pid = self.patterns[key] = len(self.targets)
                self.targets.append([])
                self.lengths.append(len(seq))
            if target not in self.targets[pid]:
                self.targets[pid].append(target)
            added += 1
        return added


def _term_words(term: str) -> tuple[list[str], bool]:
    """The words of a term and whether it ends in a prefix wildcard."""
    text = parse_term(term)
    prefix = text.endswith("*")
    return words(text.rstrip("*")), prefix


def watchlist_problems(watchlist: Watchlist) -> list[WatchlistProblem]:
    """Every reason `watchlist` cannot be compiled; empty when it is fine."""
    out: list[WatchlistProblem] = []

    def bad(entry: str, message: str) -> None:
        out.append(WatchlistProblem(watchlist.name, entry, message))

    for i, term in enumerate(watchlist.terms):
        if problem := term_problem(term):
            bad(f"terms[{i}]", f"term {term[:60]!r}: {problem}")
    for kind, queries in (("query", watchlist.queries), ("exclude", watchlist.exclude)):
        for i, query in enumerate(queries):
            try:
                parse_query(query)
            except QueryError as exc:
                bad(f"{kind}[{i}]", f"{kind} {exc}")
    for i, pattern in enumerate(watchlist.regexes):
        if problem := regex_problem(pattern):
            bad(f"regexes[{i}]", f"regex {pattern[:60]!r}: {problem}")
    for i, entity in enumerate(watchlist.entities):
        for identifier in entity.identifiers:
            if problem := identifier_problem(identifier):
                bad(f"entities[{i}]", f"entity {entity.name[:60]!r}: {problem}")
        for name in (entity.name, *entity.aliases, *entity.weak_aliases):
            if problem := text_problem(name, "name", MAX_TERM_LENGTH):
                bad(f"entities[{i}]", f"entity {entity.name[:60]!r}: {problem}")
            elif not words(name):
                bad(f"entities[{i}]", f"entity {entity.name[:60]!r}: name {name!r} has no letters")
    positive = watchlist.terms or watchlist.queries or watchlist.regexes or watchlist.entities
    if not positive and watchlist.exclude:
        bad("exclude", "only exclusions: add a term, query, regex or entity to match")
    return out


def compile_watchlists(watchlists: Sequence[Watchlist], *, fuzzy: bool = True) -> CompiledMatcher:
    """Compile every watchlist into one matcher.

    A watchlist with a problem (see `watchlist_problems`) is left out and reported in
    `CompiledMatcher.problems`; the others work.
    """
    state = _Compiling()
    names: list[str] = []
    terms: list[list[str]] = []
    queries: list[_Query] = []
    exclusions: list[_Query] = []
    entities: list[_Entity] = []
    regexes: list[list[tuple[str, Any]]] = []
    problems: list[WatchlistProblem] = []
    scoped_fields: set[str] = set()
    for watchlist in watchlists:
        found = watchlist_problems(watchlist)
        if found:
            problems.extend(found)
            continue
        wi = len(names)
        names.append(watchlist.name)
        written: list[str] = []
        seen: set[tuple[tuple[tuple[str, ...], ...], bool]] = set()
        for term in watchlist.terms:
            term_words, prefix = _term_words(term)
            seqs = prefix_variants(term_words) if prefix else variants(term_words)
            # "Navalny" and "NAVALNY" in one watchlist would report the same hit twice.
            if (tuple(seqs), prefix) in seen:
                continue
            seen.add((tuple(seqs), prefix))
            state.add(seqs, prefix, _target(_TERM, wi, len(written)))
            written.append(parse_term(term))
        terms.append(written)
        for target_kind, texts, bucket, by_facet in (
            (_QUERY, watchlist.queries, queries, state.query_facets),
            (_EXCLUDE, watchlist.exclude, exclusions, state.exclude_facets),
        ):
            for text in texts:
                node = parse_query(text)
                found_leaves = leaves(node)
                q = _Query(
                    wi,
                    text,
                    node,
                    found_leaves,
                    frozenset(positive_leaves(node)),
                    any(isinstance(leaf, Facet) for leaf in found_leaves),
                )
                qi = len(bucket)
                bucket.append(q)
                for leaf in _trigger(node) or ():
                    if isinstance(leaf, Facet):
                        wanted = by_facet.setdefault((leaf.name, leaf.value.casefold()), [])
                        if qi not in wanted:
                            wanted.append(qi)
                for li, leaf in enumerate(q.leaves):
                    if isinstance(leaf, Facet):
                        continue
                    scoped_fields.update(leaf.fields)
                    leaf_words = words(leaf.text)
                    seqs = prefix_variants(leaf_words) if leaf.prefix else variants(leaf_words)
                    state.add(seqs, leaf.prefix, _target(target_kind, qi, li))
        for entity in watchlist.entities:
            ei = len(entities)
            ent = _Entity(wi, entity, entity_forms(entity))
            entities.append(ent)
            for fi, form in enumerate(ent.forms):
                seqs = ent.variants(fi)
                state.add(seqs, False, _target(_ENTITY, ei, fi))
                if fuzzy and form.fuzzy:
                    state.add_anchors(ei, fi, seqs)
                if form.gap:
                    # "Alexei Anatolyevich Navalny": the first word is looked up alone,
                    # the patronymic and the rest are checked on the hit (`_gap_hit`).
                    for vi, seq in enumerate(seqs):
                        if len(seq) >= 2 and seq[0][:1] != ABJAD:
                            state.add([seq[:1]], False, _target(_GAP, ei, fi * _VARIANTS + vi))

        regexes.append([(p, compile_regex(p)) for p in watchlist.regexes])
    matcher = CompiledMatcher(
        state, names, terms, queries, exclusions, entities, regexes, problems, scoped_fields, fuzzy
    )
    forget_compile_words()
    return matcher


# -- matching -----------------------------------------------------------------------


@dataclass(slots=True)
class _Field:
    """One field of an item as scanned: text, keys, and (lazily) word offsets."""

    name: str
    text: str
    words: list[str]  # as written
    keys: list[str]
    _starts: list[int] | None = None  # position of the space before each key
    _spans: list[tuple[int, int]] | None = None

    def word_at(self, position: int) -> int:
        """The index of the word whose leading space is at `position` in the scanned text."""
        if self._starts is None:
            self._starts = [0, *accumulate(len(k) + 1 for k in self.keys)]
        return bisect_left(self._starts, position)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Original [start, end) of words first..last-1, without a trailing possessive."""
        if self._spans is None:
            self._spans = word_spans(self.text)
        start, end = self._spans[first][0], self._spans[last - 1][1]
        if end - start > 2 and self.text[end - 1] in "sS" and self.text[end - 2] in APOSTROPHES:
            end -= 2  # "Rosneft's": the hit is "Rosneft"
        return start, end


class CompiledMatcher:
    """Watchlists compiled into one automaton; safe to share between threads (see module)."""

    def __init__(
        self,
        state: _Compiling,
        names: list[str],
        terms: list[list[str]],
        queries: list[_Query],
        exclusions: list[_Query],
        entities: list[_Entity],
        regexes: list[list[tuple[str, Any]]],
        problems: list[WatchlistProblem],
        scoped_fields: set[str],
        fuzzy: bool,
    ) -> None:
        self.watchlists = tuple(names)
        self.problems = tuple(problems)
        self._terms = terms
        self._queries = queries
        self._exclusions = exclusions
        self._entities = entities
        self._regexes = regexes
        self._has_regexes = any(regexes)
        # One int per pattern when it has one target (most do): a third of the memory of
        # lists of tuples at 100,000 entries.
        self._targets: list[int | tuple[int, ...]] = [
            t[0] if len(t) == 1 else tuple(t) for t in state.targets
        ]
        self._lengths = state.lengths
        self._fields = (
            "title",
            "summary",
            "content",
            *(f for f in ("source", "tag") if f in scoped_fields),
        )
        self.term_count = (
            sum(len(t) for t in terms) + len(queries) + len(entities) + sum(map(len, regexes))
        )
        self.pattern_count = len(state.patterns)
        self._key_chars = [0] * len(state.patterns)
        for key, pid in state.patterns.items():
            self._key_chars[pid] = len(key)
        self._automaton: Any = None
        if state.patterns:
            automaton = ahocorasick.Automaton()
            for key, pid in state.patterns.items():
                automaton.add_word(key, pid)
            automaton.make_automaton()
            self._automaton = automaton
        # Fuzzy anchors (see `fuzzy`): name part -> where it stands; parts shared by more
        # than MAX_ANCHOR_NAMES names are left out.
        self._anchors: dict[str, list[int]] = (
            {k: v for k, v in state.anchors.items() if len(v) <= MAX_ANCHOR_NAMES} if fuzzy else {}
        )
        # Key sequences of the forms fuzzy matching checks, computed on first use.
        self._form_keys: dict[int, tuple[str, ...]] = {}
        # Facet value -> queries (exclusions) it may make match; empty without facet queries.
        self._query_facets = {k: frozenset(v) for k, v in state.query_facets.items()}
        self._exclude_facets = {k: frozenset(v) for k, v in state.exclude_facets.items()}
        self._uses_facets = bool(self._query_facets or self._exclude_facets)

    def match(self, item: Item) -> tuple[Match, ...]:
        """See `Matcher.match`."""
        return self.explain(item).matches

    def explain(self, item: Item) -> Explanation:
        """The matches in `item`, and the matches that exclusions removed."""
        fields = self._scan_fields(item)
        hits = self._scan(fields)
        facet_queries, facet_exclusions = _EMPTY, _EMPTY
        if self._uses_facets and item.facets.values:
            facet_queries, facet_exclusions = self._facet_candidates(item.facets)
        record = item.designation if self._entities else None
        if (
            not hits
            and not self._has_regexes
            and not self._anchors
            and not facet_queries
            and record is None
        ):
            return Explanation((), ())
        found: list[tuple[int, int, int, int, Match]] = []
        query_hits: dict[int, dict[Leaf, list[Hit]]] = {}
        exclude_hits: dict[int, dict[Leaf, list[Hit]]] = {}
        entity_hits: dict[int, list[tuple[int, int, int, int, float]]] = {}
        first_term: set[tuple[int, int, int]] = set()
        for pid, fi, first in hits:
            last = first + self._lengths[pid]
            targets = self._targets[pid]
            # Feed names and tags are searched only by queries that ask (`source:`, `tag:`).
            queries_only = fields[fi].name not in DEFAULT_FIELDS
            gap_ok: bool | None = None  # whether a patronymic or initial follows `first`
            for code in (targets,) if isinstance(targets, int) else targets:
                kind, a, b = code >> _KIND_SHIFT, (code >> _A_SHIFT) & _MASK, code & _MASK
                if queries_only and kind not in (_QUERY, _EXCLUDE):
                    continue
                if kind == _TERM:
                    if (a, b, fi) in first_term:
                        continue
                    if last - first > 1 and _possessive_inside(
                        fields[fi], first, last, self._terms[a][b]
                    ):
                        continue
                    first_term.add((a, b, fi))
                    f = fields[fi]
                    start, end = f.span(first, last)
                    found.append(
                        (
                            a,
                            fi,
                            start,
                            b,
                            _make_match(
                                self.watchlists[a],
                                self._terms[a][b],
                                f,
                                start,
                                end,
                                MatchKind.TERM,
                                "",
                                1.0,
                            ),
                        )
                    )
                elif kind == _ENTITY:
                    form_words = self._entities[a].forms[b].words
                    if _all_lower(fields[fi], first, last):
                        continue  # names are capitalised: "progress" is not Progress LLC
                    if last - first > 1 and _possessive_inside(fields[fi], first, last, form_words):
                        continue  # "Iran's air force" is not Iran Air
                    entity_hits.setdefault(a, []).append((b, fi, first, last, 1.0))
                elif kind == _GAP:
                    if gap_ok is None:
                        gap_ok = _gap_follows(fields[fi], first)
                    if not gap_ok:
                        continue
                    gap_end = self._gap_hit(a, b, fields[fi], first)
                    if gap_end is not None:
                        hit = (b // _VARIANTS, fi, first, gap_end, 1.0)
                        entity_hits.setdefault(a, []).append(hit)
                else:
                    bucket = query_hits if kind == _QUERY else exclude_hits
                    queries = self._queries if kind == _QUERY else self._exclusions
                    leaf = queries[a].leaves[b]
                    bucket.setdefault(a, {}).setdefault(leaf, []).append(
                        Hit(fields[fi].name, first, last)
                    )
        if self._anchors:
            self._fuzzy_hits(fields, entity_hits)
        for qi, table in query_hits.items():
            q = self._queries[qi]
            if qi in facet_queries or q.positive.intersection(table):
                found.extend(self._query_matches(qi, table, fields, item.facets))
        for qi in facet_queries:
            if qi not in query_hits:
                found.extend(self._query_matches(qi, _NO_HITS, fields, item.facets))
        if record is not None:
            named = self._designation_matches(record)
            found.extend(named)
            # The record decides for the entities it names (see the module docstring). The
            # others may still match the listed primary name in the title as text (a watched
            # "Rosneft" in "ROSNEFT OIL COMPANY"), never the summary's aliases, where a weak
            # alias would match alone.
            named_ids = {rank - _DESIGNATION_BASE for _, _, _, rank, _ in named}
            title = next((i for i, f in enumerate(fields) if f.name == "title"), -1)
            nameable = _RECORD_KINDS.get(record.kind.casefold(), _NAMEABLE)
            text_hits: dict[int, list[tuple[int, int, int, int, float]]] = {}
            for ei, ent_found in entity_hits.items():
                entity_kind = self._entities[ei].entity.kind
                if ei in named_ids:
                    continue
                if entity_kind is EntityKind.COUNTRY:
                    text_hits[ei] = ent_found
                elif entity_kind in nameable and (
                    in_title := [h for h in ent_found if h[1] == title]
                ):
                    text_hits[ei] = in_title
            entity_hits = text_hits
        for ei, ent_hits in entity_hits.items():
            found.extend(self._entity_matches(ei, ent_hits, fields))
        if self._has_regexes:
            found.extend(self._regex_matches(fields))
        vetoes: list[Veto] = []
        if (exclude_hits or facet_exclusions) and found:
            found, vetoes = self._apply_exclusions(
                found, exclude_hits, facet_exclusions, fields, item.facets
            )
        found.sort(key=lambda f: f[:4])
        return Explanation(tuple(f[4] for f in found), tuple(vetoes))

    def _facet_candidates(self, facets: ItemFacets) -> tuple[frozenset[int], frozenset[int]]:
        """The queries and exclusions that one of the item's facet values may make match."""
        queries: set[int] = set()
        exclusions: set[int] = set()
        for name, values in facets.values.items():
            for value in values:
                key = (name, value.casefold())
                queries.update(self._query_facets.get(key, ()))
                exclusions.update(self._exclude_facets.get(key, ()))
        return frozenset(queries), frozenset(exclusions)

    def _query_matches(
        self, qi: int, table: dict[Leaf, list[Hit]], fields: list[_Field], facets: ItemFacets
    ) -> list[tuple[int, int, int, int, Match]]:
        """The matches of query `qi` if it matches: one per (leaf, hit) that makes it."""
        q = self._queries[qi]
        result = evaluate(q.node, _lookup(table, facets if q.facets else None))
        if result is None:
            return []
        out: list[tuple[int, int, int, int, Match]] = []
        watchlist = self.watchlists[q.watchlist]
        for li, (leaf, where) in enumerate(result):
            order = 1_000_000 + qi * 100 + li
            if isinstance(leaf, Facet):
                m = _facet_match(watchlist, q.text, leaf, facets)
                out.append((q.watchlist, _FACET_RANK, 0, order, m))
                continue
            fi = _field_index(fields, where.field)
            f = fields[fi]
            start, end = f.span(where.start, where.end)
            m = _make_match(
                watchlist,
                q.text,
                f,
                start,
                end,
                MatchKind.QUERY,
                leaf.text + ("*" if leaf.prefix else ""),
                1.0,
            )
            out.append((q.watchlist, fi, start, order, m))
        return out

    def _designation_matches(
        self, record: DesignationRecord
    ) -> list[tuple[int, int, int, int, Match]]:
        """One match per watched entity that a strong name of `record` names (see module)."""
        automaton = self._automaton
        if automaton is None:
            return []
        kinds = _RECORD_KINDS.get(record.kind.casefold(), _NAMEABLE)
        # Vessels take the organisation rules in `entity_forms`: one set of forms does both.
        rules = {
            EntityKind.PERSON if k is EntityKind.PERSON else EntityKind.ORGANIZATION for k in kinds
        }
        named: dict[int, str] = {}  # entity -> the record's name that names it
        for rule in sorted(rules):
            listed = Entity(record.name, rule, aliases=record.aliases)
            for form in entity_forms(listed):
                keys = [text_key(w) for w in form.words]
                seqs = [keys]
                if rule is EntityKind.PERSON:
                    # "РОТЕНБЕРГ Аркадий Романович": lists in Russian order end in the
                    # patronymic, which `entity_forms` keeps at either end.
                    bare = [k for k in keys if not is_patronymic_key(k)]
                    if 2 <= len(bare) < len(keys):
                        seqs.append(bare)
                for seq in seqs:
                    pid = automaton.get(" " + " ".join(seq) + " ", None)
                    if pid is not None:
                        for ei in self._named_by(pid, kinds):
                            named.setdefault(ei, form.source)
        out: list[tuple[int, int, int, int, Match]] = []
        for ei, matched in named.items():
            ent = self._entities[ei]
            text, highlight = _designation_snippet(record, matched)
            m = Match(
                watchlist=self.watchlists[ent.watchlist],
                term=ent.entity.name,
                field=DESIGNATION_FIELD,
                start=0,
                end=0,
                snippet=text,
                kind=MatchKind.ENTITY,
                matched=matched,
                highlight=highlight,
            )
            out.append((ent.watchlist, _DESIGNATION_RANK, 0, _DESIGNATION_BASE + ei, m))
        return out

    def _named_by(self, pid: int, kinds: tuple[EntityKind, ...]) -> Iterator[int]:
        """The entities of `kinds` that pattern `pid` is a strong name form of."""
        targets = self._targets[pid]
        for code in (targets,) if isinstance(targets, int) else targets:
            if code >> _KIND_SHIFT != _ENTITY:
                continue
            ei, fi = (code >> _A_SHIFT) & _MASK, code & _MASK
            ent = self._entities[ei]
            form = ent.forms[fi]
            if ent.entity.kind in kinds and form.strong and not form.identifier:
                yield ei

    def _scan_fields(self, item: Item) -> list[_Field]:
        out = []
        for name in self._fields:
            if name == "source":
                text = item.feed
            elif name == "tag":
                text = TAG_SEPARATOR.join(item.tags)
            else:
                text = getattr(item, name)
            if text:
                text = text[:MAX_FIELD_CHARS]
                if not text.isascii() and _SURROGATE_RE.search(text):
                    # Lone surrogates (broken feeds) cannot be encoded, and RE2 and the
                    # store need UTF-8; one replacement character each keeps offsets.
                    text = _SURROGATE_RE.sub("\ufffd", text)
                found = words(text)
                get = key_cache.get
                out.append(_Field(name, text, found, [get(w) or text_key(w) for w in found]))
        return out

    def _scan(self, fields: list[_Field]) -> list[tuple[int, int, int]]:
        """(pattern, field index, first word index) of every hit in every field."""
        automaton = self._automaton
        if automaton is None:
            return []
        hits: list[tuple[int, int, int]] = []
        chars = self._key_chars
        for fi, f in enumerate(fields):
            if not f.keys:
                continue
            scanned = " " + " ".join(f.keys) + " "
            for end, pid in automaton.iter(scanned):
                hits.append((pid, fi, f.word_at(end - chars[pid] + 1)))
        return hits

    def _fuzzy_hits(
        self, fields: list[_Field], entity_hits: dict[int, list[tuple[int, int, int, int, float]]]
    ) -> None:
        """Add entity forms found around an exact name part with one edit in other parts."""
        anchors = self._anchors
        for fi, f in enumerate(fields):
            if f.name not in DEFAULT_FIELDS:
                continue
            originals = f.words
            tried: set[tuple[int, int, int]] = set()
            # Most words are no name part: find the few that are at C speed first, on the
            # loose spelling of the whole field at once (no key holds a space).
            joined = " ".join(f.keys)
            loosened = loose(joined)
            loose_keys = f.keys if loosened == joined else loosened.split(" ")
            present = anchors.keys() & loose_keys
            if not present:
                continue
            for wi, key in enumerate(loose_keys):
                if key not in present:
                    continue
                # Names are capitalised in cased scripts; "naval" in lower case is a word.
                if originals[wi][:1].islower():
                    continue
                found = anchors[key]
                for packed in found:
                    ei, code, part = packed >> 24, (packed >> 8) & 0xFFFF, packed & 0xFF
                    start = wi - part
                    if (ei, code, start) in tried:
                        continue
                    tried.add((ei, code, start))
                    seq = self._keys_of(ei, code)
                    score = fuzzy_score(seq, f.keys, start)
                    if score is not None:
                        hit = (code // _VARIANTS, fi, start, start + len(seq), score)
                        entity_hits.setdefault(ei, []).append(hit)

    def _gap_hit(self, ei: int, code: int, f: _Field, first: int) -> int | None:
        """End word index if the rest of the form follows the word after `first`."""
        seq = self._keys_of(ei, code)
        end = first + 1 + len(seq)
        if end > len(f.keys):
            return None
        return end if tuple(f.keys[first + 2 : end]) == seq[1:] else None

    def _keys_of(self, ei: int, code: int) -> tuple[str, ...]:
        """One key sequence of a form (`code` = form * _VARIANTS + variant), cached."""
        cache_key = (ei << 16) | code
        seq = self._form_keys.get(cache_key)
        if seq is None:
            seq = self._entities[ei].variants(code // _VARIANTS)[code % _VARIANTS]
            if len(self._form_keys) >= _FUZZY_CACHE_LIMIT:
                self._form_keys.clear()  # bounded; dict operations are atomic under the GIL
            self._form_keys[cache_key] = seq
        return seq

    def _entity_matches(
        self, ei: int, hits: list[tuple[int, int, int, int, float]], fields: list[_Field]
    ) -> list[tuple[int, int, int, int, Match]]:
        ent = self._entities[ei]
        if ent.entity.kind is EntityKind.VESSEL:
            hits = [h for h in hits if self._vessel_context(ent, h, fields)]
        if not any(ent.forms[form_i].strong for form_i, *_ in hits):
            return []  # weak aliases alone never match
        out: list[tuple[int, int, int, int, Match]] = []
        seen: set[tuple[str, int]] = set()
        kept: list[tuple[int, int, int]] = []  # (field, first, last) of the matches so far
        strong = [
            (fi, first, last) for form_i, fi, first, last, _ in hits if ent.forms[form_i].strong
        ]
        # Longest first at each place: "Putin Vladimir Vladimirovich" over "Putin Vladimir".
        for form_i, fi, first, last, score in sorted(
            hits, key=lambda h: (h[1], h[2], h[2] - h[3], -h[4])
        ):
            form = ent.forms[form_i]
            if (form.source, fi) in seen:
                continue
            # One match per mention: "Russian" inside "Russian Federation", or "Putin" inside
            # "Vladimir Putin", adds nothing; an exact hit is kept before a fuzzy one.
            if any(f == fi and a <= first and last <= b for f, a, b in kept):
                continue
            if not form.strong and any(f == fi and a <= first and last <= b for f, a, b in strong):
                continue
            seen.add((form.source, fi))
            kept.append((fi, first, last))
            f = fields[fi]
            start, end = f.span(first, last)
            matched = "" if form.source == ent.entity.name else form.source
            m = _make_match(
                self.watchlists[ent.watchlist],
                ent.entity.name,
                f,
                start,
                end,
                MatchKind.ENTITY,
                matched,
                score,
            )
            out.append((ent.watchlist, fi, start, 2_000_000 + ei, m))
        return out

    @staticmethod
    def _vessel_context(
        ent: _Entity, hit: tuple[int, int, int, int, float], fields: list[_Field]
    ) -> bool:
        form_i, fi, first, last, _ = hit
        if ent.forms[form_i].identifier or len(ent.forms[form_i].words) > 1:
            return True  # an IMO number, or a name of several words ("Kaspian Dawn")
        keys = fields[fi].keys
        window = keys[max(0, first - _VESSEL_WINDOW) : last + _VESSEL_WINDOW]
        return not _VESSEL_CUES.isdisjoint(window)

    def _regex_matches(self, fields: list[_Field]) -> list[tuple[int, int, int, int, Match]]:
        out: list[tuple[int, int, int, int, Match]] = []
        for wi, patterns in enumerate(self._regexes):
            for ri, (pattern, compiled) in enumerate(patterns):
                for fi, f in enumerate(fields):
                    if f.name not in DEFAULT_FIELDS:
                        continue
                    m = compiled.search(f.text)
                    if m is None:
                        continue
                    start, end = m.span()
                    match = _make_match(
                        self.watchlists[wi], pattern, f, start, end, MatchKind.REGEX, "", 1.0
                    )
                    out.append((wi, fi, start, 3_000_000 + ri, match))
        return out

    def _apply_exclusions(
        self,
        found: list[tuple[int, int, int, int, Match]],
        exclude_hits: dict[int, dict[Leaf, list[Hit]]],
        facet_exclusions: frozenset[int],
        fields: list[_Field],
        facets: ItemFacets,
    ) -> tuple[list[tuple[int, int, int, int, Match]], list[Veto]]:
        matched_lists = {f[0] for f in found}
        vetoes: list[Veto] = []
        vetoed: set[int] = set()
        # In watchlist order, so the exclusion reported is the first that applies.
        for qi in sorted(exclude_hits.keys() | facet_exclusions):
            q = self._exclusions[qi]
            if q.watchlist not in matched_lists or q.watchlist in vetoed:
                continue
            table = exclude_hits.get(qi, _NO_HITS)
            if qi not in facet_exclusions and not q.positive.intersection(table):
                continue
            result = evaluate(q.node, _lookup(table, facets if q.facets else None))
            if result is None:
                continue
            vetoed.add(q.watchlist)
            leaf, hit = result[0]
            if isinstance(leaf, Facet):
                where, text = FACET_FIELD, _facet_match("", "", leaf, facets).snippet
            else:
                f = fields[_field_index(fields, hit.field)]
                start, end = f.span(hit.start, hit.end)
                where, (text, _) = f.name, snippet(f.text, start, end)
            removed = tuple(x[4] for x in found if x[0] == q.watchlist)
            vetoes.append(Veto(self.watchlists[q.watchlist], q.text, where, text, removed))
        return [x for x in found if x[0] not in vetoed], vetoes


def _gap_follows(f: _Field, first: int) -> bool:
    """Whether word `first` is capitalised and followed by a patronymic or an initial."""
    if first + 1 >= len(f.keys) or f.words[first][:1].islower():
        return False
    between = f.keys[first + 1]
    return is_patronymic_key(between) or len(between.lstrip(CYRILLIC)) == 1


def _all_lower(f: _Field, first: int, last: int) -> bool:
    """Whether every word of a hit starts with a lower-case letter (a common word)."""
    return all(f.words[k][:1].islower() for k in range(first, last))


def _is_possessive(word: str) -> bool:
    return len(word) > 2 and word[-1] in "sS" and word[-2] in APOSTROPHES


def _possessive_inside(f: _Field, first: int, last: int, written: str | Sequence[str]) -> bool:
    """Whether a hit has a possessive its term does not: "Iran's air force" for Iran Air.

    "Democratic People's Republic of Korea" keeps its own possessive, so that one counts.
    `written` is a term (split into words only when a possessive is found, which is rare)
    or the words of a name form.
    """
    term_words: Sequence[str] | None = None if isinstance(written, str) else written
    for k in range(first, last - 1):
        if _is_possessive(f.words[k]):
            if term_words is None:
                term_words = words(str(written).rstrip("*"))
            offset = k - first
            if offset >= len(term_words) or not _is_possessive(term_words[offset]):
                return True
    return False


def _trigger(node: Node) -> frozenset[Leaf] | None:
    """Positive leaves of which an item must have one for `node` to match; None for a NOT.

    A query is evaluated when one of these is present. Its words are looked up by the
    automaton anyway, so a query whose words alone make such a set (`Navalny issuer:US`)
    needs no facet look-up at all; otherwise an AND is looked up under its rarest facet
    (`issuer:EU target:RU` under `target:RU`), not under each of them.
    """
    if isinstance(node, Phrase | Facet):
        return frozenset((node,))
    if isinstance(node, Near):
        return frozenset((node.left,))
    if isinstance(node, Not):
        return None
    found = [_trigger(child) for child in node.children]
    if isinstance(node, Or):
        covers = [c for c in found if c is not None]
        return frozenset().union(*covers) if len(covers) == len(found) else None
    return min((c for c in found if c is not None), key=_trigger_cost, default=None)


# Facets from the fewest items that have one to the most (a guess): what a query with
# several facets is looked up under.
_FACET_COMMONNESS = {
    name: rank
    for rank, name in enumerate(
        (
            "designation",
            "list",
            "programme",
            "measure",
            "target",
            "action",
            "issuer",
            "sanctions_action",
        ),
        start=1,
    )
}


def _trigger_cost(leaves: frozenset[Leaf]) -> tuple[int, int]:
    facets = [leaf for leaf in leaves if isinstance(leaf, Facet)]
    return sum(_FACET_COMMONNESS.get(f.name, len(_FACET_COMMONNESS)) for f in facets), len(leaves)


def _lookup(
    table: dict[Leaf, list[Hit]], facets: ItemFacets | None = None
) -> Callable[[Leaf], Sequence[Hit]]:
    """Hits of a query's leaves: the scan's, and with `facets` the item's facet values."""
    empty: list[Hit] = []
    if facets is None:
        return lambda leaf: table.get(leaf, empty)

    def hits(leaf: Leaf) -> Sequence[Hit]:
        if isinstance(leaf, Facet):
            return _FACET_HIT if facets.has(leaf.name, leaf.value) else empty
        return table.get(leaf, empty)

    return hits


def _facet_match(watchlist: str, query: str, leaf: Facet, facets: ItemFacets) -> Match:
    """A query's facet leaf the item has, shown with the reason the item has it."""
    wanted = leaf.value.casefold()
    value = next((v for v in facets.get(leaf.name) if v.casefold() == wanted), leaf.value)
    reasons = facets.reasons.get(leaf.name, ())
    return Match(
        watchlist=watchlist,
        term=query,
        field=FACET_FIELD,
        start=0,
        end=0,
        snippet=reasons[0] if reasons else f"{leaf.name}: {value}",
        kind=MatchKind.QUERY,
        matched=f"{leaf.name}:{value}",
        highlight=None,
    )


def _designation_snippet(record: DesignationRecord, matched: str) -> tuple[str, tuple[int, int]]:
    """The change in a line, `us-ofac-sdn: added NAME (PROGRAMME)`, and `matched`'s span in it."""
    head = f"{record.list}: {record.action} {record.name}"
    if matched == record.name:
        at = len(head) - len(record.name)
    else:
        head += ", a.k.a. "
        at = len(head)
        head += matched
    programmes = list(record.programmes[:_MAX_SNIPPET_PROGRAMMES])
    if len(record.programmes) > _MAX_SNIPPET_PROGRAMMES:
        programmes.append(f"+{len(record.programmes) - _MAX_SNIPPET_PROGRAMMES} more")
    tail = f" ({', '.join(programmes)})" if programmes else ""
    return head + tail, (at, at + len(matched))


def _field_index(fields: list[_Field], name: str) -> int:
    for i, f in enumerate(fields):
        if f.name == name:
            return i
    raise LookupError(name)


def _make_match(
    watchlist: str,
    term: str,
    f: _Field,
    start: int,
    end: int,
    kind: MatchKind,
    matched: str,
    score: float,
) -> Match:
    text, highlight = snippet(f.text, start, end)
    return Match(
        watchlist=watchlist,
        term=term,
        field=f.name,
        start=start,
        end=end,
        snippet=text,
        kind=kind,
        matched=matched,
        score=score,
        highlight=highlight,
    )
