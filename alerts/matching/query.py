"""Watchlist boolean queries: parse them with column-precise errors, evaluate them on hits.

Syntax, from the tightest binding to the loosest (parentheses group as usual):

- a word `Navalny`, a quoted phrase `"sanctions against Russia"` (or `“…”`); a trailing `*`
  makes the last word a prefix: `sanction*`, `"economic sanction*"`. Quoting takes a word
  literally: `"AND"`, `"https://example.com"`.
- a field scope before a word, phrase or group: `title:Russia`, `tag:"oil price"`,
  `title:(Russia OR Belarus)`. Fields are title, summary, content, source and tag (any
  case); unscoped words look in title, summary and content. A colon after anything but
  letters (and `_`) is part of the word (`12:30`); after unknown letters (`body:x`) it is
  an error.
- a facet filter `name:value`, on what the classifier or an official list says the item is
  (`alerts.domain.FACET_NAMES`, any case): `issuer:EU`, `target:RU`, `sanctions_action:true`,
  `measure:asset_freeze`, `list:us-ofac-sdn`, `programme:RUSSIA-EO14024`,
  `designation:added`. The value is a word or a quoted phrase compared whole, ignoring case
  (no `*`); a group gives one facet several: `issuer:(EU OR UK)`, `target:(RU -BY)`.
  Values that can never occur are errors: `sanctions_action` is true or false; `action`,
  `measure` and `designation` take the classifier's and lists' words (`FACET_VALUES`;
  `-` or a space may stand for `_`: `measure:"asset freeze"`); `target` takes an ISO 3166
  code (`RU`, `UA-43`), a country name or demonym (`target:Russia` is `target:RU`), or a
  regime (`TERRORISM`, ...). `issuer`, `list` and `programme` take any value. A facet is
  not a word: it cannot stand in a NEAR.
- proximity between two words or phrases: `"sanctions" NEAR/10 Russia` (either order, at most
  10 words between), `NEAR` alone is `NEAR/10`, `ONEAR/3` wants the left one first.
- `NOT x` or `-x` (no space after the `-`) for a word, phrase, facet, proximity or group.
- `AND`, or nothing at all: `sanctions Russia` is `sanctions AND Russia`.
- `OR`.

Only upper-case AND, OR, NOT, NEAR, ONEAR are operators; `and`, `or`, `not` are words. So
`sanctions Russia OR Belarus -football` reads `(sanctions AND Russia) OR (Belarus AND NOT
football)`, and `-fine NEAR/2 parking` reads `NOT (fine NEAR/2 parking)`. More examples:

    "sanctions against Russia" OR (sanction* title:(Russia OR Belarus))
    Navalny -source:tass
    "asset freeze" ONEAR/5 (bank*) NOT "football club"
    issuer:EU AND target:RU AND sanctions_action:true
    list:us-ofac-sdn AND programme:RUSSIA-EO14024 AND designation:added

A query must be satisfiable only by finding something: `NOT sport`, `-x -y`,
`NOT issuer:US` and `Russia OR -sport` are errors, so every match has at least one hit to
show. A facet counts as something found: a query of facets alone (`list:us-ofac-sdn`)
follows every item that has them. Limits: 1000 characters, 64 words, phrases and facet
values, 32 levels of parentheses and NOTs. Tab and newline count as spaces; other control
characters are errors. Error columns are 1-based positions in the whole string.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import Enum
from typing import TypeAlias, assert_never

from alerts.domain import FACET_NAMES
from alerts.matching.countries import find_country

__all__ = [
    "DEFAULT_FIELDS",
    "DEFAULT_NEAR_DISTANCE",
    "FACET_FIELD",
    "FACET_VALUES",
    "FIELDS",
    "MAX_DEPTH",
    "MAX_LEAVES",
    "MAX_NEAR_DISTANCE",
    "MAX_QUERY_LENGTH",
    "TARGET_REGIMES",
    "And",
    "Facet",
    "Hit",
    "Leaf",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "QueryError",
    "evaluate",
    "leaves",
    "parse_query",
    "positive_leaves",
]

FIELDS = ("title", "summary", "content", "source", "tag")
DEFAULT_FIELDS = ("title", "summary", "content")  # where an unscoped leaf looks
FACET_FIELD = "facet"  # the `Hit.field` of a facet leaf the item has

# The values a closed facet can take (the classifier's ActionType and Measure, the lists'
# actions); any other value could never match, so a query naming one is refused.
FACET_VALUES: Mapping[str, tuple[str, ...]] = {
    "sanctions_action": ("true", "false"),
    "action": (
        "designation",
        "package",
        "extension",
        "delisting",
        "general_licence",
        "export_listing",
        "visa_restriction",
    ),
    "measure": (
        "asset_freeze",
        "travel_ban",
        "export_control",
        "arms_embargo",
        "sectoral",
        "delisting",
        "licence",
    ),
    "designation": ("added", "amended", "removed"),
}
# Thematic regimes the classifier files as targets beside country codes.
TARGET_REGIMES = ("TERRORISM", "CYBER", "HUMAN_RIGHTS", "NARCOTICS")

MAX_QUERY_LENGTH = 1000
MAX_LEAVES = 64
MAX_DEPTH = 32
DEFAULT_NEAR_DISTANCE = 10
MAX_NEAR_DISTANCE = 100


@dataclass(frozen=True, slots=True)
class Phrase:
    """A leaf: one word or a quoted phrase, as written (without quotes and trailing `*`)."""

    text: str  # words separated by single spaces
    prefix: bool  # trailing '*': the last word is a prefix
    fields: tuple[str, ...]  # DEFAULT_FIELDS unless scoped
    # 1-based column of the word or opening quote. Not part of equality: "Russia" twice
    # in one query is one leaf, with one set of hits.
    column: int = dataclass_field(compare=False)


@dataclass(frozen=True, slots=True)
class Facet:
    """A leaf on the item's facets: `issuer:EU` matches an item whose issuer is EU."""

    name: str  # one of FACET_NAMES
    value: str  # compared ignoring case; closed facets and targets in their canonical form
    column: int = dataclass_field(compare=False)  # 1-based column of the value


