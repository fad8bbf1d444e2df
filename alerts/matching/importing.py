"""Watched entities from OpenSanctions FollowTheMoney JSON lines or from a CSV file.

Pure parsing: the caller opens the file and passes its lines (a text file opened with
`newline=""` suits both formats and keeps quoted multi-line CSV cells intact); nothing
here reads files. Lines are consumed one at a time, so a large export costs the memory
of the entities kept, not of the file.

A line that cannot be used never stops an import: it is skipped and reported as an
`ImportProblem` with its 1-based line number (for a CSV record spanning several lines,
the line it starts on). A name or identifier that cannot be used is dropped and reported
the same way; its entity is kept as long as it has a primary name.

Names are checked as the watchlist compiler checks them (`text_problem`, and at least one
letter or digit), so an imported entity is never rejected later for a name. Within an
entity, names do not repeat ignoring case and spacing: the first spelling wins, strong
names before weak aliases, and runs of whitespace become one space.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

from alerts.domain import Entity, EntityKind
from alerts.matching.keys import words
from alerts.matching.names import MIN_IDENTIFIER, identifier_problem, imo_number
from alerts.matching.terms import MAX_TERM_LENGTH, text_problem

__all__ = [
    "CSV_COLUMNS",
    "FTM_KINDS",
    "MIN_REGISTRATION_LENGTH",
    "ImportProblem",
    "ImportResult",
    "detect_format",
    "parse_entities_csv",
    "parse_ftm",
]


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Why (part of) a line was skipped; `line` is 1-based (a CSV header is line 1)."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The entities read, the lines (or values) skipped with why, the FtM records not watched."""

    entities: tuple[Entity, ...]
    problems: tuple[ImportProblem, ...]
    skipped_schemas: dict[str, int]  # FtM schema (Address, Sanction, ...) -> records skipped


# FtM schemata we watch. The rest of an OpenSanctions export (Sanction, Address, Ownership,
# Family, Identification...) describes watched entities rather than being one.
FTM_KINDS: dict[str, EntityKind] = {
    "Person": EntityKind.PERSON,
    "Organization": EntityKind.ORGANIZATION,
    "Company": EntityKind.ORGANIZATION,
    "LegalEntity": EntityKind.ORGANIZATION,
    "PublicBody": EntityKind.ORGANIZATION,
    "Vessel": EntityKind.VESSEL,
}

# Name properties in the order their values are kept; `name` also gives the primary name.
_FTM_STRONG = ("name", "alias", "previousName")
_FTM_WEAK = ("weakAlias",)

# Identifiers match as exact tokens in news text, so only those that news prints and that
# cannot be mistaken for some other number are kept:
# * a vessel's `imoNumber`: seven digits ending in a check digit, quoted in nearly every
#   story about a sanctioned tanker. (A company's `imoNumber`, its IMO owner number, has
#   another check scheme and is hardly ever printed.)
# * a `registrationNumber` of at least 6 letters and digits, one of them a digit: a Russian
#   OGRN has 13 digits, a UK company number 8 characters, while "1234" or "A12" would turn
#   up in unrelated text as amounts, years or model names. Shorter ones are left out quietly:
#   they are fine data, just not worth looking for.
# `idNumber`, `passportNumber`, `taxNumber` and `innCode` are not read: news rarely prints
# them, and a person's passport number has no business being copied into every alert.
_FTM_IMO = "imoNumber"
_FTM_REGISTRATION = "registrationNumber"
MIN_REGISTRATION_LENGTH = MIN_IDENTIFIER

# "IMO 9123456", "IMO9123456", "IMO: 9123456", "9123456".
_IMO_RE = re.compile(r"^(?:IMO)?\s*:?\s*(\d{7})$", re.IGNORECASE)
_IMO_PREFIX_RE = re.compile(r"^IMO(?![A-Z])", re.IGNORECASE)

# CSV columns read; headers compare case-insensitively, a space or hyphen counting as an
# underscore ("Weak aliases" is `weak_aliases`).
CSV_COLUMNS = ("name", "kind", "aliases", "weak_aliases", "identifiers", "id")
# Multi-valued cells: `;` separates values, and so does a line break inside a quoted cell,
# which is how spreadsheet users put several values in one cell.
_CSV_SPLIT_RE = re.compile(r"[;\r\n]+")
_KIND_SPELLINGS = {"organisation": EntityKind.ORGANIZATION}

_BOM = "\ufeff"
_SHOWN = 60  # characters of a bad value quoted in a problem message


def detect_format(filename: str, first_line: str) -> Literal["ftm", "csv"]:
    """FtM for `.json`, `.jsonl`, `.ndjson` or a first line starting with `{`; else CSV."""
    if PurePath(filename).suffix.lower() in {".json", ".jsonl", ".ndjson"}:
        return "ftm"
    return "ftm" if first_line.lstrip(_BOM + " \t").startswith("{") else "csv"


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…")


