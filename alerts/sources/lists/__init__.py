"""Official sanctions list files: stream them into designations and diff two snapshots.

Pure parsing and diffing: bytes or a binary file object in, frozen dataclasses out; no
network, no database. One module per publisher's format (`ofac`, `uk`, `un`, `eu`,
`opensanctions`), the shared record types in `model`, the hardened streaming XML reader in
`xmlstream`, and `diff` with the guards that keep a truncated or shrunken file from turning
into "removed" alerts. Problems leave as `ListFormatError` (a `ParseError`) or
`ListDiffRefused` (a `SourceError`), both carrying the list name.

Like the rest of `sources`, this package must not import sqlalchemy, jinja2 or apscheduler.
"""

from alerts.sources.lists.diff import diff
from alerts.sources.lists.eu import parse_eu_fsf
from alerts.sources.lists.model import (
    Action,
    Alias,
    Change,
    Designation,
    EntityKind,
    ListDiff,
    ListDiffRefused,
    ListFormatError,
    Snapshot,
    Strength,
)
from alerts.sources.lists.ofac import parse_ofac_sdn, parse_ofac_sls_delta
from alerts.sources.lists.opensanctions import parse_opensanctions_delta
from alerts.sources.lists.uk import parse_uk_sanctions_list
from alerts.sources.lists.un import parse_un_consolidated

__all__ = [
    "Action",
    "Alias",
    "Change",
    "Designation",
    "EntityKind",
    "ListDiff",
    "ListDiffRefused",
    "ListFormatError",
    "Snapshot",
    "Strength",
    "diff",
    "parse_eu_fsf",
    "parse_ofac_sdn",
    "parse_ofac_sls_delta",
    "parse_opensanctions_delta",
    "parse_uk_sanctions_list",
    "parse_un_consolidated",
]
