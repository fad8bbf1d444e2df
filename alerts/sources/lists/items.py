"""List changes as feed items: one "designation added / amended / removed" item per change.

Each item carries a `DesignationRecord` (names, aliases, programmes, list), so entity
watchlists match it by name without a text search, and a readable title and summary, so
term watchlists, digests and story clustering treat it like any other item. Its guid names
the list, the entry, the action, the record's content hash and the `occasion` the change
was seen on: the same change file fetched twice is the same item, while a person delisted
and listed again, or an amendment that is reverted and made again, is news each time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from alerts.domain import DesignationRecord, Item
from alerts.sources.lists.model import Action, Change, Designation, Strength

_VERB = {Action.ADDED: "added to", Action.AMENDED: "amended on", Action.REMOVED: "removed from"}
_MAX_SUMMARY_ALIASES = 20


def change_items(
    feed: str,
    list_title: str,
    changes: Iterable[Change],
    *,
    published: datetime | None,
    occasion: str = "",
) -> list[Item]:
    """Items for `changes` of the list published by `feed` (titled `list_title`).

    `occasion` tells apart two sightings of an identical change: for a change file, its
    publication date (a file fetched again gives the same items); for a diff of two full
    lists, when the diff was made (diffs never repeat: the snapshot moves on with them).
    """
    return [_item(feed, list_title, change, published, occasion) for change in changes]


def designation_record(change: Change) -> DesignationRecord:
    """The structured part of a change, as items carry it."""
    d = change.designation
    if d is None:  # a delta that names only an id (an OpenSanctions DEL line)
        return DesignationRecord(change.list, change.id, change.action.value, "unknown", change.id)
    strong = tuple(a.name for a in d.aliases if a.strength is Strength.STRONG)
    weak = tuple(a.name for a in d.aliases if a.strength is Strength.WEAK)
    return DesignationRecord(
        list=change.list,
        id=change.id,
        action=change.action.value,
        kind=d.kind.value,
        name=d.name,
        aliases=strong,
        weak_aliases=weak,
        programmes=d.programmes,
        changed=change.changed,
        listed=d.listed.isoformat() if d.listed else "",
    )


def _item(
    feed: str, list_title: str, change: Change, published: datetime | None, occasion: str
) -> Item:
    record = designation_record(change)
    what = f" ({', '.join(record.programmes)})" if record.programmes else ""
    verb = _VERB[change.action]
    title = f"{record.name}{what} {verb} {list_title}"
    lines = [f"{record.name}: {record.kind} {verb} {list_title}, entry {change.id}."]
    if record.programmes:
        lines.append(f"Programmes: {', '.join(record.programmes)}.")
    aliases = _aliases(change.designation)
    if aliases:
        lines.append(f"Also known as: {'; '.join(aliases)}.")
    if change.changed:
        lines.append(f"Changed: {', '.join(change.changed)}.")
    if record.listed:
        lines.append(f"Listed on {record.listed}.")
    digest = change.designation.content_hash[:16] if change.designation else ""
    return Item(
        feed=feed,
        guid=f"{change.list}:{change.id}:{change.action.value}:{digest}:{occasion}",
        link=None,
        title=title,
        summary="\n".join(lines),
        published=published,
        tags=record.programmes,
        designation=record,
    )


def _aliases(d: Designation | None) -> list[str]:
    if d is None:
        return []
    names = [a.name + (" (weak)" if a.strength is Strength.WEAK else "") for a in d.aliases]
    if len(names) > _MAX_SUMMARY_ALIASES:
        more = len(names) - _MAX_SUMMARY_ALIASES
        names = [*names[:_MAX_SUMMARY_ALIASES], f"and {more} more"]
    return names
