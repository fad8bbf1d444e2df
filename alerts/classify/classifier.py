"""Rule-based facets for an item: is it a sanctions action, who issued it, whom it targets.

The decision, in order (each step leaves a `Reason`):

1. No sanctions word in the title or summary: not an action.
2. A hard negative (sport bodies, courts, budgets, police freezing orders, tourist visas)
   vetoes, unless a government regime cue (OFAC, "restrictive measures") overrules it, or
   an issuer is the subject of the action verb ("UK sanctions Russian judges", "US imposes
   sanctions on ICC judges"; not "US judge imposes sanctions"). Tourist and student visa
   vetoes yield to regime cues only: "Japan eases visa restrictions for tourists" is out.
3. Enforcement (settlements, penalties, charges) and commentary in the *title* (analysis,
   speculation, reactions) veto: they are news about sanctions, not an action. Summaries
   are not checked for commentary, since reports of real actions often say "could". An
   official feed's title that names a listing or licence is not vetoed by "FAQ" or
   "guidance" labels beside it.
4. An action cue near a sanctions word (same field, within `_NEAR` characters), or, for an
   official feed, any sanctions word or listing category in the title: an action. Its kind
   is the most specific one in the first field with a cue (`_KIND_ORDER`); a package or
   an export listing in the summary makes a title's plain designation that kind.
5. An action with no issuer (in the text or from the source) and no target is not one:
   "Minister imposes sanctions on rogue landlords".

Issuer: an official feed's own issuer; else the earliest issuer cue in the title, then the
summary, that does not sit where targets do ("China sanctions US firms": China, not US;
any country named as the subject of a sanctions verb is an issuer cue);
else the (non-official) source's issuer. Targets: country names, demonyms and aliases in
the text, less the issuers' own countries and Ukraine (named as the victim); an issuer's
country in target position is a target ("US" there).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from alerts.classify.lexicons import (
    ACTION_CUES,
    COMMENTARY_CUES,
    ISSUER_COUNTRY,
    ISSUER_CUES,
    MEASURE_CUES,
    NEGATIVE_CUES,
    OFFICIAL_CUES,
    SANCTIONS_TERMS,
    STRONG_REGIME_CUES,
    TARGET_ALIASES,
    Pattern,
    any_of,
    country_codes,
    country_pattern,
)

__all__ = ["ActionType", "Facets", "Measure", "Reason", "classify", "mentions_sanctions"]

_NEAR = 60  # characters between an action cue and a sanctions word in the same field
_SUBJECT_GAP = 30  # at most this many characters between an issuer and its action verb
_ENFORCEMENT = "neg:enforcement"
_STRONG_ONLY = "strong-only"  # a NEGATIVE_CUES value: only a regime cue overrules it
# Target rules whose text an issuer cue also claims: "1718 Committee" (UN, North Korea),
# "Russia Sanctions Act" (NZ, Russia), an issuer word in target position.
_SPAN_SHARING_TARGETS = ("target:un-committee", "target:regime-law", "target:issuer-country")
# Ukraine is named in Russia items as the victim of the war; the Russia regime is the target.
_NEVER_TARGET = frozenset({"UA"})
_TARGET_CONTEXT = re.compile(
    r"(?:\bon|against|\bto|targeting|over|sanctions?|bans?)\s+(?:[\w'-]+\s+){0,2}$", re.IGNORECASE
)


class ActionType(StrEnum):
    """What kind of sanctions action an item reports."""

    DESIGNATION = "designation"
    PACKAGE = "package"
    EXTENSION = "extension"
    DELISTING = "delisting"
    GENERAL_LICENCE = "general_licence"
    EXPORT_LISTING = "export_listing"
    VISA_RESTRICTION = "visa_restriction"


class Measure(StrEnum):
    """A kind of restriction an action imposes or relaxes."""

    ASSET_FREEZE = "asset_freeze"
    TRAVEL_BAN = "travel_ban"
    EXPORT_CONTROL = "export_control"
    ARMS_EMBARGO = "arms_embargo"
    SECTORAL = "sectoral"
    DELISTING = "delisting"
    LICENCE = "licence"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a facet has its value: the rule (lexicon entry) and the text that fired it."""

    facet: str  # "sanctions_action", "action_type", "issuer", "targets", "measures"
    rule: str  # lexicon entry name, e.g. "issuer:hm-treasury", or a decision like "source"
    field: str  # "title", "summary" or "source"
    span: str  # the matched text ("" for decisions not drawn from the text)