@dataclass(frozen=True, slots=True)
class And:
    """Every child matches."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one child matches."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The child does not match."""

    child: Node


@dataclass(frozen=True, slots=True)
class Near:
    """Both leaves occur in one field with at most `distance` words between them."""

    left: Phrase
    right: Phrase
    distance: int
    ordered: bool  # ONEAR: left must come first


Leaf: TypeAlias = Phrase | Facet
Node: TypeAlias = Phrase | Facet | And | Or | Not | Near


@dataclass(frozen=True, slots=True)
class Hit:
    """Where the engine found a leaf: a field and the token span [start, end) in it.

    A facet leaf the item has is one hit in `FACET_FIELD`, at 0-0.
    """

    field: str
    start: int
    end: int


class QueryError(ValueError):
    """A query that cannot be parsed; `str(e)` is `col N: message`."""

    def __init__(self, column: int, message: str) -> None:
        super().__init__(f"col {column}: {message}")
        self.column = column
        self.message = message

    def __reduce__(self) -> tuple[type[QueryError], tuple[int, str]]:
        return QueryError, (self.column, self.message)


# --- lexing ------------------------------------------------------------------------------


class _Kind(Enum):
    WORD = "word"
    PHRASE = "phrase"
    FIELD = "field"
    LPAREN = "("
    RPAREN = ")"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    MINUS = "-"
    NEAR = "NEAR"
    EOF = "end"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    column: int
    text: str = ""  # leaf text, field name, or the operator as written
    prefix: bool = False
    distance: int = 0
    ordered: bool = False


_QUOTES = frozenset('"“”')
_WORD_STOPS = _QUOTES | {"(", ")"}
_SPACE_CONTROLS = frozenset("\t\n\r")  # multi-line queries in config files are fine
_OPERATORS = {"AND": _Kind.AND, "OR": _Kind.OR, "NOT": _Kind.NOT}
_NEAR_RE = re.compile(r"(O?NEAR)(?:/(.*))?", re.DOTALL)
_TERM_STARTS = frozenset(
    {_Kind.WORD, _Kind.PHRASE, _Kind.FIELD, _Kind.LPAREN, _Kind.NOT, _Kind.MINUS}
)


