"""OFAC: the legacy SDN XML (full list) and the Sanctions List Service delta XML."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from alerts.sources.lists.dates import day, instant, midnight
from alerts.sources.lists.model import (
    Action,
    Alias,
    Change,
    Delta,
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

SDN_LABEL = "OFAC SDN list"
SLS_LABEL = "OFAC SLS changes"

_KINDS = {
    "individual": EntityKind.PERSON,
    "entity": EntityKind.ORGANIZATION,
    "organization": EntityKind.ORGANIZATION,
    "vessel": EntityKind.VESSEL,
    "aircraft": EntityKind.AIRCRAFT,
}
_ACTIONS = {
    "add": Action.ADDED,
    "added": Action.ADDED,
    "change": Action.AMENDED,
    "changed": Action.AMENDED,
    "amend": Action.AMENDED,
    "update": Action.AMENDED,
    "remove": Action.REMOVED,
    "removed": Action.REMOVED,
    "delete": Action.REMOVED,
}


def parse_ofac_sdn(source: Source, *, list_name: str = "us-ofac-sdn") -> Snapshot:
    """Read sdn.xml: `sdnList/publshInformation` (sic) then one `sdnEntry` per designation."""
    published: datetime | None = None
    declared: int | None = None

    def entries() -> Iterator[Designation]:
        nonlocal published, declared
        for name, element in stream(
            source,
            list_name=list_name,
            label=SDN_LABEL,
            roots=frozenset({"sdnList"}),
            records=frozenset({"sdnEntry"}),
            headers=frozenset({"Publish_Date", "Record_Count"}),
        ):
            if name == "Publish_Date":
                published = midnight(_file_date(list_name, element.text or "", "%m/%d/%Y"))
            elif name == "Record_Count":
                declared = _count(list_name, element.text or "")
            elif name == "sdnEntry":
                yield _sdn_entry(list_name, element)

    designations = list(entries())
    return make_snapshot(list_name, SDN_LABEL, "sdnEntry", published, designations, declared)


def _sdn_entry(list_name: str, element: Any) -> Designation:
    uid = text(element, "uid")
    if not uid:
        raise ListFormatError(
            list_name, f"{SDN_LABEL}: <sdnEntry> at line {element.sourceline} has no <uid>"
        )
    name = _ofac_name(text(element, "lastName"), text(element, "firstName"))
    aliases = [
        Alias(
            _ofac_name(text(aka, "lastName"), text(aka, "firstName")),
            Strength.WEAK if text(aka, "category").lower() == "weak" else Strength.STRONG,
            previous=text(aka, "type").lower() == "f.k.a.",
        )
        for aka in children(element, "akaList/aka")
    ]
    return Designation(
        list=list_name,
        id=uid,
        kind=_KINDS.get(text(element, "sdnType").lower(), EntityKind.UNKNOWN),
        name=name,
        aliases=unique_aliases(name, aliases),
        programmes=unique(texts(element, "programList/program")),
        listed=None,  # the legacy XML carries no listing date
        content_hash=record_hash(element),
    )


def _ofac_name(last: str, first: str) -> str:
    # OFAC writes people as "LASTNAME, Firstnames"; entities and vessels have lastName only.
    return f"{last}, {first}" if last and first else last or first


def parse_ofac_sls_delta(source: Source, *, list_name: str = "us-ofac-sdn") -> Delta:
    """Read an SLS changes file: `entities/entity[@action, @id]`, one change each."""
    published: datetime | None = None
    changes: list[Change] = []
    for name, element in stream(
        source,
        list_name=list_name,
        label=SLS_LABEL,
        roots=frozenset({"sanctionsData"}),
        records=frozenset({"entity"}),
        headers=frozenset({"datePublished"}),
    ):
        if name == "datePublished":
            published = _file_instant(list_name, element.text or "")
        elif name == "entity":
            changes.append(_sls_entity(list_name, element))
    return Delta(list_name, published, tuple(changes))


def _sls_entity(list_name: str, element: Any) -> Change:
    uid = (element.get("id") or "").strip()
    raw_action = (element.get("action") or "").strip()
    action = _ACTIONS.get(raw_action.lower())
    where = f"{SLS_LABEL}: <entity> at line {element.sourceline}"
    if not uid:
        raise ListFormatError(list_name, f"{where} has no id")
    if action is None:
        raise ListFormatError(list_name, f"{where} has an unknown action {raw_action!r}")
    primary = ""
    aliases: list[Alias] = []
    for name in children(element, "names/name"):
        is_primary = text(name, "isPrimary").lower() == "true"
        weak = text(name, "isLowQuality").lower() == "true"
        previous = text(name, "aliasType").lower() == "f.k.a."
        for translation in children(name, "translations/translation"):
            full = text(translation, "formattedFullName")
            main = text(translation, "isPrimary").lower() != "false"
            if is_primary and main and not primary:
                primary = full
            else:
                # Other scripts of a name are as strong as the name itself.
                strength = Strength.WEAK if weak else Strength.STRONG
                aliases.append(Alias(full, strength, previous=previous))
    listed = [day(s.get("datePublished") or "") for s in children(element, "sanctionsLists/*")]
    designation = Designation(
        list=list_name,
        id=uid,
        kind=_KINDS.get(text(element, "generalInfo/entityType").lower(), EntityKind.UNKNOWN),
        name=primary,
        aliases=unique_aliases(primary, aliases),
        programmes=unique(texts(element, "sanctionsPrograms/sanctionsProgram")),
        listed=min((d for d in listed if d), default=None),
        content_hash=record_hash(element),
    )
    return Change(list_name, action, uid, designation)


def _file_date(list_name: str, value: str, fmt: str) -> date | None:
    parsed = day(value, fmt)
    if value.strip() and parsed is None:
        raise ListFormatError(
            list_name, f"{SDN_LABEL}: Publish_Date {value.strip()!r} is not MM/DD/YYYY"
        )
    return parsed


def _file_instant(list_name: str, value: str) -> datetime | None:
    parsed = instant(value)
    if value.strip() and parsed is None:
        raise ListFormatError(
            list_name, f"{SLS_LABEL}: datePublished {value.strip()!r} is not ISO 8601"
        )
    return parsed


def _count(list_name: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ListFormatError(
            list_name, f"{SDN_LABEL}: Record_Count {value.strip()!r} is not a number"
        ) from None