@dataclass(frozen=True, slots=True)
class Facets:
    """What an item is about, for watchlist queries and digest labels."""

    sanctions_action: bool
    action_type: ActionType | None
    issuer: str | None
    targets: tuple[str, ...]
    measures: tuple[Measure, ...]
    reasons: tuple[Reason, ...]

    def why(self, facet: str) -> tuple[Reason, ...]:
        """The reasons recorded for one facet."""
        return tuple(r for r in self.reasons if r.facet == facet)


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: str
    value: str
    field: str
    start: int
    end: int
    span: str


_COUNTRY_RE = country_pattern()
_COUNTRY_CODES = country_codes()
_ISO_CODES = frozenset(_COUNTRY_CODES.values())


def _own_country(issuer: str | None) -> str | None:
    """The ISO code of an issuer's own country ("UK" -> "GB"; "EU", "UN" have none)."""
    if issuer is None:
        return None
    return ISSUER_COUNTRY.get(issuer, issuer if issuer in _ISO_CODES else None)


# One scan for any sanctions word, before trying each entry: most polled news has none.
# (Gating the other lexicons this way was measured slower: sanctions items hit them.)
_TERM_GATE = any_of(SANCTIONS_TERMS)


def mentions_sanctions(title: str, summary: str = "") -> bool:
    """Whether the text has any sanctions word; without one, `classify` says no action."""
    return any(gate.search(text) for text in (title, summary) for gate in _TERM_GATE)


def _hits(patterns: Iterable[Pattern], fields: dict[str, str]) -> list[_Hit]:
    found: list[_Hit] = []
    for field, text in fields.items():
        for pattern in patterns:
            for m in pattern.regex.finditer(text):
                span = m.group()
                value = pattern.lookup[span] if pattern.lookup else pattern.value
                found.append(_Hit(pattern.name, value, field, m.start(), m.end(), span))
    # Title before summary, then by position: the earliest cue speaks first.
    found.sort(key=lambda h: (h.field != "title", h.start, -(h.end - h.start)))
    return found


def _near(a: _Hit, b: _Hit) -> bool:
    if a.field != b.field:
        return False
    gap = max(a.start, b.start) - min(a.end, b.end)
    return gap <= _NEAR


def _reason(facet: str, hit: _Hit) -> Reason:
    return Reason(facet, hit.rule, hit.field, hit.span)


def classify(
    title: str, summary: str = "", *, source_issuer: str | None = None, official: bool = False
) -> Facets:
    """Facets of one item from its title and summary (pure; see the module doc for rules).

    `source_issuer` is the issuer of the feed the item came from ("EU" for the Council's
    feed); `official` says the feed is the issuer's own, so its issuer is authoritative
    and its titles ("Russia-related Designations") count as actions without a verb.
    """
    fields = {"title": title, "summary": summary}
    title_only = {"title": title}
    reasons: list[Reason] = []

    issuer, issuer_reasons, issuer_hits = _issuer(fields, source_issuer, official)
    terms = _hits(SANCTIONS_TERMS, fields) if mentions_sanctions(title, summary) else []
    action, action_type, why = _decide(fields, title_only, terms, issuer_hits, official)
    reasons.extend(why)
    reasons.extend(issuer_reasons)
    if not action:
        return Facets(False, None, issuer, (), (), tuple(reasons))

    targets, target_reasons = _targets(fields, issuer_hits, issuer)
    if issuer is None and not targets:
        # Step 5: nobody to take the action and nobody it targets ("Minister imposes
        # sanctions on rogue landlords"): a domestic use of the word.
        unanchored = Reason("sanctions_action", "no-issuer-or-target", "", "")
        kept = (r for r in reasons if r.facet != "action_type")
        return Facets(False, None, None, (), (), (unanchored, *kept))
    measures, measure_reasons = _measures(fields, action_type)
    reasons.extend(target_reasons)
    reasons.extend(measure_reasons)
    return Facets(True, action_type, issuer, targets, measures, tuple(reasons))