def _tokens(text: str) -> Iterator[_Token]:
    """Tokens left to right, then EOF; lazily, so the leftmost error is the one reported."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        column = i + 1
        if ch.isspace():
            i += 1
        elif ch in "()":
            yield _Token(_Kind.LPAREN if ch == "(" else _Kind.RPAREN, column)
            i += 1
        elif ch in _QUOTES:
            close = next((j for j in range(i + 1, n) if text[j] in _QUOTES), -1)
            if close < 0:
                raise QueryError(column, "unterminated quote")
            inner = text[i + 1 : close]
            if not inner.strip():
                raise QueryError(column, "empty phrase")
            yield _leaf_token(_Kind.PHRASE, inner, column, column + 1)
            i = close + 1
            if i < n and text[i] == "*":
                raise QueryError(i + 1, "put the '*' inside the quotes")
        elif ch == "-":
            # A spaced-out dash ("Biden - Putin") is more likely punctuation than NOT.
            if i + 1 == n or text[i + 1].isspace():
                raise QueryError(column, "'-' needs a word, phrase or group right after it")
            yield _Token(_Kind.MINUS, column, "-")
            i += 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in _WORD_STOPS:
                end += 1
            word = text[i:end]
            colon = word.find(":")
            if word in _OPERATORS:
                yield _Token(_OPERATORS[word], column, word)
            elif match := _NEAR_RE.fullmatch(word):
                yield _near_token(word, match.group(1), match.group(2), column)
            elif colon >= 0 and (field := _scope(word[:colon], column)):
                yield _Token(_Kind.FIELD, column, field)
                end = i + colon + 1  # lex what follows the colon on its own
            else:
                yield _leaf_token(_Kind.WORD, word, column, column)
            i = end
    yield _Token(_Kind.EOF, n + 1)


_UNKNOWN_SCOPE = f"(use {', '.join(FIELDS)}, or a facet: {', '.join(FACET_NAMES)})"


def _scope(name: str, column: int) -> str | None:
    """The field or facet `name:` scopes to; None when the colon is part of a word (`12:30`)."""
    lower = name.lower()
    if lower in FIELDS or lower in FACET_NAMES:
        return lower
    if name.replace("_", "").isalpha():
        raise QueryError(column, f"unknown field '{name}' {_UNKNOWN_SCOPE}")
    return None


def _facet_value(name: str, tok: _Token) -> str:
    """The value a facet leaf compares with; QueryError if the item could never have it."""
    value = tok.text
    if tok.prefix:
        raise QueryError(tok.column, f"{name}: a facet value is compared whole; drop the '*'")
    if name == "target":
        country = find_country(value)
        if country is not None:
            return country.code
        regime = value.upper().replace("-", "_").replace(" ", "_")
        if regime in TARGET_REGIMES:
            return regime
        raise QueryError(
            tok.column,
            f"target: '{value}' is no country code, country name or regime"
            f" ({', '.join(TARGET_REGIMES)})",
        )
    allowed = FACET_VALUES.get(name)
    if allowed is None:
        return value
    canonical = value.casefold().replace("-", "_").replace(" ", "_").replace("license", "licence")
    if canonical not in allowed:
        raise QueryError(tok.column, f"{name}: '{value}' never occurs (use {', '.join(allowed)})")
    return canonical


def _near_token(word: str, op: str, distance: str | None, column: int) -> _Token:
    if distance is None:
        value = DEFAULT_NEAR_DISTANCE
    elif not distance:
        raise QueryError(column, f"{word}: distance is missing (for example {op}/10)")
    elif distance.isascii() and distance.isdigit() and 1 <= int(distance) <= MAX_NEAR_DISTANCE:
        value = int(distance)
    else:
        raise QueryError(column, f"{word}: distance must be 1..{MAX_NEAR_DISTANCE}")
    return _Token(_Kind.NEAR, column, word, distance=value, ordered=op == "ONEAR")


def _leaf_token(kind: _Kind, raw: str, column: int, raw_column: int) -> _Token:
    """A WORD or PHRASE token; `raw_column` is where `raw` starts, to point at a bad '*'."""
    what = "word" if kind is _Kind.WORD else "phrase"
    body = raw.rstrip()
    prefix = body.endswith("*")
    stem = body[:-1] if prefix else body
    if (star := stem.find("*")) >= 0:
        raise QueryError(raw_column + star, f"'*' is only allowed at the end of a {what}")
    if prefix and (not stem or stem[-1].isspace()):
        raise QueryError(
            raw_column + len(stem), "a bare '*' matches everything; put it after a word (sanction*)"
        )
    # The engine's words are runs of letters and digits: without any there is nothing to find.
    if not any(ch.isalnum() for ch in stem):
        shown = f"'{raw}'" if kind is _Kind.WORD else "phrase"
        raise QueryError(column, f"{shown} has no letters or digits")
    return _Token(kind, column, " ".join(stem.split()), prefix=prefix)


# --- parsing -----------------------------------------------------------------------------


def parse_query(text: str) -> Node:
    """The query tree for `text`; raises QueryError pointing at the first problem."""
    if not text.strip():
        raise QueryError(1, "query is empty")
    if (length := len(text.rstrip())) > MAX_QUERY_LENGTH:
        raise QueryError(
            MAX_QUERY_LENGTH + 1,
            f"query is too long ({length} characters, at most {MAX_QUERY_LENGTH})",
        )
    for i, ch in enumerate(text):
        if ch not in _SPACE_CONTROLS and (ch < " " or "\x7f" <= ch <= "\x9f"):
            raise QueryError(i + 1, f"control character U+{ord(ch):04X}")
    return _Parser(text).parse()


class _Parser:
    """Recursive descent: or := and (OR and)*; and := unary ([AND] unary)*;
    unary := (NOT | -)* near; near := primary [NEAR primary];
    primary := [field: | facet:] (word | phrase | '(' or ')')."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._tok = next(self._tokens)
        self._leaf_count = 0
        self._depth = 0
        # Start column of each inner node, for errors about a whole subtree. The node is kept
        # in the value so that its id() cannot be reused while parsing.
        self._starts: dict[int, tuple[Node, int]] = {}

    def parse(self) -> Node:
        first = self._tok.column
        node = self._or(None)
        if self._at(_Kind.RPAREN):
            raise QueryError(self._tok.column, "unbalanced parenthesis")
        assert self._at(_Kind.EOF)
        if not _anchored(node):
            if isinstance(node, Or):
                branch = next(child for child in node.children if not _anchored(child))
                raise QueryError(
                    self._start(branch),
                    "each OR branch needs at least one word or phrase that is not negated",
                )
            raise QueryError(first, "query needs at least one word or phrase that is not negated")
        return node

    def _at(self, *kinds: _Kind) -> bool:
        # A method, not `self._tok.kind in ...`, so mypy does not keep a stale narrowing.
        return self._tok.kind in kinds

    def _advance(self) -> _Token:
        tok = self._tok
        self._tok = next(self._tokens)
        return tok

    def _mark(self, node: Node, column: int) -> Node:
        # Outer marks come last and win: a group starts at its '(' or its field scope.
        self._starts[id(node)] = (node, column)
        return node

    def _start(self, node: Node) -> int:
        if isinstance(node, Phrase | Facet):
            return node.column
        return self._starts[id(node)][1]

    def _enter(self, column: int) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise QueryError(
                column, f"nested too deeply (at most {MAX_DEPTH} levels of parentheses and NOTs)"
            )

    def _need_term(self, op: _Token, message: str) -> None:
        if not self._at(*_TERM_STARTS):
            raise QueryError(op.column, message)

    def _or(self, scope: str | None) -> Node:
        column = self._tok.column
        branches = [self._and(scope)]
        while self._at(_Kind.OR):
            op = self._advance()
            self._need_term(op, "OR needs a term on both sides")
            branches.append(self._and(scope))
        if len(branches) == 1:
            return branches[0]
        flat = [c for b in branches for c in (b.children if isinstance(b, Or) else (b,))]
        return self._mark(Or(tuple(flat)), column)

    def _and(self, scope: str | None) -> Node:
        column = self._tok.column
        items = [self._unary(scope)]
        while True:
            if self._at(_Kind.AND):
                op = self._advance()
                self._need_term(op, "AND needs a term on both sides")
            elif not self._at(*_TERM_STARTS):
                break
            items.append(self._unary(scope))
        if len(items) == 1:
            return items[0]
        flat = [c for i in items for c in (i.children if isinstance(i, And) else (i,))]
        return self._mark(And(tuple(flat)), column)

    def _unary(self, scope: str | None) -> Node:
        negations: list[_Token] = []
        while self._at(_Kind.NOT, _Kind.MINUS):
            op = self._advance()
            self._enter(op.column)
            if op.kind is _Kind.NOT:
                self._need_term(op, "NOT needs a term after it")
            else:
                self._need_term(op, "'-' needs a word, phrase or group right after it")
            negations.append(op)
        node = self._near(scope)
        for op in reversed(negations):
            node = self._mark(Not(node), op.column)
        self._depth -= len(negations)
        return node

    def _near(self, scope: str | None) -> Node:
        column = self._tok.column
        left = self._primary(scope)
        if not self._at(_Kind.NEAR):
            return left
        op = self._advance()
        what = f"{op.text} needs a word or phrase on each side"
        if not isinstance(left, Phrase):
            raise QueryError(column, f"{what}, not {_what(left)}")
        if self._at(_Kind.NOT, _Kind.MINUS):
            raise QueryError(self._tok.column, f"{what}, not a negation")
        self._need_term(op, f"{op.text} needs a term on both sides")
        column = self._tok.column
        right = self._primary(scope)
        if not isinstance(right, Phrase):
            raise QueryError(column, f"{what}, not {_what(right)}")
        if self._at(_Kind.NEAR):
            raise QueryError(
                self._tok.column, f"{self._tok.text} cannot follow another NEAR; join them with AND"
            )
        return Near(left, right, op.distance, op.ordered)

    def _primary(self, scope: str | None) -> Node:
        tok = self._tok
        if tok.kind is _Kind.FIELD:
            self._advance()
            if scope is not None and tok.text != scope:
                raise QueryError(
                    tok.column, f"{tok.text}: inside {scope}:(...); a word has only one field"
                )
            if not self._at(_Kind.WORD, _Kind.PHRASE, _Kind.LPAREN):
                what = "a value or group" if tok.text in FACET_NAMES else "a word, phrase or group"
                raise QueryError(tok.column, f"{tok.text}: needs {what} after it")
            return self._mark(self._primary(tok.text), tok.column)
        if tok.kind in (_Kind.WORD, _Kind.PHRASE):
            self._advance()
            self._leaf_count += 1
            if self._leaf_count > MAX_LEAVES:
                raise QueryError(tok.column, f"too many words and phrases (at most {MAX_LEAVES})")
            if scope in FACET_NAMES:
                return Facet(scope, _facet_value(scope, tok), tok.column)
            fields = DEFAULT_FIELDS if scope is None else (scope,)
            return Phrase(tok.text, tok.prefix, fields, tok.column)
        if tok.kind is _Kind.LPAREN:
            self._advance()
            self._enter(tok.column)
            if self._at(_Kind.RPAREN):
                raise QueryError(tok.column, "empty parentheses")
            node = self._or(scope)
            if not self._at(_Kind.RPAREN):
                raise QueryError(tok.column, "unbalanced parenthesis")
            self._advance()
            self._depth -= 1
            return self._mark(node, tok.column)
        if tok.kind in (_Kind.AND, _Kind.OR, _Kind.NEAR):
            raise QueryError(tok.column, f"{tok.text} needs a term on both sides")
        if tok.kind is _Kind.RPAREN:
            raise QueryError(tok.column, "unbalanced parenthesis")
        raise QueryError(tok.column, "expected a word, phrase or group")


