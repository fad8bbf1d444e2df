"""Digest labels: an item's facets as short readable tags ("EU", "Sanctions package", "Russia").

Pure: `labels(facets)` turns the classifier's facet values (see `alerts.domain.FACET_NAMES`)
into `Label`s in a fixed order: issuer, then what happened (the action, or for an item made
from an official list change "Added to us-ofac-sdn"), targets, measures, programmes. A
story gets at most `MAX_LABELS`; a listing with thirty programme codes ends in "+N more".

What an item *did* is only claimed for a sanctions action: an item the classifier found not
to report one (commentary, a court case, a football "sanction") shows its issuer alone, since
"Asset freeze" on an opinion piece would read as news. Designation items come from the list
itself, so they always count as actions.

Values come from feeds in principle (an issuer from feeds.toml, a programme code from a list
file), so label text is plain, unescaped text clipped to `MAX_LABEL_CHARS`: every renderer
escapes it for its own format. `Label.kind` is ours (one of `KINDS`) and safe as a CSS class.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alerts.domain import ItemFacets

__all__ = ["KINDS", "MAX_LABELS", "Label", "label_texts", "labels"]

MAX_LABELS = 8
MAX_LABEL_CHARS = 60
ELLIPSIS = "…"
# What a label says, in the order labels are shown ("more" is the "+N more" tail).
KINDS = ("issuer", "action", "designation", "list", "target", "measure", "programme", "more")

_ACTIONS = {
    "designation": "New designations",
    "package": "Sanctions package",
    "extension": "Extension",
    "delisting": "Delisting",
    "general_licence": "General licence",
    "export_listing": "Export-control listing",
    "visa_restriction": "Visa restriction",
}
_MEASURES = {
    "asset_freeze": "Asset freeze",
    "travel_ban": "Travel ban",
    "export_control": "Export control",
    "arms_embargo": "Arms embargo",
    "sectoral": "Sectoral",
    "delisting": "Delisting",
    "licence": "Licence",
}
# A measure the classifier infers from the kind of action says nothing the action label
# does not ("Visa restriction" and "Travel ban"): it is left out when that action is shown.
_IMPLIED_MEASURE = {
    "delisting": "delisting",
    "general_licence": "licence",
    "export_listing": "export_control",
    "visa_restriction": "travel_ban",
}
# Thematic regimes the classifier files as targets beside country codes.
_REGIMES = {
    "TERRORISM": "Terrorism",
    "CYBER": "Cyber",
    "HUMAN_RIGHTS": "Human rights",
    "NARCOTICS": "Narcotics",
}
_DESIGNATIONS = {
    "added": ("Added to", "Added"),
    "amended": ("Amended on", "Amended"),
    "removed": ("Removed from", "Removed"),
}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Label:
    """One tag shown with a story: what it is about (`kind`, one of `KINDS`) and its text."""

    kind: str
    text: str


def labels(facets: ItemFacets, *, limit: int = MAX_LABELS) -> tuple[Label, ...]:
    """The story's labels, in a stable order, at most `limit` (the last then "+N more")."""
    if limit < 2:
        raise ValueError("limit must leave room for a label and the +N more tail")
    designations = _clean(facets.get("designation"))
    lists = _clean(facets.get("list"))
    acted = facets.has("sanctions_action", "true") or bool(designations)
    found: list[Label] = [Label("issuer", _issuer(v)) for v in _clean(facets.get("issuer"))]
    if acted:
        found += _what_happened(facets, designations, lists)
        found += [Label("target", _target(v)) for v in _clean(facets.get("target"))]
        # With a list change shown instead of an action, no action implies a measure.
        found += _measures(facets, () if designations else _clean(facets.get("action")))
        found += [Label("programme", v) for v in _clean(facets.get("programme"))]
    unique: dict[str, Label] = {}  # the same words twice are said once
    for label in found:
        unique.setdefault(label.text.casefold(), label)
    if len(unique) <= limit:
        return tuple(unique.values())
    shown = list(unique.values())[: limit - 1]
    return (*shown, Label("more", f"+{len(unique) - len(shown)} more"))


def label_texts(facets: ItemFacets, *, limit: int = MAX_LABELS) -> list[str]:
    """Just the texts of `labels(facets)`, e.g. ["EU", "Sanctions package", "Russia"]."""
    return [label.text for label in labels(facets, limit=limit)]


def _what_happened(
    facets: ItemFacets, designations: Sequence[str], lists: Sequence[str]
) -> list[Label]:
    """A list change says what happened to the entry; other items name the action."""
    if not designations:
        actions = _clean(facets.get("action"))
        shown = [Label("action", _ACTIONS.get(v.casefold(), _humane(v))) for v in actions]
        # A list named without a designation (an odd record) is still worth saying.
        return shown + [Label("list", v) for v in lists]
    if len(lists) == 1:
        return [Label("designation", _designation(d, lists[0])) for d in designations]
    # No list, or several (facets do not pair a change with its list): say them apart.
    found = [Label("designation", _designation(d, "")) for d in designations]
    return found + [Label("list", v) for v in lists]


def _measures(facets: ItemFacets, actions: Sequence[str]) -> list[Label]:
    implied = {_IMPLIED_MEASURE.get(a.casefold()) for a in actions}
    return [
        Label("measure", _MEASURES.get(v.casefold(), _humane(v)))
        for v in _clean(facets.get("measure"))
        if v.casefold() not in implied
    ]


def _designation(value: str, list_name: str) -> str:
    known = _DESIGNATIONS.get(value.casefold())
    if known is None:
        text = _humane(value)
        return _clip(f"{text} ({list_name})" if list_name else text)
    with_list, alone = known
    return _clip(f"{with_list} {list_name}" if list_name else alone)


def _issuer(value: str) -> str:
    # Codes ("EU", "uk") read best in capitals; a longer name from feeds.toml stays as given.
    return value.upper() if len(value) <= 3 else value


def _target(code: str) -> str:
    """A country's common English name from its ISO code, a regime's name, else the code."""
    key = code.upper()
    return _REGIMES.get(key) or _country_names().get(key) or code


@functools.cache
def _country_names() -> dict[str, str]:
    # Imported on first use: `alerts.matching` loads the matching engine, which a process
    # that only renders digests (the web side) otherwise never needs.
    from alerts.matching.countries import COUNTRIES

    return {c.code: c.names[0] for c in COUNTRIES}


def _humane(value: str) -> str:
    """An unknown facet value made readable: "new_kind" -> "New kind"."""
    text = value.replace("_", " ").strip()
    return _clip(text[:1].upper() + text[1:])


def _clean(values: Iterable[str]) -> list[str]:
    """Values flattened to one line, clipped, without empties or repeats (order kept)."""
    out = (_clip(_SPACES.sub(" ", v).strip()) for v in values)
    return list(dict.fromkeys(v for v in out if v))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + ELLIPSIS