def _decide(
    fields: dict[str, str],
    title_only: dict[str, str],
    terms: list[_Hit],
    issuer_hits: list[_Hit],
    official: bool,
) -> tuple[bool, ActionType | None, list[Reason]]:
    facet = "sanctions_action"
    if not terms:
        return False, None, [Reason(facet, "no-sanctions-term", "", "")]
    actions = [a for a in _hits(ACTION_CUES, fields) if any(_near(a, t) for t in terms)]

    # Step 2: hard negatives, unless a government regime cue overrules them.
    negatives = _hits(NEGATIVE_CUES, fields)
    enforcement = [h for h in negatives if h.rule == _ENFORCEMENT and h.field == "title"]
    if enforcement:
        return False, None, [_reason(facet, enforcement[0])]
    vetoes = [h for h in negatives if h.rule != _ENFORCEMENT]
    if vetoes:
        strong = _hits(STRONG_REGIME_CUES, fields)
        subject = None
        if not any(v.value == _STRONG_ONLY for v in vetoes):
            subject = _issuer_subject(issuer_hits, actions, vetoes)
        if strong:
            reason = _reason(facet, strong[0])
        elif subject is not None:
            reason = Reason(facet, "override:issuer-subject", subject.field, subject.span)
        else:
            return False, None, [_reason(facet, vetoes[0])]
        overruled = Reason(facet, f"overruled:{vetoes[0].rule}", vetoes[0].field, vetoes[0].span)
        pre = [overruled, reason]
    else:
        pre = []

    # Step 3: commentary, speculation and reactions in the title.
    commentary = _hits(COMMENTARY_CUES, title_only)
    if commentary and official:
        listing = _hits(OFFICIAL_CUES, title_only) or [
            a for a in actions if a.field == "title" and a.value == ActionType.GENERAL_LICENCE
        ]
        if listing:
            commentary = [c for c in commentary if c.rule != "comment:label"]
    if commentary:
        return False, None, [*pre, _reason(facet, commentary[0])]

    # Step 4: an action cue next to a sanctions word.
    if actions:
        kind, hit = _action_type(actions)
        return True, kind, [*pre, _reason(facet, hit), _reason("action_type", hit)]
    if official:
        listing = _hits(OFFICIAL_CUES, title_only)
        cue = listing[0] if listing else next((t for t in terms if t.field == "title"), None)
        if cue is not None:
            kind = _kind_from_term(cue.span)
            return True, kind, [*pre, _reason(facet, cue), _reason("action_type", cue)]
    return False, None, [*pre, Reason(facet, "no-action-cue", terms[0].field, terms[0].span)]


def _issuer_subject(
    issuer_hits: list[_Hit], actions: list[_Hit], vetoes: list[_Hit]
) -> _Hit | None:
    """An issuer written as the subject of an action verb, no veto word between them.

    "US imposes sanctions on ICC judges": "US" then "imposes". Not "US judge imposes
    sanctions", where the court word stands between the issuer and the verb.
    """
    for issuer in issuer_hits:
        for action in actions:
            if action.field != issuer.field or action.start < issuer.start:
                continue
            if action.start - issuer.end > _SUBJECT_GAP:
                continue
            between = range(issuer.end, action.start)
            if not any(v.field == issuer.field and v.start in between for v in vetoes):
                return issuer
    return None


# Most specific first: a licence is the instrument even when the text says "eases" or
# "extends"; a delisting from the Entity List is a delisting; a travel ban beside an asset
# freeze is part of a designation, so visa restrictions come last.
_KIND_ORDER: tuple[ActionType, ...] = (
    ActionType.GENERAL_LICENCE,
    ActionType.PACKAGE,
    ActionType.EXTENSION,
    ActionType.DELISTING,
    ActionType.EXPORT_LISTING,
    ActionType.DESIGNATION,
    ActionType.VISA_RESTRICTION,
)


def _action_type(actions: list[_Hit]) -> tuple[ActionType, _Hit]:
    """The most specific kind in the first field with a cue (title, else summary).

    A package or an export listing named in the summary ("the 19th package", "new export
    bans on machine tools") upgrades a title's plain designation ("EU imposes new sanctions
    on Russia", "new trade sanctions on Russia") to that kind.
    """
    field = actions[0].field
    in_field = [a for a in actions if a.field == field]
    chosen = min(in_field, key=_kind_rank)
    if chosen.value == ActionType.DESIGNATION and field == "title":
        upgrades = [a for a in actions if a.value in _SUMMARY_UPGRADES]
        if upgrades:
            chosen = min(upgrades, key=_kind_rank)
    return ActionType(chosen.value), chosen


_SUMMARY_UPGRADES = frozenset({ActionType.PACKAGE, ActionType.EXPORT_LISTING})


def _kind_rank(hit: _Hit) -> tuple[int, int]:
    return _KIND_ORDER.index(ActionType(hit.value)), hit.start


