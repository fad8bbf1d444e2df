"""Records shared by every list format: designations, snapshots, changes, diffs, errors."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from alerts.errors import ParseError, SourceError


class EntityKind(enum.StrEnum):
    """What a designation names."""

    PERSON = "person"
    ORGANIZATION = "organization"
    VESSEL = "vessel"
    AIRCRAFT = "aircraft"
    UNKNOWN = "unknown"


class Strength(enum.StrEnum):
    """How much an alias identifies its holder (SOURCES.md "Alias strength")."""

    STRONG = "strong"
    WEAK = "weak"  # "low quality": too common to alert on alone


class Action(enum.StrEnum):
    """What happened to a designation between two versions of a list."""

    ADDED = "added"
    AMENDED = "amended"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Alias:
    """Another name of a designated entity; `previous` marks an f.k.a. (former name)."""

    name: str
    strength: Strength = Strength.STRONG
    previous: bool = False


@dataclass(frozen=True, slots=True)
class Designation:
    """One entry of a sanctions list, keyed by the publisher's stable id."""

    list: str
    id: str
    kind: EntityKind
    name: str
    aliases: tuple[Alias, ...] = ()
    programmes: tuple[str, ...] = ()
    listed: date | None = None
    # Hash of the whole source record (names, addresses, identifiers...), independent of
    # namespaces and whitespace, so any change in the publisher's entry is noticed.
    content_hash: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A full list as one file published it."""

    list: str
    published: datetime | None  # timezone-aware UTC; midnight when the file gives a date only
    records: Mapping[str, Designation]
    declared_count: int | None = None  # the file's own record count, when it states one
    entry_count: int = 0  # entries read, duplicates of an id included (compared with the above)


@dataclass(frozen=True, slots=True)
class Change:
    """One designation added, amended or removed.

    `designation` is the entry as now listed (as last listed, for a removal); it is None when
    a delta names only an id. For amendments found by `diff`, `previous` is the old entry and
    `changed` names what differs: "kind", "name", "aliases", "programmes", "listed" or
    "details" (something else in the record, such as an address).
    """

    list: str
    action: Action
    id: str
    designation: Designation | None
    previous: Designation | None = None
    changed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListDiff:
    """What changed between two snapshots. A baseline diff (no previous snapshot) is empty."""

    list: str
    baseline: bool = False
    added: tuple[Change, ...] = ()
    amended: tuple[Change, ...] = ()
    removed: tuple[Change, ...] = ()
    changes: tuple[Change, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", self.added + self.amended + self.removed)


class ListFormatError(ParseError):
    """A list file is not in the expected format, is malformed, or was cut short."""


class ListDiffRefused(SourceError):
    """Two snapshots were not diffed because the result could not be trusted."""


def content_hash(parts: Iterable[str]) -> str:
    """A stable hex digest of a sequence of strings (separators cannot collide with text)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Delta:
    """A publisher's own change file (OFAC SLS, OpenSanctions): changes, no full list."""

    list: str
    published: datetime | None
    changes: tuple[Change, ...]


def make_snapshot(
    list_name: str,
    label: str,
    record: str,
    published: datetime | None,
    designations: Iterable[Designation],
    declared_count: int | None = None,
) -> Snapshot:
    """Key designations by id; an official list is never empty, so no records is an error."""
    records: dict[str, Designation] = {}
    count = 0
    for designation in designations:
        records[designation.id] = designation  # a repeated id keeps its last entry
        count += 1
    if not records:
        raise ListFormatError(list_name, f"{label}: the file holds no <{record}> records")
    return Snapshot(list_name, published, records, declared_count, count)


def unique_aliases(name: str, aliases: Iterable[Alias]) -> tuple[Alias, ...]:
    """Drop empty aliases, repeats and the primary name itself, keeping the first seen."""
    seen = {name.casefold()}
    out = []
    for alias in aliases:
        key = alias.name.casefold()
        if alias.name and key not in seen:
            seen.add(key)
            out.append(alias)
    return tuple(out)


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Non-empty values in first-seen order without repeats."""
    return tuple(dict.fromkeys(v for v in values if v))
