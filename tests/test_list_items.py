"""List changes as items, list specs, and snapshots as stored: pure, from the list fixtures."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.sources.lists import ListFormatError, Snapshot, diff, parse_ofac_sls_delta
from alerts.sources.lists.items import change_items
from alerts.sources.lists.model import Action, Change, Designation, EntityKind
from alerts.sources.lists.snapshots import dump_snapshot, load_snapshot
from alerts.sources.lists.spec import ListFormat, ListSpec, read_list

DATA = Path(__file__).parent / "data" / "lists"
WHEN = datetime(2026, 7, 1, tzinfo=UTC)


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.mark.parametrize(
    ("fmt", "v1", "v2"),
    [
        (ListFormat.OFAC_SDN_XML, "ofac-sdn-v1.xml", "ofac-sdn-v2.xml"),
        (ListFormat.UK_SANCTIONS_LIST_XML, "uk-sanctions-list-v1.xml", "uk-sanctions-list-v2.xml"),
        (ListFormat.UN_CONSOLIDATED_XML, "un-consolidated-v1.xml", "un-consolidated-v2.xml"),
        (ListFormat.EU_FSF_XML, "eu-fsf-v1.xml", "eu-fsf-v2.xml"),
    ],
)
def test_snapshot_survives_storage_and_diffs_the_same(fmt: ListFormat, v1: str, v2: str) -> None:
    spec = ListSpec(fmt)
    old = read_list(spec, "a-list", read(v1))
    new = read_list(spec, "a-list", read(v2))
    assert isinstance(old, Snapshot) and isinstance(new, Snapshot) and not spec.is_delta
    stored = load_snapshot(dump_snapshot(old))
    assert stored.records == old.records
    assert diff(stored, new) == diff(old, new)


def test_unreadable_snapshot_is_a_clear_error() -> None:
    with pytest.raises(ListFormatError, match="stored snapshot unreadable"):
        load_snapshot(b"not gzip")
    with pytest.raises(ListFormatError, match="snapshot format 99"):
        load_snapshot(gzip.compress(b'{"version": 99}'))


def test_delta_formats_read_as_deltas() -> None:
    spec = ListSpec(ListFormat.OFAC_SLS_DELTA)
    assert spec.is_delta
    delta = read_list(spec, "us-sls", read("ofac-sls-delta.xml"))
    assert delta == parse_ofac_sls_delta(read("ofac-sls-delta.xml"), list_name="us-sls")


def test_each_change_is_one_item_with_its_record() -> None:
    delta = parse_ofac_sls_delta(read("ofac-sls-delta.xml"), list_name="us-sdn")
    items = change_items("us-sdn", "OFAC SDN list", delta.changes, published=WHEN)
    assert len(items) == len(delta.changes)
    added = next(i for i in items if i.designation and i.designation.action == "added")
    assert added.title == "VOLKOVA, Marina Olegovna (RUSSIA-EO14024) added to OFAC SDN list"
    assert added.designation is not None
    assert added.designation.aliases == ("ВОЛКОВА, Марина Олеговна",)
    assert "Also known as: ВОЛКОВА, Марина Олеговна." in added.summary
    assert added.published == WHEN and added.link is None
    assert added.guid is not None and added.guid.startswith("us-sdn:")
    # Every change has its own guid: the same file twice gives the same guids.
    again = change_items("us-sdn", "OFAC SDN list", delta.changes, published=WHEN)
    assert [i.guid for i in items] == [i.guid for i in again]
    assert len({i.guid for i in items}) == len(items)


def test_weak_aliases_are_kept_apart_and_an_amendment_says_what_changed() -> None:
    delta = parse_ofac_sls_delta(read("ofac-sls-delta.xml"), list_name="us-sdn")
    amended = next(c for c in delta.changes if c.action is Action.AMENDED)
    [item] = change_items("us-sdn", "OFAC SDN list", [amended], published=WHEN)
    assert item.designation is not None
    assert item.designation.weak_aliases == ("THE FOREMAN",)
    assert "THE FOREMAN" not in item.designation.aliases
    assert "THE FOREMAN (weak)" in item.summary
    assert "amended on OFAC SDN list" in item.title


def test_a_removal_known_only_by_id_still_makes_an_item() -> None:
    change = Change("os", Action.REMOVED, "NK-123", None)
    [item] = change_items("os", "OpenSanctions", [change], published=WHEN)
    assert item.designation is not None
    assert (item.designation.name, item.designation.kind) == ("NK-123", "unknown")
    assert item.title == "NK-123 removed from OpenSanctions"


def test_many_aliases_are_cut_in_the_summary_not_in_the_record() -> None:
    from alerts.sources.lists.model import Alias

    aliases = tuple(Alias(f"Alias {n}") for n in range(30))
    record = Designation("l", "1", EntityKind.PERSON, "SOMEONE", aliases, ("P",))
    [item] = change_items("l", "L", [Change("l", Action.ADDED, "1", record)], published=WHEN)
    assert "and 10 more" in item.summary
    assert item.designation is not None and len(item.designation.aliases) == 30


def test_list_spec_checks_its_fields() -> None:
    assert ListSpec.from_mapping({"format": "eu-fsf-xml"}) == ListSpec(ListFormat.EU_FSF_XML)
    with pytest.raises(ValueError, match="not one of ofac-sdn-xml"):
        ListSpec.from_mapping({"format": "csv"})
    with pytest.raises(ValueError, match="must be a number"):
        ListSpec.from_mapping({"format": "eu-fsf-xml", "max_removed_share": "lots"})
    with pytest.raises(ValueError, match="not above 0"):
        ListSpec(ListFormat.EU_FSF_XML, 0)
