"""The spellings under which an entity can appear in news text.

A list writes "PUTIN, Vladimir Vladimirovich" or "PJSC Rosneft Oil Company"; a story
writes "President Vladimir Putin" or "Rosneft's". `entity_forms` turns each name and alias
of an entity into the word sequences to look for, without hand-written aliases:

* persons: honorifics and titles dropped ("President", "Sheikh", "Dr"); "LAST, First"
  turned round; the surname first as well as last ("Putin Vladimir", the order of
  Russian, Chinese and Korean lists); patronymics optional ("Vladimir Putin" for
  "Vladimir Vladimirovich Putin"); the Arabic article optional and tolerated
  ("Muammar Gaddafi", "Muammar al-Gaddafi");
* organisations: legal forms dropped at either end (PJSC, OOO, AO, LLC, GmbH, "joint
  stock company"...), so "PJSC Rosneft" is found as "Rosneft" and as "ПАО «Роснефть»";
* vessels: the name, and each IMO number as "IMO 9123456", "IMO9123456" or the bare number;
* countries: every name and demonym in `countries` ("Russia", "Russian Federation",
  "Russian", "Russians").

Every name part must be present: a surname alone never matches a person (it is a weak
alias at most), so "Kim" or "Kim Jong" never stands for Kim Jong Un.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alerts.domain import Entity, EntityKind
from alerts.matching.countries import find_country
from alerts.matching.keys import plain_key, words

__all__ = [
    "NameForm",
    "entity_forms",
    "identifier_problem",
    "imo_number",
    "is_patronymic_key",
]


@dataclass(frozen=True, slots=True)
class NameForm:
    """One word sequence to look for, and the name or alias it came from."""

    words: tuple[str, ...]  # as written, in the order to look for
    source: str  # the entity's name or alias as written
    strong: bool  # False for weak aliases: they only count beside a strong form
    fuzzy: bool  # may match with one typo per long part (see engine)
    # Scripts of text to look in (see keys.variants): the surname-first, initials and "al-"
    # forms are Latin/Cyrillic habits, not worth automaton states for Arabic text.
    scripts: frozenset[str] = frozenset({"latin", "cyrillic", "abjad"})
    gap: bool = False  # may have a patronymic after its first word (see engine)
    identifier: bool = False  # an IMO or registration number, not a name


def _keys(*names: str) -> frozenset[str]:
    return frozenset(plain_key(n) for n in names)


_HONORIFICS = _keys(
    *[
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "dame",
        "lord",
        "lady",
        "madam",
        "mme",
        "mlle",
        "herr",
        "frau",
    ],
    *[
        "gen",
        "general",
        "col",
        "colonel",
        "maj",
        "major",
        "capt",
        "captain",
        "lt",
        "lieutenant",
        "adm",
        "admiral",
    ],
    *["brig", "brigadier", "marshal", "commander", "cmdr", "sgt", "sergeant"],
    *[
        "president",
        "pres",
        "premier",
        "chancellor",
        "minister",
        "senator",
        "sen",
        "rep",
        "deputy",
        "governor",
    ],
    *["mayor", "ambassador", "judge", "justice", "chairman", "chairwoman", "director", "ceo"],
    *[
        "sheikh",
        "shaikh",
        "sheik",
        "emir",
        "amir",
        "prince",
        "princess",
        "king",
        "queen",
        "sultan",
        "crown",
    ],
    *["haji", "hajji", "hajj", "mullah", "mawlawi", "maulana", "ayatollah", "hojatoleslam", "imam"],
    *["rev", "reverend", "father", "patriarch", "metropolitan", "bishop", "archbishop", "pope"],
    *["comrade", "excellency", "his", "her", "hon", "honourable", "honorable", "the"],
)

# Legal forms, matched as whole word sequences at the start or end of a company name.
_LEGAL_PHRASES = (
    "public joint stock company",
    "open joint stock company",
    "closed joint stock company",
    "joint stock company",
    "limited liability company",
    "limited liability partnership",
    "private limited company",
    "public limited company",
    "company limited",
)
_LEGAL_WORDS = (
    "PJSC OJSC CJSC JSC PAO OAO ZAO OOO AO NAO LLC LLP LP LTD Limited Inc Incorporated "
    "Corp Corporation Co PLC GmbH AG SA SAS SARL SRL SpA BV NV FZE FZCO FZC Pte Pty KG Oy "
    "AB AS ASA SAL WLL BSC TOV TOO FGUP GUP MUP ПАО ОАО ЗАО ООО АО НАО ТОВ ТОО ФГУП ГУП"
)
_LEGAL_FORMS = frozenset(
    {tuple(plain_key(w) for w in words(p)) for p in _LEGAL_PHRASES}
    | {(plain_key(w),) for w in words(_LEGAL_WORDS)}
)
# Longest first, so "public joint stock company" goes before "joint stock company".
_LEGAL_LENGTHS = sorted({len(f) for f in _LEGAL_FORMS}, reverse=True)

# Patronymic endings in keys (after romanise: -ovych -> -ovich; Cyrillic stems lose the
# final vowel, hence -ovn/-evn).
_PATRONYMIC_ENDINGS = ("vich", "vna", "ovn", "evn", "ovic", "evic", "ogli", "oglu", "kizi", "ichna")
_ARTICLES = _keys("al", "el")
_IMO_RE = re.compile(r"^(?:imo)?\s*:?\s*(\d{7})$", re.IGNORECASE)

MIN_FUZZY_PART = 6  # shorter name parts must match exactly (Un is not Il)


MIN_IDENTIFIER = 6  # letters and digits; shorter numbers turn up everywhere in news


def identifier_problem(identifier: str) -> str | None:
    """Why `identifier` cannot be matched safely, or None.

    An IMO number must carry a valid check digit; any other identifier needs at least
    `MIN_IDENTIFIER` letters and digits, one of them a digit ("12" would match every 12).
    """
    text = identifier.strip()
    m = _IMO_RE.match(text)
    if m is not None or text[:3].casefold() == "imo":
        if m is None:
            return f"identifier {text!r}: an IMO number has 7 digits"
        if imo_number(m.group(1)) is None:
            return f"identifier {text!r}: wrong IMO check digit"
        return None
    alnum = [ch for ch in text if ch.isalnum()]
    if len(alnum) < MIN_IDENTIFIER or not any(ch.isdigit() for ch in alnum):
        return (
            f"identifier {text!r}: too short to find reliably in news "
            f"(at least {MIN_IDENTIFIER} letters and digits, one a digit)"
        )
    return None


def imo_number(identifier: str) -> str | None:
    """The seven digits of an IMO ship number ("IMO 9123456", "9123456"), if it is one."""
    m = _IMO_RE.match(identifier.strip())
    if m is None:
        return None
    digits = m.group(1)
    # IMO numbers carry a check digit: sum of the first six digits weighted 7..2, mod 10.
    check = sum(int(d) * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10
    return digits if check == int(digits[6]) else None


def _strip_honorifics(parts: list[str]) -> list[str]:
    while len(parts) > 1 and plain_key(parts[0]) in _HONORIFICS:
        parts = parts[1:]
    return parts


def _strip_legal_forms(parts: list[str]) -> list[str]:
    changed = True
    while changed and len(parts) > 1:
        changed = False
        keys = tuple(plain_key(p) for p in parts)
        for n in _LEGAL_LENGTHS:
            if n >= len(parts):
                continue
            if keys[:n] in _LEGAL_FORMS:
                parts, changed = parts[n:], True
                break
            if keys[-n:] in _LEGAL_FORMS:
                parts, changed = parts[:-n], True
                break
    return parts


def is_patronymic_key(key: str) -> bool:
    """Whether a text key looks like an East Slavic/Turkic patronymic ("Anatolyevich")."""
    return len(key) > 6 and key.lstrip("^").endswith(_PATRONYMIC_ENDINGS)


def _is_patronymic(part: str) -> bool:
    return is_patronymic_key(plain_key(part))


_LATIN = frozenset({"latin"})
_LATIN_CYRILLIC = frozenset({"latin", "cyrillic"})
_CYRILLIC = frozenset({"cyrillic"})


@dataclass(frozen=True, slots=True)
class _Form:
    words: tuple[str, ...]
    scripts: frozenset[str] | None = None  # None: every script
    fuzzy: bool = True
    gap: bool = False  # a patronymic may stand after the first word


def _with_article(form: tuple[str, ...]) -> tuple[str, ...] | None:
    """The form with "al" before the last part ("Muammar al-Gaddafi"), if it has none."""
    if len(form) < 2 or plain_key(form[-2]) in _ARTICLES:
        return None
    return (*form[:-1], "al", form[-1])


def _person_forms(name: str) -> list[_Form]:
    head, comma, tail = name.partition(",")
    parts = words(tail) + words(head) if comma and words(tail) else words(name)
    parts = _strip_honorifics(parts)
    bases = [tuple(parts)]
    if len(parts) > 2:
        short = tuple(
            p for i, p in enumerate(parts) if i in (0, len(parts) - 1) or not _is_patronymic(p)
        )
        if short != bases[0]:
            bases.append(short)
    forms: list[_Form] = []
    for base in bases:
        no_article = tuple(p for p in base if plain_key(p) not in _ARTICLES)
        candidates = [base]
        if len(no_article) >= 2 and no_article != base:
            candidates.append(no_article)
        for form in candidates:
            has_patronymic = any(_is_patronymic(p) for p in form)
            forms.append(_Form(form, gap=len(form) >= 2 and not has_patronymic))
            if len(form) >= 2:
                forms.append(_Form((form[-1], *form[:-1]), _LATIN_CYRILLIC))  # surname first
            if len(form) >= 3 and not has_patronymic:
                # Surnames first, the given name last: Spanish and Portuguese lists write
                # "MADURO MOROS, Nicolas".
                forms.append(_Form((*form[1:], form[0]), _LATIN_CYRILLIC))
            if not has_patronymic and (with_article := _with_article(form)) is not None:
                forms.append(_Form(with_article, _LATIN))
    # Initials, as official Russian texts write them: "В. Путин", "Путин В. В.", for
    # names with a patronymic (the ones such texts are about), in Cyrillic text only:
    # Latin news writes names out, and at 100,000 names these forms cost memory.
    full = tuple(p for p in bases[0] if plain_key(p) not in _ARTICLES)
    if len(full) >= 3 and any(_is_patronymic(p) for p in full[1:-1]):
        initials = tuple(p[0] for p in full[:-1])
        for form in dict.fromkeys([(full[0][0], full[-1]), (full[-1], *initials)]):
            forms.append(_Form(form, _CYRILLIC, fuzzy=False))
    return forms


def _organisation_forms(name: str) -> list[tuple[str, ...]]:
    parts = words(name)
    stripped = tuple(_strip_legal_forms(parts))
    if len(stripped) == 1 and len(plain_key(stripped[0])) < 4:
        stripped = tuple(parts)  # "Jin FZE" alone would be "jin": keep the legal form
    forms = [stripped]
    # Brands written as one word: "IranAir", "Gazpromneft" (not numbers: "Nord Stream 2").
    if 2 <= len(stripped) <= 3 and all(p.isalpha() for p in stripped):
        forms.append(("".join(stripped),))
    return forms


def entity_forms(entity: Entity) -> list[NameForm]:
    """Every word sequence that stands for `entity`, strong forms first, without repeats."""
    out: list[NameForm] = []
    seen: set[tuple[str, ...]] = set()

    def add(
        form: tuple[str, ...],
        source: str,
        *,
        strong: bool,
        fuzzy: bool,
        scripts: frozenset[str] | None = None,
        gap: bool = False,
        identifier: bool = False,
    ) -> None:
        key = tuple(plain_key(w) for w in form)
        if form and key not in seen:
            seen.add(key)
            every = frozenset({"latin", "cyrillic", "abjad"})
            out.append(NameForm(form, source, strong, fuzzy, scripts or every, gap, identifier))

    names = [(entity.name, True), *((a, True) for a in entity.aliases)]
    names += [(a, False) for a in entity.weak_aliases]
    for name, strong in names:
        if entity.kind is EntityKind.PERSON:
            for f in _person_forms(name):
                add(
                    f.words,
                    name,
                    strong=strong,
                    fuzzy=strong and f.fuzzy,
                    scripts=f.scripts,
                    gap=strong and f.gap,
                )
        elif entity.kind is EntityKind.COUNTRY:
            add(tuple(words(name)), name, strong=strong, fuzzy=False)
            country = find_country(name)
            if country is not None:
                for other in (*country.names, *country.demonyms, *country.native):
                    add(tuple(words(other)), other, strong=strong, fuzzy=False)
        else:  # organisations and vessels
            for form in _organisation_forms(name):
                add(form, name, strong=strong, fuzzy=strong)
    for identifier in entity.identifiers:
        imo = imo_number(identifier)
        if imo is not None:
            add(("IMO", imo), identifier, strong=True, fuzzy=False, identifier=True)
            add((f"IMO{imo}",), identifier, strong=True, fuzzy=False, identifier=True)
            add((imo,), identifier, strong=True, fuzzy=False, identifier=True)
        else:
            add(tuple(words(identifier)), identifier, strong=True, fuzzy=False, identifier=True)
    return out
