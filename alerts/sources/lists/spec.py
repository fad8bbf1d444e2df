"""How a `kind = "list"` source is read: its file format and the diff guard."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from alerts.sources.lists.diff import DEFAULT_MAX_REMOVED_SHARE
from alerts.sources.lists.eu import parse_eu_fsf
from alerts.sources.lists.model import Delta, Snapshot
from alerts.sources.lists.ofac import parse_ofac_sdn, parse_ofac_sls_delta
from alerts.sources.lists.opensanctions import parse_opensanctions_delta
from alerts.sources.lists.uk import parse_uk_sanctions_list
from alerts.sources.lists.un import parse_un_consolidated
from alerts.sources.lists.xmlstream import Source


class ListFormat(StrEnum):
    """The list file formats we read (`format` in feeds.toml)."""

    OFAC_SDN_XML = "ofac-sdn-xml"  # full list: diffed against the previous snapshot
    OFAC_SLS_DELTA = "ofac-sls-delta"  # the publisher's own change file
    UK_SANCTIONS_LIST_XML = "uk-sanctions-list-xml"
    UN_CONSOLIDATED_XML = "un-consolidated-xml"
    EU_FSF_XML = "eu-fsf-xml"
    OPENSANCTIONS_DELTA = "opensanctions-delta"


_SNAPSHOT_READERS: dict[ListFormat, Callable[..., Snapshot]] = {
    ListFormat.OFAC_SDN_XML: parse_ofac_sdn,
    ListFormat.UK_SANCTIONS_LIST_XML: parse_uk_sanctions_list,
    ListFormat.UN_CONSOLIDATED_XML: parse_un_consolidated,
    ListFormat.EU_FSF_XML: parse_eu_fsf,
}
_DELTA_READERS: dict[ListFormat, Callable[..., Delta]] = {
    ListFormat.OFAC_SLS_DELTA: parse_ofac_sls_delta,
    ListFormat.OPENSANCTIONS_DELTA: parse_opensanctions_delta,
}


@dataclass(frozen=True, slots=True)
class ListSpec:
    """A list source's format and how much of it may vanish before a diff is refused."""

    format: ListFormat
    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE

    def __post_init__(self) -> None:
        if not 0 < self.max_removed_share <= 1:
            raise ValueError(
                f"max_removed_share: {self.max_removed_share} is not above 0 and at most 1"
            )

    @property
    def is_delta(self) -> bool:
        """True for change files (each poll's changes are alerted as they are)."""
        return self.format in _DELTA_READERS

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ListSpec:
        """A spec from a feeds.toml feed table (`format`, `max_removed_share`)."""
        raw = data.get("format")
        try:
            fmt = ListFormat(str(raw))
        except ValueError:
            known = ", ".join(f.value for f in ListFormat)
            raise ValueError(f"format: {raw!r} is not one of {known}") from None
        share = data.get("max_removed_share", DEFAULT_MAX_REMOVED_SHARE)
        if isinstance(share, bool) or not isinstance(share, int | float):
            raise ValueError("max_removed_share: must be a number such as 0.2")
        return cls(fmt, float(share))


def read_list(spec: ListSpec, list_name: str, source: Source) -> Snapshot | Delta:
    """Parse a list file in `spec.format`; ListFormatError when it is not one."""
    if spec.format in _DELTA_READERS:
        return _DELTA_READERS[spec.format](source, list_name=list_name)
    return _SNAPSHOT_READERS[spec.format](source, list_name=list_name)
