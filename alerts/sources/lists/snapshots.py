"""A list snapshot as stored between polls: compact gzip'd JSON, read back exactly.

Only what diffing needs is kept (ids, names, aliases, programmes, listing date, the
record hash), so the stored form of a 30 MB SDN file is a few MB before compression.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from typing import Any

from alerts.sources.lists.model import (
    Alias,
    Designation,
    EntityKind,
    ListFormatError,
    Snapshot,
    Strength,
)

FORMAT_VERSION = 1


def dump_snapshot(snapshot: Snapshot) -> bytes:
    """Serialise a snapshot for storage."""
    records = [
        [
            d.id,
            d.kind.value,
            d.name,
            [[a.name, a.strength is Strength.WEAK, a.previous] for a in d.aliases],
            list(d.programmes),
            d.listed.isoformat() if d.listed else "",
            d.content_hash,
        ]
        for d in snapshot.records.values()
    ]
    data = {
        "version": FORMAT_VERSION,
        "list": snapshot.list,
        "published": snapshot.published.isoformat() if snapshot.published else None,
        "records": records,
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def load_snapshot(blob: bytes) -> Snapshot:
    """Inverse of `dump_snapshot`; ListFormatError when the blob is unreadable."""
    try:
        data: dict[str, Any] = json.loads(gzip.decompress(blob))
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"snapshot format {data.get('version')!r}")
        name = str(data["list"])
        published = datetime.fromisoformat(data["published"]) if data["published"] else None
        records: dict[str, Designation] = {}
        for rid, kind, dname, aliases, programmes, listed, digest in data["records"]:
            records[rid] = Designation(
                list=name,
                id=rid,
                kind=EntityKind(kind),
                name=dname,
                aliases=tuple(
                    Alias(a, Strength.WEAK if weak else Strength.STRONG, previous)
                    for a, weak, previous in aliases
                ),
                programmes=tuple(programmes),
                listed=date.fromisoformat(listed) if listed else None,
                content_hash=digest,
            )
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise ListFormatError("snapshot", f"stored snapshot unreadable: {exc}") from exc
    return Snapshot(name, published, records, None, len(records))
