"""OpenSanctions `entities.delta.json`: one `{"op": ADD|MOD|DEL, "entity": {...}}` per line."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from alerts.sources.lists.dates import day
from alerts.sources.lists.model import (
    Action,
    Alias,
    Change,
    Delta,
    Designation,
    EntityKind,
    ListFormatError,
    Strength,
    content_hash,
    unique,
    unique_aliases,
)
from alerts.sources.lists.xmlstream import Source

LABEL = "OpenSanctions delta"

_OPS = {"ADD": Action.ADDED, "MOD": Action.AMENDED, "DEL": Action.REMOVED}
_KINDS = {
    "Person": EntityKind.PERSON,
    "Organization": EntityKind.ORGANIZATION,
    "Company": EntityKind.ORGANIZATION,
    "LegalEntity": EntityKind.ORGANIZATION,
    "PublicBody": EntityKind.ORGANIZATION,
    "Vessel": EntityKind.VESSEL,
    "Airplane": EntityKind.AIRCRAFT,
}
# Bookkeeping that changes on every export without the entity changing.
_VOLATILE = frozenset({"first_seen", "last_seen", "last_change", "referents"})


def parse_opensanctions_delta(source: Source, *, list_name: str = "opensanctions") -> Delta:
    """Read a delta file line by line (FollowTheMoney entities); blank lines are skipped."""
    raw = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    changes: list[Change] = []
    for number, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ListFormatError(list_name, _explain(number, line, exc, raw)) from None
        changes.append(_change(list_name, number, row))
    return Delta(list_name, None, tuple(changes))


def _explain(number: int, line: bytes, exc: ValueError, raw: Any) -> str:
    if number == 1 and line.lstrip()[:1] in (b"<", b"\xef"):
        return f"{LABEL}: the file is not JSON lines (it starts with {line[:20]!r})"
    if not line.endswith(b"\n") and not raw.read(1):
        return f"{LABEL}: the file ends inside a JSON record at line {number} (truncated download?)"
    return f"{LABEL}: line {number} is not JSON ({exc})"


def _change(list_name: str, number: int, row: Any) -> Change:
    where = f"{LABEL}: line {number}"
    if not isinstance(row, dict):
        raise ListFormatError(list_name, f"{where} is not a JSON object")
    op = _OPS.get(str(row.get("op", "")))
    entity = row.get("entity")
    if op is None:
        raise ListFormatError(list_name, f"{where} has an unknown op {row.get('op')!r}")
    if not isinstance(entity, dict) or not isinstance(entity.get("id"), str) or not entity["id"]:
        raise ListFormatError(list_name, f"{where} has no entity id")
    if op is Action.REMOVED and not isinstance(entity.get("properties"), dict):
        return Change(list_name, op, entity["id"], None)  # a DEL line names only the id
    return Change(list_name, op, entity["id"], _designation(list_name, entity))


def _designation(list_name: str, entity: Mapping[str, Any]) -> Designation:
    properties = entity.get("properties")
    props: Mapping[str, Any] = properties if isinstance(properties, dict) else {}
    names = _strings(props, "name")
    caption = entity.get("caption")
    primary = caption if isinstance(caption, str) and caption else (names[0] if names else "")
    aliases = [Alias(n) for n in names]
    aliases += [Alias(n) for n in _strings(props, "alias")]
    aliases += [Alias(n, Strength.WEAK) for n in _strings(props, "weakAlias")]
    aliases += [Alias(n, previous=True) for n in _strings(props, "previousName")]
    datasets = entity.get("datasets")
    programmes = _strings(props, "programId") or (
        [d for d in datasets if isinstance(d, str)] if isinstance(datasets, list) else []
    )
    stable = {k: v for k, v in entity.items() if k not in _VOLATILE}
    first_seen = entity.get("first_seen")
    return Designation(
        list=list_name,
        id=str(entity["id"]),
        kind=_KINDS.get(str(entity.get("schema", "")), EntityKind.UNKNOWN),
        name=primary,
        aliases=unique_aliases(primary, aliases),
        programmes=unique(programmes),
        # OpenSanctions has no listing date on the entity; when it first saw it is closest.
        listed=day(first_seen) if isinstance(first_seen, str) else None,
        content_hash=content_hash([json.dumps(stable, sort_keys=True, ensure_ascii=False)]),
    )


def _strings(props: Mapping[str, Any], key: str) -> list[str]:
    values = props.get(key)
    if not isinstance(values, list):
        return []
    return [" ".join(v.split()) for v in values if isinstance(v, str) and v.strip()]
