"""The EU Financial Sanctions Files (FSF) XML export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from alerts.sources.lists.dates import day, instant
from alerts.sources.lists.model import (
    Alias,
    Designation,
    EntityKind,
    ListFormatError,
    Snapshot,
    Strength,
    make_snapshot,
    unique,
    unique_aliases,
)
from alerts.sources.lists.xmlstream import Source, children, record_hash, stream

LABEL = "EU Financial Sanctions Files"

_KINDS = {"person": EntityKind.PERSON, "enterprise": EntityKind.ORGANIZATION}


def parse_eu_fsf(source: Source, *, list_name: str = "eu-fsf") -> Snapshot:
    """Read `export[@generationDate]/sanctionEntity[@logicalId]` records."""
    root: dict[str, str] = {}

    def entries() -> Iterator[Designation]:
        for name, element in stream(
            source,
            list_name=list_name,
            label=LABEL,
            roots=frozenset({"export"}),
            records=frozenset({"sanctionEntity"}),
        ):
            if name == "export":
                root.update(element.attrib)
            else:
                yield _entity(list_name, element)

    designations = list(entries())
    published = instant(root.get("generationDate", ""))
    return make_snapshot(list_name, LABEL, "sanctionEntity", published, designations)


def _entity(list_name: str, element: Any) -> Designation:
    logical_id = (element.get("logicalId") or "").strip()
    if not logical_id:
        raise ListFormatError(
            list_name, f"{LABEL}: <sanctionEntity> at line {element.sourceline} has no logicalId"
        )
    names = [
        Alias(
            " ".join((alias.get("wholeName") or "").split()),
            Strength.WEAK if (alias.get("strong") or "").lower() == "false" else Strength.STRONG,
        )
        for alias in children(element, "nameAlias")
    ]
    # The FSF marks no primary name: the first strong alias (else the first) stands for it.
    primary = next((a.name for a in names if a.strength is Strength.STRONG and a.name), "")
    primary = primary or next((a.name for a in names if a.name), "")
    subject = children(element, "subjectType")
    code = (subject[0].get("code") or "").lower() if subject else ""
    regulations = children(element, "regulation")
    return Designation(
        list=list_name,
        id=logical_id,
        kind=_KINDS.get(code, EntityKind.UNKNOWN),
        name=primary,
        aliases=unique_aliases(primary, names),
        programmes=unique((r.get("programme") or "").strip() for r in regulations),
        listed=day(element.get("designationDate") or "")
        or min(
            (d for r in regulations if (d := day(r.get("publicationDate") or ""))), default=None
        ),
        content_hash=record_hash(element),
    )
