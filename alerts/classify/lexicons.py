# ruff: noqa: E501  (a lexicon entry is one regex alternation; wrapping it hides the words)
"""The word lists the classifier reads: each entry is a named regex, so a reason can cite it.

Patterns are case-insensitive unless marked, matched on whole words (`(?<!\\w)` and
`(?!\\w)`, which Python applies to Cyrillic and accented letters too). Names are short and
stable ("action:imposes", "neg:sport"): they are what `Reason.rule` shows to an operator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    "country_pattern",
]


@dataclass(frozen=True, slots=True)
class Pattern:
    """One lexicon entry: a rule name, the value it sets (if any) and its compiled regex."""

    name: str
    value: str
    regex: re.Pattern[str]


def _p(name: str, value: str, pattern: str, *, case: bool = False) -> Pattern:
    flags = 0 if case else re.IGNORECASE
    return Pattern(name, value, re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", flags))


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
        r"export (?:controls?|restrictions|bans?)|exportkontroll\w*|contrôles? à l'exportation",
    ),
    _p(
        "term:visa",
        "",
        r"visa (?:restrictions?|bans?)|travel bans?|entry bans?|einreiseverbot\w*|запрет\w* на въезд",
    ),
    _p("term:embargo", "", r"(?:arms )?embargo(?:es|s)?"),
    _p(
        "term:general-licence", "", r"general licen[cs]es?|\bGL \d+[A-Z]?|allgemeine genehmigung\w*"
    ),
    _p("term:magnitsky", "", r"global magnitsky|magnitsky"),
    _p(
        "term:listing",
        "",
        r"lists \d+ (?:individuals|persons|entities|people)|(?:new|latest|\d+(?:st|nd|rd|th)) (?:russia |iran |belarus )?package",
    ),
    _p("term:licence", "", r"(?:issues?|issued) (?:a |an )?licen[cs]e"),
)

# --- Cues that the text reports an action taken (not discussed). Value = action_type. -----
ACTION_CUES: tuple[Pattern, ...] = (
    _p(
        "action:general-licence",
        "general_licence",
        r"(?:issues?|issued|issuing|publishes|amends|extends) (?:a |an |new |amended )?(?:general )?licen[cs]es?|general licen[cs]es? (?:\d+\w*|issued|authori[sz]ing)|issuance of (?:amended )?general licen[cs]e\w*|(?:publishes|issues) (?:a |an )?(?:amended )?authori[sz]ation|allgemeine genehmigung",
    ),
    _p(
        "action:delisting",
        "delisting",
        r"lifts?|lifted|lifting|eases?|eased|easing|removes?|removed|removal|delists?|delisted|delisting|de-listing|unfreez\w*|suspends? sanctions|revokes?|revoked|hebt\w* .{0,40}auf|aufgehoben|lève|levée|levanta\w*|снял\w*|сняти\w*|отмен\w*",
    ),
    _p(
        "action:extension",
        "extension",
        r"extends?|extended|extension|continu(?:es|ed|ation)|renews?|renewed|renewal|prolongs?|prolonged|prolongation|rolls? over|verlänger\w*|prolonge\w*|reconduit|prorroga\w*|продл\w*",
    ),
    _p(
        "action:package",
        "package",
        r"(?:\d+(?:st|nd|rd|th)|new|latest|fresh|nineteenth|twentieth|twenty-first|\w+th) (?:sanctions )?package|package of (?:sanctions|restrictive measures)|sanctions?paket\w*|paquet de sanctions|paquete de sanciones|пакет\w* санкций",
    ),
    _p(
        "action:export-listing",
        "export_listing",
        r"(?:adds?|added|adding|places?|placed) .{0,60}(?:to|on) (?:the |its )?(?:entity|unverified|end-user|export control) list|entity list (?:additions|designations)|imposes? export (?:controls|restrictions|bans?)|tightens? export controls|new export controls|export bans? on",
    ),
    _p(
        "action:visa",
        "visa_restriction",
        r"(?:imposes?|imposed|announces?|announced|issues?|slaps?|slapped) .{0,30}(?:visa restrictions|visa bans?|travel bans?|entry bans?)|visa restrictions on|bars? entry|einreiseverbot\w*|запрет\w* на въезд",
    ),
    _p(
        "action:adopted",
        "designation",
        r"adopts?|adopted|übernimmt|übernehmen|agrees?|agreed|approves?|approved|verabschiede\w*|beschlie\w*|beschlossen|adopte\w*|aprueba\w*|утвердил\w*|принял\w*",
    ),
    _p(
        "action:designation",
        "designation",
        r"designat(?:es|ed|ing|ions?)|sanctions? (?:designations|listings?)|imposes? (?:new |further |additional |fresh )?(?:sanctions|restrictive measures|an asset freeze)|imposed (?:new |further |additional )?sanctions|announces? (?:new |further |additional |fresh )?sanctions|slap(?:s|ped)? (?:new |further )?sanctions|new sanctions (?:on|against|targeting|over|hit)|(?:further|additional|fresh|more) sanctions (?:on|against)|sanctions? (?:list )?updates?|sanctions? (?:on|against) \d+|blacklists?|blacklisted|freezes|froze|freeze assets|targets? .{0,60}with (?:new )?sanctions|hits? .{0,60}with sanctions|adds? .{0,60}to (?:the |its )?(?:\w+ )?(?:sanctions|sdn|consolidated) list|lists \d+|listings?|neue sanktionen|verhäng\w*|sanktioniert\w*|nouvelles sanctions|sanctionne\w*|impose\w* des sanctions|nuevas sanciones|impone\w* sanciones|sanciona\w*|ввел\w* санкции|ввод\w* санкции|новые санкции|расширил\w* санкц\w*",
    ),
    # "X sanctions Y": the verb, with a capitalised or numeric object after it.
    _p(
        "action:sanctions-verb",
        "designation",
        r"(?:[Ss]anctions?|[Ss]anctioned|[Ss]anctioning) (?!(?:Relief|Policy|Regime|Tracker|Update|Updates|Law|Act|List|Lists|Program|Programs|Evasion|Compliance|Risk|News|Watch|Package|Against|On|Over|Are|Is|Will|Have|Hit|Bite|Fail|Work|Could|May|Explained)(?!\w))(?:\d+|[A-Z][\w'’-]*|more|two|three|four|five|six|seven|eight|nine|ten|dozens|entities|individuals|officials|people|firms|companies|vessels|ships|tankers|networks|banks|leaders|judges|generals|members|oligarchs|suppliers|traders|brokers|those)(?!\w)",
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
        r"sanction(?:s|ed)? (?:the )?(?:funding|budget|spending|plan|plans|use|hiring|posts|release|expenditure|project|scheme|loan|grant)|(?:funding|budget|spending|posts|project|scheme) (?:was |were |is )?sanctioned|planning (?:committee|permission)|sanctioned (?:by|for) (?:the )?(?:council|board|ministry of finance)|sanctioned strength|sanctioned posts|lakh|crore",
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
        r"could|may|might|would|should|weighs?|weighing|considers?|considering|mulls?|mulling|eyes|eyeing|plans?|planning|prepares?|preparing|proposes?|proposed|proposal|draft|drafts|threatens?|threatened|warns?|urges?|urged|calls? (?:for|on)|push(?:es)? for|seeks?|demands?|vows?|pledges?|set to|poised to|fails? to|failed to|veto\w*|expected to|likely|talks?|negotiat\w*|debate\w*|discuss\w*|könnte\w*|erwäg\w*|plant|prüft|pourrait|envisage\w*|propose\w*|podría\w*|propone\w*|может|могут|планир\w*|обсужда\w*|предлож\w*",
    ),
    _p(
        "comment:about",
        "",
        r"what .{0,40}means?|how .{0,40}(?:work|bite|hurt|affect)s?|why |impact of|effect(?:s|iveness)? of|despite (?:western |us |eu )?sanctions|under sanctions|sanctions-hit|sanctions bite|sanctions-weary|sanctions fatigue|sanctions regime at|years of sanctions|lessons|study|report (?:finds|says|shows)|researchers|(?<!panel of )experts?|economists?|survey|ranking|guide to|a look at|the case for|the case against|\?|wirkung|trotz sanktionen|malgré les sanctions|несмотря на санкции|из-за санкций|wegen der sanktionen|à cause des sanctions",
    ),
    _p(
        "comment:reaction",
        "",
        r"condemns?|criticises?|criticizes?|slams?|reacts?|responds? to|denounces?|hits back|decries|rejects|protests?|calls .{0,20}illegal|вызвал\w*|осудил\w*",
    ),
)

# Cues that only a government sanctions regime uses: they overrule a sport or court veto.
STRONG_REGIME_CUES: tuple[Pattern, ...] = (
    _p(
        "strong:ofac",
        "",
        r"ofac|ofsi|otsi|hm treasury|fcdo|seco|dfat|global affairs canada|security council|entity list|sdn|restrictive measures|asset freezes?|global magnitsky|sanctions list|consolidated list|council of the eu|eu council",
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
    _p(
        "issuer:us-agency",
        "US",
        r"ofac|office of foreign assets control|treasury department|u\.?s\.? treasury|us treasury|treasury|state department|department of state|secretary of state|bureau of industry and security|commerce department|department of commerce|white house|biden|trump|washington|united states|american|etats-unis|états-unis|vereinigte\w* staaten|estados unidos|сша|вашингтон|минфин сша",
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
        r"(?:china|beijing|chinese (?:commerce|foreign) ministry|mofcom)(?:'s)? (?:sanctions|imposes|bans|adds|places|announces|slaps|retaliates)|unreliable entity list|китай ввел\w*",
    ),
    _p(
        "issuer:russia",
        "RU",
        r"(?:russia|moscow|kremlin|russian foreign ministry)(?:'s)? (?!sanctions (?:act|regulations?|regime|list|package|programs?|tracker|relief|policy)(?!\w))(?:sanctions|imposes|bans|bars|adds|expands|announces|blacklists|retaliates)|мид россии|россия ввела|москва ввела",
    ),
)

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
    _p(
        "regime:terrorism",
        "TERRORISM",
        r"isil|isis|da'?esh|al-qa'?ida|al-qaeda|al-shabaa?b|hizballah|hezbollah|hamas|counter[- ]terrorism|terrorist\w*|terrorism",
    ),
    _p("regime:cyber", "CYBER", r"cyber\w*|ransomware|hackers?"),
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
    forms: dict[str, str] = {}
    for country in COUNTRIES:
        for form in (*country.names, *country.demonyms, *country.native):
            forms.setdefault(form, country.code)
    ordered = sorted(forms, key=len, reverse=True)
    alternation = "|".join(re.escape(form) for form in ordered)
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")


def country_codes() -> dict[str, str]:
    """Form -> code, for the forms `country_pattern` matches."""
    forms: dict[str, str] = {}
    for country in COUNTRIES:
        for form in (*country.names, *country.demonyms, *country.native):
            forms.setdefault(form, country.code)
    return forms