def _name_problem(value: str) -> str | None:
    """What the watchlist compiler would reject in this name, if anything."""
    if problem := text_problem(value, "name", MAX_TERM_LENGTH):
        return problem
    if not words(value):
        return "name has no letters or digits"
    return None


def _fold(value: str) -> str:
    return " ".join(value.split()).casefold()


def _imo_digits(value: str) -> tuple[str, str]:
    """(the seven digits, "") or ("", why `value` is not a valid IMO ship number)."""
    m = _IMO_RE.match(value.strip())
    if m is None:
        return "", "not an IMO number (7 digits)"
    if imo_number(m.group(1)) is None:
        return "", "wrong IMO check digit"
    return m.group(1), ""


def _distinctive(registration: str) -> bool:
    return identifier_problem(registration) is None


@dataclass(slots=True)
class _Draft:
    """One entity being read: names and identifiers without repeats, and its problems."""

    line: int
    kind: EntityKind
    names: list[str] = field(default_factory=list)  # names[0] is the primary name
    weak: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    seen_ids: set[str] = field(default_factory=set)

    def skip(self, what: str, value: str, why: str) -> None:
        self.problems.append(ImportProblem(self.line, f"{what} {_shown(value)} skipped: {why}"))

    def add_name(self, value: str, what: str, *, weak: bool = False) -> str | None:
        """Keep `value` unless it repeats a name; if it is unusable, record and return why."""
        if problem := _name_problem(value):
            self.skip(what, value, problem)
            return problem
        key = _fold(value)
        if key not in self.seen:
            self.seen.add(key)
            (self.weak if weak else self.names).append(" ".join(value.split()))
        return None

    def add_identifier(self, value: str) -> None:
        key = _fold(value)
        if key not in self.seen_ids:
            self.seen_ids.add(key)
            self.identifiers.append(" ".join(value.split()))

    def entity(self, ident: str) -> Entity:
        return Entity(
            name=self.names[0],
            kind=self.kind,
            aliases=tuple(self.names[1:]),
            weak_aliases=tuple(self.weak),
            identifiers=tuple(self.identifiers),
            id=ident,
        )


@dataclass(slots=True)
class _Collector:
    entities: list[Entity] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(ImportProblem(line, message))

    def keep(self, draft: _Draft, ident: str) -> None:
        self.problems.extend(draft.problems)
        self.entities.append(draft.entity(ident))

    def result(self) -> ImportResult:
        return ImportResult(tuple(self.entities), tuple(self.problems), self.skipped)


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    it = iter(lines)
    for first in it:
        yield first.removeprefix(_BOM)
        break
    yield from it


# --- FollowTheMoney JSON lines ------------------------------------------------------------


def parse_ftm(lines: Iterable[str]) -> ImportResult:
    """Persons, organisations and vessels from FtM JSON lines (an OpenSanctions export)."""
    out = _Collector()
    for number, line in enumerate(_without_bom(lines), start=1):
        text = line.rstrip()  # a cut-off line then reads "unterminated", not "control character"
        if not text:
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            why = exc.msg.removesuffix(" at")  # "Unterminated string starting at"
            out.problem(number, f"invalid JSON: {why} at column {exc.colno}")
            continue
        if not isinstance(data, dict):
            got = "an array" if isinstance(data, list) else type(data).__name__
            out.problem(number, f"expected one FtM entity (a JSON object) per line, got {got}")
            continue
        _read_ftm_entity(number, data, out)
    return out.result()


def _read_ftm_entity(number: int, data: dict[str, Any], out: _Collector) -> None:
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema:
        if "op" in data and "entity" in data:
            # An OpenSanctions delta line ({"op": "ADD", "entity": {...}}): imported as a
            # list, a delta would (with --replace) drop every entity it does not mention.
            out.problem(
                number,
                "a delta operation, not an entity: import the full export "
                "(entities.ftm.json), not entities.delta.json",
            )
        else:
            out.problem(number, 'no "schema": not a FollowTheMoney entity')
        return
    kind = FTM_KINDS.get(schema)
    if kind is None:
        out.skipped[schema] = out.skipped.get(schema, 0) + 1
        return
    ident = data.get("id")
    ident = ident if isinstance(ident, str) else ""
    props = data.get("properties", {})
    if not isinstance(props, dict):
        out.problem(number, f'{schema} {ident!r} skipped: "properties" is not an object')
        return

    draft = _Draft(number, kind)
    reasons = [draft.add_name(value, "name") for value in _ftm_texts(draft, props, "name")]
    caption = data.get("caption")
    if not draft.names and isinstance(caption, str) and caption.strip():
        reasons.append(draft.add_name(caption, "caption"))
    if not draft.names:
        why = next((f" ({r})" for r in reasons if r), "")
        out.problem(number, f"{schema} {ident!r} skipped: no usable name{why}")
        return
    for prop in (*_FTM_STRONG[1:], *_FTM_WEAK):
        for value in _ftm_texts(draft, props, prop):
            draft.add_name(value, prop, weak=prop in _FTM_WEAK)
    if kind is EntityKind.VESSEL:
        for value in _ftm_texts(draft, props, _FTM_IMO):
            digits, why = _imo_digits(value)
            if digits:
                draft.add_identifier(digits)
            else:
                draft.skip(_FTM_IMO, value, why)
    for value in _ftm_texts(draft, props, _FTM_REGISTRATION):
        if problem := text_problem(value, "identifier"):
            draft.skip(_FTM_REGISTRATION, value, problem)
        elif _distinctive(value):
            draft.add_identifier(value)
    out.keep(draft, ident)


