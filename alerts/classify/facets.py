"""Item facets: the classifier's verdict, or a sanctions-list change, as `ItemFacets`.

`item_facets` runs on every polled text item; `designation_facets` on every item made from
a list change. Both are pure and return facet values under the names in
`alerts.domain.FACET_NAMES`, each facet with short reasons an operator can read
("'HM Treasury' in title", "source issuer UK (official feed)").

Only an action gets `action`, `target` and `measure`; its `issuer` comes from the text or
the source. A non-action gets `sanctions_action` "false" and, from an official feed, the
feed's issuer (the publisher is known even when the item is an FAQ), never an issuer read
from the text: "US Treasury yields climb" is not a US item for `issuer:US` queries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from alerts.classify.classifier import Reason, classify, mentions_sanctions
from alerts.domain import DesignationRecord, ItemFacets
from alerts.matching.countries import find_country

__all__ = ["designation_facets", "item_facets"]

# Rule name (or its prefix before ":") -> what it means, for reasons shown to operators.
_RULE_LABELS: dict[str, str] = {
    "neg:sport": "sport body",
    "neg:court": "court or lawyers",
    "neg:budget": "budget approval",
    "neg:enforcement": "enforcement, not a listing",
    "neg:regulator": "market regulator",
    "neg:politics": "party or parliamentary discipline",
    "neg:freezing-order": "court or police freezing order",
    "neg:industry": "compliance industry news",
    "neg:commodity": "commodity trade rule",
    "neg:immigration": "tourist or student visas",
    "comment:label": "commentary",
    "comment:speculation": "not taken yet",
    "comment:about": "about sanctions, not an action",
    "comment:reaction": "a reaction",
    "strong:ofac": "sanctions-regime word",
    "no-sanctions-term": "no sanctions word",
    "no-action-cue": "no action word near it",
    "no-issuer-or-target": "no issuer and no target named",
    "override:issuer-subject": "issuer is the subject of the action",
    "official": "listing title in official feed",
    "term": "sanctions word in official feed's title",
    "action": "",
    "target:issuer-country": "in target position",
}


def item_facets(
    title: str, summary: str, *, issuer: str = "", official: bool = False
) -> ItemFacets:
    """Facets of a text item from its title and summary (`issuer`: the source's issuer)."""
    source = issuer.strip()
    if not mentions_sanctions(title, summary):
        return _no_sanctions_word(source, official)
    facets = classify(title, summary, source_issuer=source or None, official=official)
    values: dict[str, tuple[str, ...]] = {
        "sanctions_action": ("true",) if facets.sanctions_action else ("false",)
    }
    reasons: dict[str, tuple[str, ...]] = {
        "sanctions_action": _describe_all(facets.why("sanctions_action"))
    }
    issuer_reasons = facets.why("issuer")
    from_source = bool(issuer_reasons) and issuer_reasons[0].rule == "source:official"
    if facets.issuer and (facets.sanctions_action or from_source):
        values["issuer"] = (facets.issuer,)
        reasons["issuer"] = _describe_all(issuer_reasons)
    if not facets.sanctions_action:
        return ItemFacets(values, reasons)
    if facets.action_type is not None:
        values["action"] = (facets.action_type.value,)
        reasons["action"] = _describe_all(facets.why("action_type"))
    if facets.targets:
        values["target"] = facets.targets
        reasons["target"] = _describe_all(facets.why("targets"))
    if facets.measures:
        values["measure"] = tuple(m.value for m in facets.measures)
        reasons["measure"] = _describe_all(facets.why("measures"))
    return ItemFacets(values, reasons)


def _no_sanctions_word(source: str, official: bool) -> ItemFacets:
    """Most polled news: the facets `classify` would give, without reading the text again."""
    values: dict[str, tuple[str, ...]] = {"sanctions_action": ("false",)}
    reasons: dict[str, tuple[str, ...]] = {"sanctions_action": (_RULE_LABELS["no-sanctions-term"],)}
    if official and source:
        values["issuer"] = (source,)
        reasons["issuer"] = (f"source issuer {source} (official feed)",)
    return ItemFacets(values, reasons)


def designation_facets(record: DesignationRecord, *, issuer: str) -> ItemFacets:
    """Facets of an item made from one change to a sanctions list (`issuer`: its publisher)."""
    removed = record.action == "removed"
    kind = "delisting" if removed else "designation"
    change = f"{'delisted from' if removed else 'listed on'} {record.list} ({record.action})"
    values: dict[str, tuple[str, ...]] = {
        "sanctions_action": ("true",),
        "action": (kind,),
        "list": (record.list,),
        "designation": (record.action,),
        "measure": ("asset_freeze", "delisting") if removed else ("asset_freeze",),
    }
    reasons: dict[str, tuple[str, ...]] = {
        "sanctions_action": (change,),
        "action": (change,),
        "list": (f"entry {record.id} of {record.list}",),
        "designation": (change,),
        "measure": (
            (f"removed from {record.list}: its asset freeze ends",)
            if removed
            else (f"a listing on {record.list} freezes assets",)
        ),
    }
    if issuer:
        values["issuer"] = (issuer,)
        reasons["issuer"] = (f"{record.list} is published by {issuer}",)
    if record.programmes:
        values["programme"] = record.programmes
        reasons["programme"] = (f"programmes of entry {record.id} on {record.list}",)
        targets = programme_targets(record.programmes)
        if targets:
            values["target"] = tuple(code for code, _ in targets)
            reasons["target"] = tuple(f"programme {name}" for _, name in targets)
    return ItemFacets(values, reasons)


# Programme words that name a country without being its name.
_PROGRAMME_COUNTRIES = {"DPRK": "KP", "CAR": "CF", "DRC": "CD", "HK": "HK"}
# OFAC's UKRAINE-EO1366x programmes are the Russia-related ones (Crimea, 2014); the EU's and
# UK's "Ukraine" regimes (misappropriation of Ukrainian state funds) do target Ukrainians.
_RUSSIA_RELATED = re.compile(r"^UKRAINE-EO\d", re.IGNORECASE)
_PROGRAMME_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def programme_targets(programmes: Iterable[str]) -> list[tuple[str, str]]:
    """(ISO code, programme) for programmes named after a country: "RUSSIA-EO14024" -> RU,
    "CAATSA - RUSSIA" -> RU, "Guinea-Bissau" -> GW, "Democratic People's Republic of
    Korea" -> KP; thematic ones (CYBER2, SDGT, Global Human Rights) give none.

    The longest run of words naming a country wins, leftmost first, so "Guinea-Bissau"
    is not Guinea and "South Sudan" is not Sudan.
    """
    found: dict[str, str] = {}
    for programme in programmes:
        code = _programme_country(programme.strip())
        if code is not None:
            found.setdefault(code, programme)
    return list(found.items())


def _programme_country(programme: str) -> str | None:
    if _RUSSIA_RELATED.match(programme):
        return "RU"
    words = _PROGRAMME_WORDS.findall(programme)
    for size in range(min(len(words), 6), 0, -1):
        for start in range(len(words) - size + 1):
            run = words[start : start + size]
            if size == 1 and (code := _PROGRAMME_COUNTRIES.get(run[0].upper())):
                return code
            for joined in (" ".join(run), "-".join(run)):
                if len(joined) < 4:
                    continue  # "US", "EO", "IT" in a code are not countries
                country = find_country(joined)
                if country is not None:
                    return country.code
    return None


def _describe_all(reasons: Iterable[Reason]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_describe(r) for r in reasons))


def _describe(reason: Reason) -> str:
    """One reason as a short phrase: "'HM Treasury' in title (sport body)"."""
    if reason.field == "source":
        own = " (official feed)" if reason.rule == "source:official" else ""
        return f"source issuer {reason.span}{own}"
    if reason.rule.startswith("implied:"):
        return f"implied by {reason.rule.removeprefix('implied:')}"
    overruled = reason.rule.startswith("overruled:")
    rule = reason.rule.removeprefix("overruled:")
    label = _RULE_LABELS.get(rule, _RULE_LABELS.get(rule.split(":", 1)[0], ""))
    if overruled:
        label = f"{label or rule}, overruled"
    if not reason.span:
        return label or rule
    where = f"'{reason.span}' in {reason.field}" if reason.field else f"'{reason.span}'"
    return f"{where} ({label})" if label else where