def _what(node: Node) -> str:
    return "a facet" if isinstance(node, Facet) else "a group"


def _anchored(node: Node) -> bool:
    """Whether every way of matching `node` finds at least one leaf (not just absences)."""
    if isinstance(node, Phrase | Facet | Near):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_anchored(child) for child in node.children)
    if isinstance(node, Or):
        return all(_anchored(child) for child in node.children)
    assert_never(node)


# --- leaves ------------------------------------------------------------------------------
# A leaf is its own key: `column` takes no part in equality, so "Russia" twice in one query
# is one leaf, and a Phrase never equals a Facet.


def _collect(node: Node, out: list[Leaf], *, negated: bool) -> None:
    if isinstance(node, Phrase | Facet):
        out.append(node)
    elif isinstance(node, Near):
        out += (node.left, node.right)
    elif isinstance(node, Not):
        if negated:
            _collect(node.child, out, negated=negated)
    elif isinstance(node, And | Or):
        for child in node.children:
            _collect(child, out, negated=negated)
    else:
        assert_never(node)


def _unique(found: list[Leaf]) -> tuple[Leaf, ...]:
    return tuple(dict.fromkeys(found))  # the first of equal leaves is the one kept


def leaves(node: Node) -> tuple[Leaf, ...]:
    """Every leaf in query order, the first of each (text, prefix, fields) or facet value."""
    found: list[Leaf] = []
    _collect(node, found, negated=True)
    return _unique(found)


