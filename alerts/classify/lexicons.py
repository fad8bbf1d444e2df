# ruff: noqa: E501  (a lexicon entry is one regex alternation; wrapping it hides the words)
"""The word lists the classifier reads: each entry is a named regex, so a reason can cite it.

Patterns are case-insensitive unless marked, matched on whole words (`(?<!\\w)` and
`(?!\\w)`, which Python applies to Cyrillic and accented letters too). Names are short and
stable ("action:imposes", "neg:sport"): they are what `Reason.rule` shows to an operator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from alerts.matching.countries import COUNTRIES

__all__ = [
    "ACTION_CUES",
    "COMMENTARY_CUES",
    "ISSUER_CUES",
    "MEASURE_CUES",
    "NEGATIVE_CUES",
    "OFFICIAL_CUES",
    "SANCTIONS_TERMS",
    "STRONG_REGIME_CUES",
    "TARGET_ALIASES",
    "Pattern",
    "any_of",
    "country_pattern",
]


@dataclass(frozen=True, slots=True)
class Pattern:
    """One lexicon entry: a rule name, the value it sets (if any) and its compiled regex.

    `lookup`, when given, maps the matched text to the value instead (one entry for every
    country name, each setting its own code).
    """

    name: str
    value: str
    regex: re.Pattern[str]
    lookup: Mapping[str, str] | None = None


# A count as headlines write it: "12", "1,200", "six", "fourteen", "dozens".
_NUM = r"\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|\w+ty(?:-\w+)?|dozens?|hundreds?"


# What follows "sanctions" used as a verb: a number, a capitalised name or a plural of the
# people and things sanctioned; not a noun that makes "sanctions" the noun ("sanctions
# relief", "Sanctions Tracker"). Case-sensitive.
_VERB_OBJECT = r"['‘\"“]?(?!(?:Relief|Policy|Regime|Regimes|Regulations?|Amendments?|Orders?|Bill|Measures|Committee|Notice|Team|Unit|Office|Officers?|Lawyers?|Experts?|Screening|Data|Tracker|Update|Updates|Law|Laws|Act|List|Lists|Program|Programs|Evasion|Compliance|Risk|News|Watch|Package|Against|On|Over|Are|Is|Will|Have|Hit|Bite|Fail|Work|Could|May|Explained)(?!\w))(?:\d+|[A-Z][\w'’-]*|more|two|three|four|five|six|seven|eight|nine|ten|dozens|entities|individuals|officials|people|firms|companies|vessels|ships|tankers|networks|banks|leaders|judges|generals|members|oligarchs|suppliers|traders|brokers|those|hackers|financiers|ministers|lawmakers|businessmen|tycoons|executives|militias?|commanders|gangs|smugglers|refineries|former|senior|military|intelligence|shadow|further|additional)(?!\w)"


_WORD_START = r"(?<!\w)(?:"
_WORD_END = r")(?!\w)"


def _p(name: str, value: str, pattern: str, *, case: bool = False) -> Pattern:
    """An entry matching `pattern` as whole words; `<NUM>` in it stands for a count."""
    pattern = pattern.replace("<NUM>", _NUM)
    flags = 0 if case else re.IGNORECASE
    return Pattern(name, value, re.compile(f"{_WORD_START}{pattern}{_WORD_END}", flags))


def any_of(patterns: Iterable[Pattern]) -> tuple[re.Pattern[str], ...]:
    """Regexes that find a match wherever any of `patterns` would: one per set of flags.

    A gate, not a replacement: one scan says whether a text can hit a lexicon at all,
    three to four times faster than trying each entry, and most news hits none.
    """
    by_flags: dict[int, list[str]] = {}
    for pattern in patterns:
        by_flags.setdefault(pattern.regex.flags, []).append(pattern.regex.pattern)
    gates = []
    for flags, sources in by_flags.items():
        # Entries from `_p` share the whole-word wrapper: tried once, not once per entry.
        if all(s.startswith(_WORD_START) and s.endswith(_WORD_END) for s in sources):
            inner = (s[len(_WORD_START) : -len(_WORD_END)] for s in sources)
            union = _WORD_START + "|".join(f"(?:{i})" for i in inner) + _WORD_END
        else:
            union = "|".join(f"(?:{source})" for source in sources)
        gates.append(re.compile(union, flags))
    return tuple(gates)


def _trie(words: Iterable[str]) -> str:
    """A regex alternation of `words` folded into a prefix tree ("Niger(?:ia)?|...").

    It matches what the flat alternation of the words, longest first, matches, but the
    regex engine tries each letter once instead of every word at every position: the
    country pattern (about 800 forms) went from 45 to 4 µs per labelled item.
    """
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(c) + build(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        # Longer branches are tried before ending here, so the longest form wins.
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else f"{body}?"
        return body

    return build(tree)


# --- Is the word "sanctions" (or a sibling) here at all? -----------------------------------
SANCTIONS_TERMS: tuple[Pattern, ...] = (
    _p("term:sanction", "", r"sanction(?:s|ed|ing|ne|nent|née?s?)?"),
    _p("term:sanktion", "", r"sanktion\w*|sanktions\w*"),
    _p("term:sancion", "", r"sanci(?:ó|o)n(?:es)?|sanciona\w*"),
    _p("term:sankcii", "", r"санкци\w*|антироссийск\w*"),
    _p("term:designation", "", r"designat(?:es|ed|ing|ions?)|de-?listings?|delist(?:s|ed|ing)?"),
    _p(
        "term:restrictive-measures",
        "",
        r"restrictive measures|mesures restrictives|restriktive maßnahmen|medidas restrictivas|ограничительн\w* мер\w*",
    ),
    _p(
        "term:asset-freeze",
        "",
        r"asset[- ]freezes?|(?:freez(?:e|es|ing)|froze) (?:the )?assets|blocks? (?:the )?(?:property|assets)|gel des avoirs",
    ),
    _p(
        "term:blacklist",
        "",
        r"blacklist(?:s|ed|ing)?|sdn list|specially designated nationals|consolidated list|entity list|unverified list|end-user list",
    ),
    _p(
        "term:export-controls",
        "",
        r"export (?:controls?|restrictions|bans?|curbs|crackdown)|chip curbs|restrict(?:s|ed|ing)? exports? to|exportkontroll\w*|contrôles? à l'exportation",
    ),
    _p(
        "term:visa",
        "",
        r"visa (?:restrictions?|bans?)|restrict(?:s|ed|ing)? visas|travel bans?|entry bans?|7031\(c\)|einreiseverbot\w*|запрет\w* на въезд",
    ),
    _p("term:embargo", "", r"(?:arms )?embargo(?:es|s)?"),
    _p(
        "term:general-licence",
        "",
        r"general (?:licen[cs]es?|permits?|authori[sz]ations?)|\bGL \d+[A-Z]?|allgemeine genehmigung\w*",
    ),
    _p("term:magnitsky", "", r"global magnitsky|magnitsky"),
    _p(
        "term:listing",
        "",
        r"lists (?:further |another |a further )?(?:<NUM>) (?:more |further )?(?:individuals|persons|entities|people|officials)|(?:new|latest|\d+(?:st|nd|rd|th)) (?:russia |iran |belarus )?package",
    ),
    # US Treasury and State headlines: "Treasury Takes Action Against ..." (only these
    # subjects: "EU takes action against Hungary" is an infringement case).
    _p(
        "term:takes-action",
        "",
        r"(?:treasury|ofac|state department|department of state)(?:'s)? (?:takes?|took|taking) actions? against",
    ),
    # Only a sanctions authority's licence: "Regulator issues licence to new bank" is not one.
    _p(
        "term:licence",
        "",
        r"(?:ofac|ofsi|otsi|treasury|seco|dfat)(?:'s)? (?:issues?|issued|grants?|granted|publish(?:es|ed)?) (?:a |an |new )?(?:[\w-]+ ){0,2}licen[cs]es?",
    ),
    # Sanctions laws named without the word "sanctions": Canada's Special Economic Measures
    # Act (SEMA) and its Magnitsky law; "special economic measures" alone is also a budget
    # phrase, so only the Act, its regulations or "under ..." count.
    _p(
        "term:regime-law",
        "",
        r"special economic measures (?:act|regulations|\(\w+\) regulations)|under (?:the )?special economic measures|justice for victims of corrupt foreign officials|sergei magnitsky law|autonomous sanctions|russia sanctions act|ieepa",
    ),
)

# --- Cues that the text reports an action taken (not discussed). Value = action_type. -----
ACTION_CUES: tuple[Pattern, ...] = (
    _p(
        "action:general-licence",
        "general_licence",
        r"(?:issues?|issued|issuing|publish(?:es|ed)?|amends|amended|extends|grants?|granted) (?:a |an |new |amended |revised )?(?:general |specific |wind-down |humanitarian )?licen[cs]es?|(?:new|amended|revised) (?:general )?licen[cs]es? (?:for|to|allowing|authori[sz]ing)|(?:with|under|via) (?:a |an )?(?:new|amended|revised) (?:general )?licen[cs]es?|general licen[cs]es? (?:\d+\w*|issued|authori[sz]ing)|issuance of (?:[\w-]+ ){0,3}general licen[cs]e\w*|(?:publishes|issues) (?:a |an )?(?:amended )?(?:general )?(?:authori[sz]ation|permit)|allgemeine genehmigung",
    ),
    _p(
        "action:delisting",
        "delisting",
        r"lifts?|lifted|lifting|eases?|eased|easing|removes?|removed|removals?|delists?|delisted|delisting|de-list(?:s|ed|ing)?|unfreez\w*|suspends? sanctions|revokes?|revoked|(?:drops?|dropped|ends?|ended|terminates?|terminated) (?:all |its |the )?sanctions|(?:drops?|dropped|strikes?|struck|takes?|taken) (?:[\w'-]+ ){0,4}(?:off|from) (?:the |its )?(?:[\w-]+ ){0,2}(?:sanctions )?list|hebt\w* .{0,40}auf|aufgehoben|lève|levée|levanta\w*|снял\w*|сняти\w*|отмен\w*",
    ),
    _p(
        "action:extension",
        "extension",
        r"extends?|extended|extension|continu(?:es|ed|ation)|renews?|renewed|renewal|prolongs?|prolonged|prolongation|rolls? over|verlänger\w*|prolonge\w*|reconduit|prorroga\w*|продл\w*",
    ),
    _p(
        "action:package",
        "package",
        r"(?:\d+(?:st|nd|rd|th)|new|latest|fresh|nineteenth|twentieth|twenty-first|\w+th) (?:sanctions )?package|package of (?:sanctions|restrictive measures)|san[ck]tions?paket\w*|paquet de sanctions|paquete de sanciones|пакет\w* санкций",
    ),
    # Switzerland taking over "further" EU sanctions is taking over the EU's next package.
    _p(
        "action:package-adopted",
        "package",
        r"(?:adopts?|adopted|implements?|implemented|übernimmt|übernommen|reprend|repris|applique) (?:the )?(?:further|latest|weitere|dernières) (?:eu[- ]?|eu's )?(?:sanctions|sanktionen)",
    ),
    _p(
        "action:export-listing",
        "export_listing",
        r"(?:adds?|added|adding|places?|placed) .{0,60}(?:to|on) (?:the |its )?(?:entity|unverified|(?:military )?end-user|export control|export ban) list|(?:entity list (?:additions|designations)|additions to the entity list)|restrict(?:s|ed)? exports? to|imposes? export (?:controls|restrictions|bans?)|tightens? export controls|new export controls|export bans? on|export (?:crackdown|curbs)|chip (?:export )?curbs",
    ),
    _p(
        "action:visa",
        "visa_restriction",
        r"(?:imposes?|imposed|announces?|announced|issues?|slaps?|slapped) .{0,30}(?:visa restrictions|visa bans?|travel bans?|entry bans?)|visa restrictions on|restrict(?:s|ed)? visas|(?:bans?|banned|bars?|barred) entry|einreiseverbot\w*|запрет\w* на въезд",
    ),
    _p(
        "action:adopted",
        "designation",
        r"adopts?|adopted|implements?|implemented|übernimmt|übernehmen|setzt .{0,60} um(?=$|[.,;:])|umgesetzt|applique|reprend|agrees?|agreed|approves?|approved|verabschiede\w*|beschlie\w*|beschlossen|adopte\w*|aprueba\w*|утвердил\w*|принял\w*",
    ),
    _p(
        "action:designation",
        "designation",
        r"designat(?:es|ed|ing|ions?)|sanctions? (?:designations|listings?)|(?:imposes?|imposed|imposing|announces?|announced|introduces?|introduced) (?:an? )?(?:[\w-]+ ){0,3}(?:sanctions|restrictive measures|asset[- ]freezes?)|slap(?:s|ped)? (?:new |further )?sanctions|new (?:[\w-]+ )?sanctions (?:on|against|targeting|targets?|over|hits?)|(?:further|additional|fresh|more) sanctions (?:on|against)|sanctions? (?:list )?updates?|sanctions? (?:on|against) \d+|(?:revises|revised|amends|amended|updates|updated) (?:[\w-]+ ){0,3}entr(?:y|ies)|(?:adds?|added) (?:(?:<NUM>) )?(?:new )?entr(?:y|ies)|blacklists?|blacklisted|freezes|froze|freeze assets|targets? .{0,60}with (?:new )?sanctions|hits? .{0,60}with (?:new |fresh |more |further |additional )?sanctions|(?:adds?|added) .{0,60}to (?:the |its )?(?:[\w-]+ ){0,3}(?:sanctions|sdn|consolidated|terrorist)(?: act)? (?:list|register)|lists (?:further |another |a further )?(?:<NUM>)(?!\w)|(?:takes?|took|taking) actions? against|lists (?:[\w'-]+ ){1,4}under|listings?|neue sanktionen|verhäng\w*|sanktioniert\w*|nouvelles sanctions|sanctionne\w*|impose\w* des sanctions|nuevas sanciones|impone\w* sanciones|sanciona\w*|ввел\w* санкции|ввод\w* санкции|новые санкции|расширил\w* санкц\w*",
    ),
    # "X sanctions Y": the verb, with a capitalised or numeric object after it.
    _p(
        "action:sanctions-verb",
        "designation",
        r"(?<=\S )(?:[Ss]anctions?|[Ss]anctioned|[Ss]anctioning) " + _VERB_OBJECT,
        case=True,
    ),
)

# Category labels that official listings put on their own actions (OFAC Recent Actions).
OFFICIAL_CUES: tuple[Pattern, ...] = (
    _p(
        "official:designations",
        "designation",
        r"(?:\w+[- ]related )?designations?(?: updates?| removals?)?|sanctions list updates|counter terrorism designations?|financial sanctions notice|notice to exporters|consolidated list (?:update|amendment)|implementation of|amendments? to the .{0,40}(?:regulations|decision)|council implementing regulation",
    ),
)

# --- Hard negatives -------------------------------------------------------------------------
NEGATIVE_CUES: tuple[Pattern, ...] = (
    _p(
        "neg:sport",
        "",
        r"ncaa|fifa|uefa|ioc|wada|rusada|nfl|nba|nhl|mlb|premier league|football association|the fa|league|club|clubs|coach\w*|player\w*|team|teams|doping|athletes?|olympic\w*|match-fixing|racing|stewards|tournament|bundesliga|ligue 1|la liga|sports?|joueurs?|fédération|federation|spieler\w*|verein\w*|disciplinaires?",
    ),
    _p(
        "neg:court",
        "",
        r"judges?|richter\w*|anwalt\w*|court|courts|attorneys?|lawyers?|counsel|law firm|bar association|disciplinary|misconduct|contempt|discovery|litigants?|plaintiffs?|defendants?|tribunal disciplin\w*|avocats?|anwält\w*|gericht\w*",
    ),
    _p(
        "neg:budget",
        "",
        r"sanction(?:s|ed)? (?:the )?(?:funding|budget|spending|plan|plans|use|hiring|posts|release|expenditure|project|scheme|loan|grant)|(?:funding|budget|spending|posts|project|scheme) (?:was |were |is )?sanctioned|planning (?:committee|permission)|sanctioned (?:by|for) (?:the )?(?:council|board|ministry of finance)|sanctioned strength|sanctioned posts|lakh|crore|sanction(?:s|ed|ing)? (?:rs\.? ?|₹|\$|€|£)?(?:<NUM>) (?:[\w-]+ ){0,3}(?:posts|jobs|positions|vacancies|beds|schools|homes|houses|roads|projects|schemes|grants|loans)",
    ),
    _p(
        "neg:enforcement",
        "",
        r"settles?|settled|settlement|civil penalt\w*|penalt(?:y|ies)|fined|fines?|apparent violations?|pleads? guilty|pleaded guilty|charged|indicted|indictment|sentenced|convicted|arrested|evasion scheme|evading sanctions|sanctions evasion|sanctions-busting|violat(?:ed|ing|ions?) (?:u\.?s\.? )?sanctions",
    ),
    _p(
        "neg:regulator",
        "",
        r"finra|sec sanctions|the sec|fca fines|central bank sanctions|rbi|sebi|regulator sanctions|disciplines?",
    ),
    _p(
        "neg:politics",
        "",
        r"whip|party discipline|standards (?:committee|commissioner)|ethics (?:committee|panel|commission)|expels?|expelled",
    ),
    # Court, police and insolvency freezing orders are not sanctions asset freezes.
    _p(
        "neg:freezing-order",
        "",
        r"police|fraud\w*|scam\w*|ponzi|divorce|bankruptcy|insolvency|liquidators?|creditors?|freezing orders?|drug gangs?|money laundering (?:probe|case|investigation|inquiry)",
    ),
    _p(
        "neg:industry",
        "",
        r"screening|compliance (?:teams?|officers?|software|tools?|programmes?|programs?|platforms?)|software|fintech|regtech|vendors?",
    ),
    _p(
        "neg:commodity",
        "",
        r"rice|wheat|sugar|onions?|grain|maize|food|fertili[sz]ers?|palm oil|livestock|cattle|eggs",
    ),
    # A press embargo is no arms embargo.
    _p(
        "neg:press-embargo",
        "",
        r"(?:press|news|media|publication) embargo|embargoed|under embargo|embargo on (?:press|news|media|coverage|publication|reporting)",
    ),
    # Governments designate parks, heritage sites, zones and gatekeepers too. "strong-only":
    # "UK designates new national park" has the government as subject.
    _p(
        "neg:other-designation",
        "strong-only",
        r"designat\w* (?:[\w'-]+ ){0,4}(?:national parks?|parks?|heritage|monuments?|protected areas?|conservation areas?|sanctuar\w*|freeports?|zones?|gatekeepers?|broadcasters?|species|landmarks?|sites?|wilderness|wetlands?|hospitals?|airports?|universit\w*|schools?|city|cities|capitals?|holidays?|corridors?)",
    ),
    # Tourist and student visa rules. Value "strong-only": a government as the subject does
    # not overrule it ("Japan eases visa restrictions for Chinese tourists" is not a delisting);
    # only a sanctions-regime cue does.
    _p(
        "neg:immigration",
        "strong-only",
        r"(?:for|on) (?:[\w-]+ ){0,2}(?:tourists|students|visitors|holidaymakers|refugees|asylum seekers)|tourism|visa-free|visa waivers?|e-visas?|(?:work|student|tourist|golden) visas?|digital nomads?",
    ),
)

# Commentary, analysis, speculation: the title is about sanctions, not an action taken.
COMMENTARY_CUES: tuple[Pattern, ...] = (
    _p(
        "comment:label",
        "",
        r"analysis|opinion|op-ed|comment|commentary|editorial|explainer|remarks|speech|readout|explained|podcast|webinar|review|annual report|faqs?|frequently asked|guidance|interview|q&a|factbox|fact box|timeline|in charts|live|kommentar|analyse|tribune|éditorial|análisis|opinión|мнение|анализ|колонка",
    ),
    _p(
        "comment:speculation",
        "",
        r"could|may|might|would|should|weighs?|weighing|considers?|considering|mulls?|mulling|eyes|eyeing|plans?|planning|prepares?|preparing|proposes?|proposed|proposal|draft|drafts|threatens?|threatened|warns?|urges?|urged|calls? (?:for|on)|push(?:es)? for|seeks?|demands?|vows?|pledges?|set to|poised to|fails? to|failed to|veto\w*|expected to|likely|(?<!peace )talks?|negotiat\w*|debate\w*|discuss\w*|könnte\w*|erwäg\w*|plant|prüft|pourrait|envisage\w*|propose\w*|podría\w*|propone\w*|может|могут|планир\w*|обсужда\w*|предлож\w*",
    ),
    _p(
        "comment:about",
        "",
        r"what .{0,40}means?|how .{0,40}(?:work|bite|hurt|affect)s?|why |impact of|effect(?:s|iveness)? of|despite (?:western |us |eu )?sanctions|under sanctions|sanctions-hit|sanctions bite|sanctions-weary|sanctions fatigue|sanctions regime at|years of sanctions|lessons|study|report (?:finds|says|shows)|researchers|(?<!panel of )experts?|economists?|survey|ranking|guide to|a look at|the case for|the case against|\?|citing (?:[\w-]+ )?sanctions|(?:due to|because of|amid) (?:[\w-]+ ){0,2}sanctions|wirkung|trotz sanktionen|malgré les sanctions|несмотря на санкции|из-за санкций|wegen der sanktionen|à cause des sanctions",
    ),
    _p(
        "comment:reaction",
        "",
        r"condemns?|criticises?|criticizes?|slams?|reacts?|responds? to|denounces?|hits back|decries|rejects|protests?|calls .{0,20}illegal|вызвал\w*|осудил\w*",
    ),
)

# Cues that only a government sanctions regime uses: they overrule any hard negative. ("asset
# freeze" is not one: courts and police freeze assets too.)
STRONG_REGIME_CUES: tuple[Pattern, ...] = (
    _p(
        "strong:ofac",
        "",
        r"ofac|ofsi|otsi|hm treasury|fcdo|seco|dfat|global affairs canada|security council|entity list|sdn|restrictive measures|global magnitsky|sanctions list|consolidated list|council of the eu|eu council",
    ),
)

# --- Issuers: the authority that took the action -------------------------------------------
# Ordered: specific authorities before country words, so "HM Treasury" is UK, not the US
# "Treasury", and "the Council" is EU unless "Security Council" or "Federal Council" matched.
ISSUER_CUES: tuple[Pattern, ...] = (
    _p(
        "issuer:hm-treasury",
        "UK",
        r"hm treasury|his majesty's treasury|ofsi|office of financial sanctions implementation|otsi|fcdo|foreign,? commonwealth (?:and|&) development office|foreign office|foreign secretary",
    ),
    _p(
        "issuer:un",
        "UN",
        r"(?:un|u\.n\.|united nations) security council|security council(?: committee)?|sanctions committee|\d{3,4} committee|united nations|vereinte\w* nationen|nations unies|naciones unidas|оон|совбез\w*|совет\w* безопасности",
    ),
    _p("issuer:un-abbr", "UN", r"UN|U\.N\.|ONU|UNO|ООН", case=True),
    _p(
        "issuer:swiss",
        "CH",
        r"seco|state secretariat for economic affairs|federal council|swiss|switzerland|schweiz\w*|bundesrat|conseil fédéral|suisse|bern|berne",
    ),
    # The Commerce Department's Bureau of Industry and Security keeps the Entity List (not
    # China's "unreliable entity list"). Headlines also say "Commerce adds ...": there the
    # capital and the verb are required, so "e-commerce" or "Commerce Ministry" (China's
    # MOFCOM) never count.
    _p(
        "issuer:us-commerce",
        "US",
        r"bureau of industry and security|commerce department|department of commerce|(?<!unreliable )entity list",
    ),
    _p(
        "issuer:us-commerce-verb",
        "US",
        r"Commerce(?= (?:[Aa]dds|[Aa]dded|[Ii]mposes|[Tt]ightens|[Rr]estricts|[Bb]lacklists|[Pp]laces|[Ee]xpands|[Rr]emoves|[Ii]ssues|[Uu]pdates|[Rr]evises|[Aa]nnounces)(?!\w))",
        case=True,
    ),
    _p(
        "issuer:us-agency",
        "US",
        r"ofac|office of foreign assets control|treasury department|u\.?s\.? treasury|us treasury|treasury|state department|department of state|secretary of state|white house|biden|trump|washington|united states|american|etats-unis|états-unis|vereinigte\w* staaten|estados unidos|сша|вашингтон|минфин сша",
    ),
    _p("issuer:us-abbr", "US", r"US|U\.S\.|USA|BIS", case=True),
    _p(
        "issuer:eu",
        "EU",
        r"council of the (?:european union|eu)|eu council|european council|european union|european commission|the council|council adopts?|council (?:prolongs|extends|imposes|lists|renews)|eu|eu's|eu-|brussels|union européenne|\bue\b|conseil de l'ue|europäische\w* union|rat der eu|eu-staaten|unión europea|евросоюз\w*|\bес\b|брюссел\w*",
    ),
    _p(
        "issuer:uk",
        "UK",
        r"uk|u\.k\.|united kingdom|britain|british|london|великобритани\w*|großbritannien|britische\w*|royaume-uni|britannique\w*|reino unido|британи\w*|лондон\w*",
    ),
    _p(
        "issuer:canada",
        "CA",
        r"global affairs canada|canada|canadian|ottawa|special economic measures|kanada|canadá|канад\w*",
    ),
    _p(
        "issuer:australia",
        "AU",
        r"dfat|department of foreign affairs and trade|australia|australian|canberra|autonomous sanctions|australien|australie|австрали\w*",
    ),
    _p(
        "issuer:japan",
        "JP",
        r"meti|mof|ministry of economy, trade and industry|japan|japanese|tokyo|japon|japón|япони\w*|токио",
    ),
    _p(
        "issuer:new-zealand",
        "NZ",
        r"new zealand|mfat|wellington|russia sanctions act|neuseeland|nouvelle-zélande|новая зеландия|новой зеландии",
    ),
    _p(
        "issuer:china",
        "CN",
        r"(?:china|beijing|chinese (?:commerce|foreign) ministry|(?:china|beijing)'s (?:commerce|foreign) ministry|mofcom)(?:'s)? (?:sanctions|imposes|bans|adds|places|announces|slaps|retaliates)|unreliable entity list|китай ввел\w*",
    ),
    _p(
        "issuer:russia",
        "RU",
        r"(?:russia|moscow|kremlin|russian foreign ministry)(?:'s)? (?!sanctions (?:act|regulations?|regime|list|package|programs?|tracker|relief|policy)(?!\w))(?:sanctions|imposes|bans|bars|adds|expands|announces|blacklists|retaliates)|мид россии|россия ввела|москва ввела",
    ),
)


def _country_subject() -> Pattern:
    """Any country *name* as the subject of a sanctions verb: "Iran sanctions EU officials",
    "Belarus imposes ..."; the issuer is the country's own code (GB is "UK").

    Names only, not demonyms ("Russian sanctions on ..." is a noun phrase).
    """
    names: dict[str, str] = {}
    for country in COUNTRIES:
        for name in country.names:
            names.setdefault(name, "UK" if country.code == "GB" else country.code)
    alternation = _trie(names)
    verbs = r"(?:'s (?:foreign |commerce )?ministry)? (?:imposes|bans|bars|blacklists|retaliates|slaps|expels)(?!\w)"
    regex = re.compile(rf"(?<!\w)(?:{alternation})(?=(?:{verbs})| [Ss]anctions {_VERB_OBJECT})")
    return Pattern("issuer:country-subject", "", regex, lookup=names)


ISSUER_CUES = (*ISSUER_CUES, _country_subject())

# Issuer code -> the ISO code of its own country, never a target of its own sanctions.
ISSUER_COUNTRY: dict[str, str] = {
    "US": "US", "UK": "GB", "CA": "CA", "AU": "AU", "CH": "CH", "JP": "JP", "NZ": "NZ",
    "CN": "CN", "RU": "RU",
}  # fmt: skip

# --- Measures --------------------------------------------------------------------------------
MEASURE_CUES: tuple[Pattern, ...] = (
    _p(
        "measure:asset-freeze",
        "asset_freeze",
        r"asset[- ]freezes?|freez\w* (?:of )?(?:the )?assets|blocks? (?:the )?(?:property|assets)|blocking|designat\w*|sdn|gel des avoirs|einfrieren|vermögenssperre|заморозк\w* актив\w*",
    ),
    _p(
        "measure:travel-ban",
        "travel_ban",
        r"travel bans?|visa (?:restrictions?|bans?)|entry bans?|bars? entry|einreiseverbot\w*|interdiction de (?:voyager|territoire)|запрет\w* на въезд",
    ),
    _p(
        "measure:export-control",
        "export_control",
        r"export (?:controls?|restrictions|bans?)|entity list|unverified list|end-user list|dual-use|semiconductors?|chips|exportkontroll\w*|exportverbot\w*",
    ),
    _p(
        "measure:arms-embargo",
        "arms_embargo",
        r"arms embargo\w*|waffenembargo|embargo sur les armes|оружейн\w* эмбарго",
    ),
    _p(
        "measure:sectoral",
        "sectoral",
        r"sectoral|price cap|oil cap|import bans?|swift|shadow fleet|tankers?|lng|oil|energy sector|financial sector|banks?|banking|metals?|diamonds?|steel|aluminium|aluminum|shipping|ölembargo|preisdeckel|plafonnement",
    ),
    _p(
        "measure:delisting",
        "delisting",
        r"delist\w*|de-list\w*|removes?|removed|removal|lifts?|lifted|unfreez\w*|aufgehoben|levée",
    ),
    _p(
        "measure:licence",
        "licence",
        r"general licen[cs]es?|licen[cs]es?|authori[sz]ations?|allgemeine genehmigung\w*",
    ),
)

# --- Targets ---------------------------------------------------------------------------------
# Capitals, leaders and foreign-language forms that name a sanctions regime's country.
TARGET_ALIASES: tuple[Pattern, ...] = (
    _p(
        "target:ru-alias",
        "RU",
        r"kremlin|kreml|moscow|moskau|moscou|moscú|russland|russische\w*|russie|russes?|rusia|rus[oa]s?|россия|росси[июей]|российск\w*|москв\w*|кремл\w*|рф",
    ),
    _p(
        "target:ir-alias",
        "IR",
        r"tehran|teheran|téhéran|iranische\w*|iranien\w*|irán|иран\w*|irgc|revolutionary guards?",
    ),
    _p(
        "target:kp-alias",
        "KP",
        r"pyongyang|nordkorea\w*|corée du nord|corea del norte|кндр|северн\w* коре\w*",
    ),
    _p(
        "target:by-alias",
        "BY",
        r"minsk|lukashenko|lukaschenko|weißrussland|belarus\w*|biélorussie|bielorrusia|беларус\w*|белорусс\w*",
    ),
    _p("target:sy-alias", "SY", r"damascus|assad|syrien|syrie|siria|сири\w*"),
    _p("target:ve-alias", "VE", r"caracas|maduro|pdvsa|venezolan\w*|venezuelan\w*"),
    _p("target:un-committee", "KP", r"1718 committee"),
    _p("target:un-committee-ly", "LY", r"1970 committee"),
    _p("target:un-committee-ye", "YE", r"2140 committee"),
    _p("target:mm-alias", "MM", r"naypyidaw|tatmadaw"),
    _p(
        "target:cn-alias", "CN", r"beijing|chinesische\w*|chinois\w*|chin[ao]s?|китай\w*|китайск\w*"
    ),
    _p("target:ye-alias", "YE", r"houthis?|ansarallah"),
    _p("target:cu-alias", "CU", r"havana|kuba"),
    _p("target:ni-alias", "NI", r"managua|ortega"),
    _p("target:af-alias", "AF", r"taliban"),
    _p("target:ua-alias", "UA", r"ukraine-related"),
    # A regime named by its law: NZ's Russia Sanctions Act (the issuer cue claims the span).
    _p("target:regime-law-ru", "RU", r"russia sanctions (?:act|regulations)"),
    _p(
        "regime:terrorism",
        "TERRORISM",
        r"isil|isis|da'?esh|al-qa'?ida|al-qaeda|al-shabaa?b|hizballah|hezbollah|hamas|counter[- ]terrorism|terrorist\w*|terrorism",
    ),
    _p(
        "regime:cyber", "CYBER", r"cyber\w*|ransomware|hackers?|malware|spyware|bulletproof hosting"
    ),
    _p("regime:human-rights", "HUMAN_RIGHTS", r"global magnitsky|human rights"),
    _p(
        "regime:narcotics",
        "NARCOTICS",
        r"cartels?|fentanyl|narcotics?|drug traffick\w*|counter narcotics",
    ),
)


def country_pattern() -> re.Pattern[str]:
    """One case-sensitive alternation of every country name, demonym and native form.

    Case-sensitive because names are capitalised and several are also ordinary words
    ("Chad", "Turkey", "Georgia"); longest forms first so "North Korea" wins over parts.
    """
    return re.compile(rf"(?<!\w)(?:{_trie(country_codes())})(?!\w)")


def country_codes() -> dict[str, str]:
    """Form -> code, for the forms `country_pattern` matches."""
    forms: dict[str, str] = {}
    for country in COUNTRIES:
        for form in (*country.names, *country.demonyms, *country.native):
            forms.setdefault(form, country.code)
    return forms
