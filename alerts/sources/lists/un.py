"""The UN Security Council consolidated list XML."""

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
from alerts.sources.lists.xmlstream import Source, children, record_hash, stream, text, texts

LABEL = "UN consolidated list"

_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def parse_un_consolidated(source: Source, *, list_name: str = "un-consolidated") -> Snapshot:
    """Read `CONSOLIDATED_LIST[@dateGenerated]` with its INDIVIDUAL and ENTITY records."""
    root: dict[str, str] = {}

    def entries() -> Iterator[Designation]:
        for name, element in stream(
            source,
            list_name=list_name,
            label=LABEL,
            roots=frozenset({"CONSOLIDATED_LIST"}),
            records=frozenset({"INDIVIDUAL", "ENTITY"}),
        ):
            if name == "CONSOLIDATED_LIST":
                root.update(element.attrib)
            else:
                yield _record(list_name, name, element)

    designations = list(entries())
    published = instant(root.get("dateGenerated", ""))
    return make_snapshot(list_name, LABEL, "INDIVIDUAL", published, designations)


def _record(list_name: str, tag: str, element: Any) -> Designation:
    data_id = text(element, "DATAID")
    if not data_id:
        raise ListFormatError(
            list_name, f"{LABEL}: <{tag}> at line {element.sourceline} has no <DATAID>"
        )
    name = " ".join(p for p in (text(element, part) for part in _NAME_PARTS) if p)
    aliases = []
    for alias in children(element, f"{tag}_ALIAS"):
        quality = text(alias, "QUALITY").lower()
        aliases.append(
            Alias(
                text(alias, "ALIAS_NAME"),
                Strength.WEAK if quality == "low" else Strength.STRONG,
                previous=quality == "f.k.a.",
            )
        )
    aliases += [Alias(value) for value in texts(element, "NAME_ORIGINAL_SCRIPT")]
    return Designation(
        list=list_name,
        id=data_id,
        kind=EntityKind.PERSON if tag == "INDIVIDUAL" else EntityKind.ORGANIZATION,
        name=name,
        aliases=unique_aliases(name, aliases),
        programmes=unique(texts(element, "UN_LIST_TYPE")),
        listed=day(text(element, "LISTED_ON")),
        content_hash=record_hash(element),
    )