def _ftm_texts(draft: _Draft, props: dict[str, Any], prop: str) -> list[str]:
    """The text values of one FtM property (always a list in FtM; a lone string is let in).

    In OpenSanctions' nested exports other properties hold whole entities; the ones read
    here hold text in every export.
    """
    raw = props.get(prop)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list):
        draft.problems.append(ImportProblem(draft.line, f"{prop} skipped: not a list"))
        return []
    texts = [v for v in raw if isinstance(v, str)]
    if len(texts) < len(raw):
        draft.problems.append(
            ImportProblem(draft.line, f"{prop}: {len(raw) - len(texts)} non-text value(s) skipped")
        )
    return texts


# --- CSV ----------------------------------------------------------------------------------


def parse_entities_csv(
    lines: Iterable[str], *, default_kind: EntityKind = EntityKind.PERSON
) -> ImportResult:
    """Entities from CSV with a header row (name required; kind, aliases, weak_aliases,
    identifiers, id optional; multi-valued cells separated by `;` or line breaks)."""
    out = _Collector()
    reader = csv.reader(_without_bom(lines), strict=True)
    columns: dict[str, int] | None = None
    width = 0
    end = 0  # the last line read; the next record starts on the line after it
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if reader.line_num == end:  # nothing more was read: stop rather than spin
                break
            end = reader.line_num
            out.problem(start, f"bad CSV, record skipped: {exc}")
            continue
        end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = _csv_columns(start, row, out)
            if columns is None:
                return out.result()
            width = len(row)
        else:
            _read_csv_row(start, row, columns, width, default_kind, out)
    if columns is None and not out.problems:
        out.problem(1, f"no header row: expected columns such as {','.join(CSV_COLUMNS)}")
    return out.result()


def _csv_columns(line: int, header: list[str], out: _Collector) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = re.sub(r"[\s-]+", "_", cell.strip().lower())
        if key in CSV_COLUMNS:
            columns.setdefault(key, i)  # a repeated column: the first one counts
    if "name" not in columns:
        found = ", ".join(_shown(cell.strip()) for cell in header)
        out.problem(line, f'no "name" column in the header ({found}): nothing imported')
        return None
    return columns


def _read_csv_row(
    line: int,
    row: list[str],
    columns: dict[str, int],
    width: int,
    default_kind: EntityKind,
    out: _Collector,
) -> None:
    def cell(column: str) -> str:
        i = columns.get(column)
        return row[i].strip() if i is not None and i < len(row) else ""

    if any(extra.strip() for extra in row[width:]):
        # Most likely an unquoted comma in a name, which shifts every later column.
        out.problem(
            line,
            f"row skipped: {len(row)} cells but the header has {width} "
            "(quote a cell that holds a comma)",
        )
        return
    raw_kind = cell("kind")
    try:
        folded = raw_kind.lower()
        kind = _KIND_SPELLINGS.get(folded) or (EntityKind(folded) if folded else default_kind)
    except ValueError:
        kinds = ", ".join(k.value for k in EntityKind)
        out.problem(line, f"row skipped: kind {_shown(raw_kind)} is not one of {kinds}")
        return
    name = cell("name")
    if problem := _name_problem(name):
        out.problem(line, f"row skipped: {problem}")
        return
    draft = _Draft(line, kind)
    draft.add_name(name, "name")
    for value in _csv_values(cell("aliases")):
        draft.add_name(value, "alias")
    for value in _csv_values(cell("weak_aliases")):
        draft.add_name(value, "weak alias", weak=True)
    for value in _csv_values(cell("identifiers")):
        if problem := text_problem(value, "identifier"):
            draft.skip("identifier", value, problem)
        elif _IMO_PREFIX_RE.match(value) or (
            kind is EntityKind.VESSEL and len(value) == 7 and value.isdigit()
        ):
            # An IMO number must be a valid one: the watchlist check refuses a wrong check
            # digit, and one bad number must not block the whole import. (A vessel's
            # 9-digit MMSI passes as is.)
            digits, why = _imo_digits(value)
            if digits:
                draft.add_identifier(digits)
            else:
                draft.skip("identifier", value, why)
        elif problem := identifier_problem(value):
            draft.skip("identifier", value, problem)
        else:
            draft.add_identifier(value)
    out.keep(draft, cell("id"))


def _csv_values(text: str) -> list[str]:
    return [v.strip() for v in _CSV_SPLIT_RE.split(text) if v.strip()]