def positive_leaves(node: Node) -> tuple[Leaf, ...]:
    """The leaves not under a NOT, in query order, the first of each."""
    found: list[Leaf] = []
    _collect(node, found, negated=False)
    return _unique(found)


# --- evaluation --------------------------------------------------------------------------

_Pairs: TypeAlias = tuple[tuple[Leaf, Hit], ...]
_FIELD_RANK = {field: rank for rank, field in enumerate(FIELDS)}


def _hit_order(hit: Hit) -> tuple[int, int, int]:
    return _FIELD_RANK.get(hit.field, len(FIELDS)), hit.start, hit.end


def evaluate(node: Node, hits: Callable[[Leaf], Sequence[Hit]]) -> _Pairs | None:
    """None if the query does not match, else the (leaf, hit) pairs that make it match.

    `hits(leaf)` gives every occurrence of a leaf in any field (for a facet the item has,
    one hit in `FACET_FIELD`); it is called at most once per distinct leaf. A leaf's
    "first" hit is the earliest in field order title, summary, content, source, tag, then
    by position, whatever order `hits` returns.
    """
    cache: dict[Leaf, list[Hit]] = {}

    def lookup(leaf: Leaf) -> list[Hit]:
        found = cache.get(leaf)
        if found is None:
            if isinstance(leaf, Facet):
                found = [h for h in hits(leaf) if h.field == FACET_FIELD][:1]
            else:
                found = sorted((h for h in hits(leaf) if h.field in leaf.fields), key=_hit_order)
            cache[leaf] = found
        return found

    pairs = _evaluate(node, lookup)
    if pairs is None:
        return None
    # `a AND (a OR b)` would show the same hit twice.
    return tuple(dict.fromkeys(pairs))


