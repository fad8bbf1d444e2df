"""Diff two snapshots of a list by stable id, refusing results that cannot be trusted."""

from __future__ import annotations

from alerts.sources.lists.model import (
    Action,
    Change,
    Designation,
    ListDiff,
    ListDiffRefused,
    Snapshot,
)

DEFAULT_MAX_REMOVED_SHARE = 0.2


def diff(
    previous: Snapshot | None,
    current: Snapshot,
    *,
    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE,
) -> ListDiff:
    """Added, amended and removed designations from `previous` to `current`.

    With no previous snapshot the diff is an empty baseline (no flood of "added"). Raises
    `ListDiffRefused` when the current file's declared count disagrees with what was read,
    or when more than `max_removed_share` of the previous entries would be removed: both
    mean a truncated or wrong download far more often than a mass delisting.
    """
    name = current.list
    if current.declared_count is not None and current.declared_count != current.entry_count:
        raise ListDiffRefused(
            name,
            f"the file declares {current.declared_count} records but {current.entry_count} "
            "were read (truncated or altered file?)",
        )
    if previous is None:
        return ListDiff(name, baseline=True)
    if previous.list != name:
        raise ListDiffRefused(name, f"cannot diff against a snapshot of {previous.list!r}")
    removed_ids = previous.records.keys() - current.records.keys()
    if previous.records and len(removed_ids) / len(previous.records) > max_removed_share:
        raise ListDiffRefused(
            name,
            f"{len(removed_ids)} of {len(previous.records)} entries would be removed "
            f"(more than {max_removed_share:.0%}); refusing to diff a suspiciously smaller file",
        )
    added = [
        Change(name, Action.ADDED, key, record)
        for key, record in current.records.items()
        if key not in previous.records
    ]
    amended = []
    for key, record in current.records.items():
        old = previous.records.get(key)
        if old is not None and old.content_hash != record.content_hash:
            changed = _changed_fields(old, record)
            amended.append(Change(name, Action.AMENDED, key, record, old, changed))
    removed = [
        Change(name, Action.REMOVED, key, previous.records[key]) for key in sorted(removed_ids)
    ]
    return ListDiff(name, False, tuple(added), tuple(amended), tuple(removed))


def _changed_fields(old: Designation, new: Designation) -> tuple[str, ...]:
    changed = []
    if old.kind != new.kind:
        changed.append("kind")
    if old.name != new.name:
        changed.append("name")
    if set(old.aliases) != set(new.aliases):
        changed.append("aliases")
    if set(old.programmes) != set(new.programmes):
        changed.append("programmes")
    if old.listed != new.listed:
        changed.append("listed")
    # The hash covers the whole record: an address or identifier may be what changed.
    return tuple(changed) or ("details",)