_KIND_WORDS: tuple[tuple[re.Pattern[str], ActionType], ...] = (
    (re.compile(r"general licen|authori[sz]ation", re.I), ActionType.GENERAL_LICENCE),
    (re.compile(r"remov|delist|lift", re.I), ActionType.DELISTING),
    (re.compile(r"entity list|export", re.I), ActionType.EXPORT_LISTING),
    (re.compile(r"visa|travel ban|entry ban", re.I), ActionType.VISA_RESTRICTION),
)


def _kind_from_term(span: str) -> ActionType:
    for regex, kind in _KIND_WORDS:
        if regex.search(span):
            return kind
    return ActionType.DESIGNATION


def _issuer(
    fields: dict[str, str], source_issuer: str | None, official: bool
) -> tuple[str | None, list[Reason], list[_Hit]]:
    hits = _hits(ISSUER_CUES, fields)
    if official and source_issuer:
        return source_issuer, [Reason("issuer", "source:official", "source", source_issuer)], hits
    if hits:
        first = next((h for h in hits if not _in_target_position(fields, h)), hits[0])
        return first.value, [_reason("issuer", first)], hits
    if source_issuer:
        return source_issuer, [Reason("issuer", "source", "source", source_issuer)], hits
    return None, [], hits


def _in_target_position(fields: dict[str, str], hit: _Hit) -> bool:
    """Whether a hit sits where targets do: after "sanctions", "on", "against", ..."""
    return bool(_TARGET_CONTEXT.search(fields[hit.field][: hit.start]))


def _country_hits(fields: dict[str, str], issuer_hits: list[_Hit]) -> list[_Hit]:
    """Country and regime mentions, less issuers' own countries and spans issuers claimed."""
    # An issuer's country is not a target ("Canada and UK sanction ...") unless it sits where
    # targets do: after "sanctions", "on", "against" ("China sanctions US defence firms");
    # there the issuer word itself ("US", which is no country form) names the target.
    in_target = [h for h in issuer_hits if _in_target_position(fields, h)]
    excluded = {_own_country(h.value) for h in issuer_hits if h not in in_target} - {None}
    claimed = {(h.field, i) for h in issuer_hits for i in range(h.start, h.end)}
    found: list[_Hit] = []
    for h in in_target:
        own = _own_country(h.value)
        if own is not None:
            found.append(_Hit("target:issuer-country", own, h.field, h.start, h.end, h.span))
    for field, text in fields.items():
        for m in _COUNTRY_RE.finditer(text):
            code = _COUNTRY_CODES[m.group()]
            found.append(_Hit("target:country", code, field, m.start(), m.end(), m.group()))
    found.extend(_hits(TARGET_ALIASES, fields))
    return [
        h
        for h in found
        if h.value not in excluded
        and h.value not in _NEVER_TARGET
        and ((h.field, h.start) not in claimed or h.rule.startswith(_SPAN_SHARING_TARGETS))
    ]


def _targets(
    fields: dict[str, str], issuer_hits: list[_Hit], issuer: str | None
) -> tuple[tuple[str, ...], list[Reason]]:
    own = _own_country(issuer)
    hits = [h for h in _country_hits(fields, issuer_hits) if h.value != own]
    seen: dict[str, _Hit] = {}
    for hit in sorted(hits, key=lambda h: (h.field != "title", h.start)):
        seen.setdefault(hit.value, hit)
    return tuple(sorted(seen)), [_reason("targets", h) for h in seen.values()]


def _measures(
    fields: dict[str, str], action_type: ActionType | None
) -> tuple[tuple[Measure, ...], list[Reason]]:
    seen: dict[Measure, Reason] = {}
    for hit in _hits(MEASURE_CUES, fields):
        seen.setdefault(Measure(hit.value), _reason("measures", hit))
    # The kind of action implies a measure even when no measure word is written.
    implied = {
        ActionType.DELISTING: Measure.DELISTING,
        ActionType.GENERAL_LICENCE: Measure.LICENCE,
        ActionType.EXPORT_LISTING: Measure.EXPORT_CONTROL,
        ActionType.VISA_RESTRICTION: Measure.TRAVEL_BAN,
    }
    if action_type in implied:
        measure = implied[action_type]
        seen.setdefault(measure, Reason("measures", f"implied:{action_type}", "", ""))
    ordered = tuple(m for m in Measure if m in seen)
    return ordered, [seen[m] for m in ordered]