def _evaluate(node: Node, lookup: Callable[[Leaf], list[Hit]]) -> _Pairs | None:
    if isinstance(node, Phrase | Facet):
        found = lookup(node)
        return ((node, found[0]),) if found else None
    if isinstance(node, And):
        pairs: list[tuple[Leaf, Hit]] = []
        for child in node.children:
            got = _evaluate(child, lookup)
            if got is None:
                return None
            pairs += got
        return tuple(pairs)
    if isinstance(node, Or):
        for child in node.children:
            if (got := _evaluate(child, lookup)) is not None:
                return got
        return None
    if isinstance(node, Not):
        return None if _evaluate(node.child, lookup) is not None else ()
    if isinstance(node, Near):
        pair = _closest(node, lookup(node.left), lookup(node.right))
        return None if pair is None else ((node.left, pair[0]), (node.right, pair[1]))
    assert_never(node)


def _closest(near: Near, lefts: list[Hit], rights: list[Hit]) -> tuple[Hit, Hit] | None:
    """The closest non-overlapping (left, right) hits in one field within the distance.

    Only the nearest right hit after (and, unordered, before) each left hit can be the
    closest, so two bisections per left hit replace comparing every pair.
    """
    by_field: dict[str, list[Hit]] = {}
    for hit in rights:  # sorted by field, start, end
        by_field.setdefault(hit.field, []).append(hit)
    index: dict[str, tuple[list[Hit], list[int], list[Hit], list[int]]] = {}
    for field, after in by_field.items():
        before = sorted(after, key=lambda h: (h.end, h.start))
        index[field] = (after, [h.start for h in after], before, [h.end for h in before])
    best: tuple[tuple[int, int, int, int, int], Hit, Hit] | None = None
    for left in lefts:
        if left.field not in index:
            continue
        after, starts, before, ends = index[left.field]
        candidates = []
        if (i := bisect_left(starts, left.end)) < len(after):
            candidates.append((after[i].start - left.end, after[i]))
        if not near.ordered and (j := bisect_right(ends, left.start) - 1) >= 0:
            candidates.append((left.start - before[j].end, before[j]))
        for gap, right in candidates:
            if gap > near.distance:
                continue
            rank = (
                gap,
                _FIELD_RANK[left.field],
                min(left.start, right.start),
                left.start,
                right.start,
            )
            if best is None or rank < best[0]:
                best = (rank, left, right)
    return None if best is None else (best[1], best[2])
