"""The FCDO UK Sanctions List XML (the official UK list since the OFSI list closed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from alerts.sources.lists.dates import day, instant, midnight
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
from alerts.sources.lists.xmlstream import Source, children, record_hash, stream, text, texts

LABEL = "UK Sanctions List"

_KINDS = {
    "individual": EntityKind.PERSON,
    "entity": EntityKind.ORGANIZATION,
    "ship": EntityKind.VESSEL,
}


def parse_uk_sanctions_list(source: Source, *, list_name: str = "uk-fcdo") -> Snapshot:
    """Read `Designations/Designation` records; dates are dd/mm/YYYY."""
    published: datetime | None = None

    def entries() -> Iterator[Designation]:
        nonlocal published
        for name, element in stream(
            source,
            list_name=list_name,
            label=LABEL,
            roots=frozenset({"Designations"}),
            records=frozenset({"Designation"}),
            headers=frozenset({"DateGenerated"}),
        ):
            if name == "DateGenerated":
                # Not in every edition; accept dd/mm/YYYY or ISO 8601.
                value = (element.text or "").strip()
                published = midnight(day(value, "%d/%m/%Y")) or instant(value)
            elif name == "Designation":
                yield _designation(list_name, element)

    designations = list(entries())
    return make_snapshot(list_name, LABEL, "Designation", published, designations)


def _designation(list_name: str, element: Any) -> Designation:
    unique_id = text(element, "UniqueID")
    if not unique_id:
        raise ListFormatError(
            list_name, f"{LABEL}: <Designation> at line {element.sourceline} has no <UniqueID>"
        )
    kind = _KINDS.get(text(element, "IndividualEntityShip").lower(), EntityKind.UNKNOWN)
    primary = ""
    aliases: list[Alias] = []
    for name in children(element, "Names/Name"):
        full = _full_name(name, kind)
        name_type = text(name, "NameType").lower()
        quality = f"{name_type} {text(name, 'AliasStrength').lower()}"
        if name_type == "primary name" and not primary:
            primary = full
        else:
            weak = "low quality" in quality
            aliases.append(Alias(full, Strength.WEAK if weak else Strength.STRONG))
    aliases += [
        Alias(value) for value in texts(element, "NonLatinNames/NonLatinName/NameNonLatinScript")
    ]
    if not primary and aliases:
        primary = aliases[0].name  # a record without a "Primary Name" still needs a name
    return Designation(
        list=list_name,
        id=unique_id,
        kind=kind,
        name=primary,
        aliases=unique_aliases(primary, aliases),
        programmes=unique(texts(element, "RegimeName")),
        listed=day(text(element, "DateDesignated"), "%d/%m/%Y"),
        content_hash=record_hash(element),
    )


def _full_name(name: Any, kind: EntityKind) -> str:
    # Name6 is the surname (or the whole name of an entity or ship); Name1..Name5 are given
    # names. People are written "SURNAME, Given Names" as on the published list.
    given = " ".join(p for p in (text(name, f"Name{i}") for i in range(1, 6)) if p)
    surname = text(name, "Name6")
    if kind is EntityKind.PERSON and given and surname:
        return f"{surname}, {given}"
    return " ".join(p for p in (given, surname) if p)
