"""Countries and contested territories: the names and demonyms a country entity matches.

A watched `Entity(name="Russia", kind=EntityKind.COUNTRY)` should find "Russia", "Russian
Federation", "Russian" and "Russians" without anyone writing them down; `find_country`
looks an entity's name up here and `COUNTRIES` holds the forms.

What is covered: the 193 UN member states; Kosovo, Taiwan, Palestine, Western Sahara, Hong
Kong, Macau and the Holy See; and the occupied or contested regions that sanctions texts
name on their own (Crimea, Sevastopol, Donetsk, Luhansk, Zaporizhzhia, Kherson, Abkhazia,
South Ossetia, Transnistria).

Codes: ISO 3166-1 alpha-2 for states and territories ("XK" for Kosovo, the user-assigned
code the EU and most lists use). Regions take their ISO 3166-2 subdivision code where one
exists ("UA-43" Crimea, "GE-AB" Abkhazia, "MD-SN" the left bank of the Dniester, i.e.
Transnistria); a region ISO does not code gets "XX-" and a short code of ours ("XX-SO"
South Ossetia). So a code is either `AA` or `AA-A9[A9]`.

Choosing the forms is a trade between recall and false alerts, since the matcher looks
for these as whole words (capitalised, as names are in news):

* A form shared by two places is left out of both, or given to the place news means by it
  (see Congo, Dominica, Korea, Macedonia below): no form belongs to two entries.
* Short forms that are also ordinary words are kept when they are how the country is
  written ("Chad", "Jordan", "Turkey", "China", "Georgia", "Niger", "Guinea", "Polish");
  the comment says so. Forms that are ordinary words far more often than the country are
  left out ("US" = "us", "Poles", "Kiwi", "CAR").
* Ethnic, linguistic and regional words that reach past the state are left out ("Persian",
  "Malay", "Khmer", "Korean", "Macedonian", "Kurdish"), as are capitals: "Moscow" stands
  for the government in headlines but names a city, and a watcher can add it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["COUNTRIES", "Country", "find_country"]


@dataclass(frozen=True, slots=True)
class Country:
    """A country or territory: its code, the names it goes by and its demonyms."""

    code: str  # ISO 3166-1 alpha-2, or a subdivision code for a region (see module doc)
    names: tuple[str, ...]  # common name first, then official and short forms
    demonyms: tuple[str, ...] = ()  # adjective and nationality forms, plurals included
    native: tuple[str, ...] = ()  # names in the country's own or a regional script


COUNTRIES: tuple[Country, ...] = (
    # --- UN member states, by common English name ---
    Country(
        "AF",
        ("Afghanistan", "Islamic Republic of Afghanistan", "Islamic Emirate of Afghanistan"),
        ("Afghan", "Afghans", "Afghanistani"),  # not "Afghani": that is the currency
    ),
    Country("AL", ("Albania", "Republic of Albania"), ("Albanian", "Albanians")),
    Country(
        "DZ",
        ("Algeria", "People's Democratic Republic of Algeria"),
        ("Algerian", "Algerians"),
    ),
    Country("AD", ("Andorra", "Principality of Andorra"), ("Andorran", "Andorrans")),
    Country("AO", ("Angola", "Republic of Angola"), ("Angolan", "Angolans")),
    Country(
        "AG",
        ("Antigua and Barbuda", "Antigua"),
        ("Antiguan", "Antiguans", "Barbudan", "Barbudans"),
    ),
    Country(
        "AR",
        ("Argentina", "Argentine Republic"),
        ("Argentine", "Argentines", "Argentinian", "Argentinians", "Argentinean"),
    ),
    Country("AM", ("Armenia", "Republic of Armenia"), ("Armenian", "Armenians")),
    Country(
        "AU",
        ("Australia", "Commonwealth of Australia"),
        ("Australian", "Australians", "Aussie", "Aussies"),
    ),
    Country("AT", ("Austria", "Republic of Austria"), ("Austrian", "Austrians")),
    Country(
        "AZ",
        ("Azerbaijan", "Republic of Azerbaijan"),
        ("Azerbaijani", "Azerbaijanis", "Azeri", "Azeris"),
    ),
    Country(
        "BS",
        ("Bahamas", "The Bahamas", "Commonwealth of The Bahamas"),
        ("Bahamian", "Bahamians"),
    ),
    Country("BH", ("Bahrain", "Kingdom of Bahrain"), ("Bahraini", "Bahrainis")),
    Country(
        "BD",
        ("Bangladesh", "People's Republic of Bangladesh"),
        ("Bangladeshi", "Bangladeshis"),
    ),
    Country("BB", ("Barbados",), ("Barbadian", "Barbadians", "Bajan", "Bajans")),
    Country(
        "BY",
        ("Belarus", "Republic of Belarus", "Byelorussia", "Belorussia"),
        ("Belarusian", "Belarusians", "Belarusan", "Byelorussian", "Belorussian"),
    ),
    Country("BE", ("Belgium", "Kingdom of Belgium"), ("Belgian", "Belgians")),
    Country("BZ", ("Belize",), ("Belizean", "Belizeans")),
    # "Benin" is also Benin City, in Nigeria; the country is what the word usually means.
    Country("BJ", ("Benin", "Republic of Benin"), ("Beninese", "Beninois")),
    Country("BT", ("Bhutan", "Kingdom of Bhutan"), ("Bhutanese",)),
    Country(
        "BO",
        ("Bolivia", "Plurinational State of Bolivia"),
        ("Bolivian", "Bolivians"),
    ),
    Country(
        "BA",
        ("Bosnia and Herzegovina", "Bosnia-Herzegovina", "Bosnia", "BiH"),
        ("Bosnian", "Bosnians", "Herzegovinian", "Herzegovinians"),
    ),
    Country(
        "BW",
        ("Botswana", "Republic of Botswana"),
        ("Botswanan", "Botswanans", "Motswana", "Batswana"),
    ),
    Country(
        "BR",
        ("Brazil", "Federative Republic of Brazil", "Brasil"),
        ("Brazilian", "Brazilians"),
    ),
    Country(
        "BN",
        ("Brunei", "Brunei Darussalam", "Nation of Brunei"),
        ("Bruneian", "Bruneians"),
    ),
    Country("BG", ("Bulgaria", "Republic of Bulgaria"), ("Bulgarian", "Bulgarians")),
    Country("BF", ("Burkina Faso", "Burkina"), ("Burkinabè", "Burkinabès")),
    Country("BI", ("Burundi", "Republic of Burundi"), ("Burundian", "Burundians")),
    Country(
        "CV",
        ("Cabo Verde", "Cape Verde", "Republic of Cabo Verde"),
        ("Cabo Verdean", "Cabo Verdeans", "Cape Verdean", "Cape Verdeans"),
    ),
    Country("KH", ("Cambodia", "Kingdom of Cambodia"), ("Cambodian", "Cambodians")),
    Country(
        "CM",
        ("Cameroon", "Republic of Cameroon"),
        ("Cameroonian", "Cameroonians"),
    ),
    Country("CA", ("Canada",), ("Canadian", "Canadians")),
    # Its demonym "Central African" is also plain geography ("Central African states");
    # the acronym "CAR" is the word "car". Both left out.
    Country("CF", ("Central African Republic",)),
    # "Chad" is also a given name; kept, it is how the country is written.
    Country("TD", ("Chad", "Republic of Chad"), ("Chadian", "Chadians")),
    Country("CL", ("Chile", "Republic of Chile"), ("Chilean", "Chileans")),
    # "china" is also porcelain; kept. "Republic of China" is Taiwan's official name but
    # sits inside "People's Republic of China", so neither entry carries it.
    Country(
        "CN",
        ("China", "People's Republic of China", "PRC", "Mainland China"),
        ("Chinese",),
    ),
    Country("CO", ("Colombia", "Republic of Colombia"), ("Colombian", "Colombians")),
    Country(
        "KM",
        ("Comoros", "Union of the Comoros"),
        ("Comoran", "Comorans", "Comorian", "Comorians"),
    ),
    # Congo: "Congo" and "Congolese" on their own go to the Democratic Republic (CD), which
    # is what news means by them (wire style: "Congo" after first mention of the DRC,
    # "Republic of Congo" or "Congo Republic" always for its neighbour). The Republic of
    # the Congo (CG) therefore has only qualified names and no demonym of its own.
    Country(
        "CG",
        (
            "Republic of the Congo",
            "Republic of Congo",
            "Congo Republic",
            "Congo-Brazzaville",
        ),
    ),
    Country(
        "CD",
        (
            "Democratic Republic of the Congo",
            "Democratic Republic of Congo",
            "DR Congo",
            "DRC",
            "Congo-Kinshasa",
            "Congo",
        ),
        ("Congolese",),
    ),
    Country("CR", ("Costa Rica", "Republic of Costa Rica"), ("Costa Rican", "Costa Ricans")),
    Country(
        "CI",
        ("Côte d'Ivoire", "Ivory Coast", "Republic of Côte d'Ivoire"),
        ("Ivorian", "Ivorians"),
    ),
    Country(
        "HR",
        ("Croatia", "Republic of Croatia", "Hrvatska"),
        ("Croatian", "Croatians", "Croat", "Croats"),
    ),
    Country("CU", ("Cuba", "Republic of Cuba"), ("Cuban", "Cubans")),
    Country("CY", ("Cyprus", "Republic of Cyprus"), ("Cypriot", "Cypriots")),
    Country("CZ", ("Czechia", "Czech Republic"), ("Czech", "Czechs")),
    Country("DK", ("Denmark", "Kingdom of Denmark"), ("Danish", "Dane", "Danes")),
    Country("DJ", ("Djibouti", "Republic of Djibouti"), ("Djiboutian", "Djiboutians")),
    # Dominica's people are also "Dominicans", but news means the Dominican Republic by
    # the word, so Dominica has no demonym here.
    Country("DM", ("Dominica", "Commonwealth of Dominica")),
    Country("DO", ("Dominican Republic",), ("Dominican", "Dominicans")),
    Country(
        "EC",
        ("Ecuador", "Republic of Ecuador"),
        ("Ecuadorian", "Ecuadorians", "Ecuadorean", "Ecuadoreans"),
    ),
    Country("EG", ("Egypt", "Arab Republic of Egypt"), ("Egyptian", "Egyptians")),
    Country(
        "SV",
        ("El Salvador", "Republic of El Salvador"),
        ("Salvadoran", "Salvadorans", "Salvadorean", "Salvadoreans"),
    ),
    # Never plain "Guinea" here or for Guinea-Bissau and Papua New Guinea: that is GN.
    Country(
        "GQ",
        ("Equatorial Guinea", "Republic of Equatorial Guinea"),
        ("Equatorial Guinean", "Equatorial Guineans", "Equatoguinean", "Equatoguineans"),
    ),
    Country("ER", ("Eritrea", "State of Eritrea"), ("Eritrean", "Eritreans")),
    Country("EE", ("Estonia", "Republic of Estonia"), ("Estonian", "Estonians")),
    Country(
        "SZ",
        ("Eswatini", "Kingdom of Eswatini", "Swaziland"),
        ("Swazi", "Swazis", "Emaswati"),
    ),
    Country(
        "ET",
        ("Ethiopia", "Federal Democratic Republic of Ethiopia"),
        ("Ethiopian", "Ethiopians"),
    ),
    Country("FJ", ("Fiji", "Republic of Fiji"), ("Fijian", "Fijians")),
    # Not "Finn": a common given name and surname.
    Country("FI", ("Finland", "Republic of Finland"), ("Finnish", "Finns")),
    Country("FR", ("France", "French Republic"), ("French", "Frenchman", "Frenchmen")),
    Country("GA", ("Gabon", "Gabonese Republic"), ("Gabonese",)),
    Country("GM", ("Gambia", "The Gambia", "Republic of The Gambia"), ("Gambian", "Gambians")),
    # "Georgia" is also the US state (and "Georgian" the architecture); kept, because the
    # country is written no other way. Expect some noise from Atlanta.
    Country("GE", ("Georgia",), ("Georgian", "Georgians")),
    Country(
        "DE",
        ("Germany", "Federal Republic of Germany", "Deutschland"),
        ("German", "Germans"),
    ),
    Country("GH", ("Ghana", "Republic of Ghana"), ("Ghanaian", "Ghanaians")),
    Country("GR", ("Greece", "Hellenic Republic"), ("Greek", "Greeks")),
    Country("GD", ("Grenada",), ("Grenadian", "Grenadians")),
    Country("GT", ("Guatemala", "Republic of Guatemala"), ("Guatemalan", "Guatemalans")),
    # "guinea" is also the old coin and the guinea pig; kept.
    Country(
        "GN",
        ("Guinea", "Republic of Guinea", "Guinea-Conakry"),
        ("Guinean", "Guineans"),
    ),
    Country(
        "GW",
        ("Guinea-Bissau", "Republic of Guinea-Bissau"),
        ("Bissau-Guinean", "Bissau-Guineans"),
    ),
    Country("GY", ("Guyana", "Co-operative Republic of Guyana"), ("Guyanese",)),
    Country("HT", ("Haiti", "Republic of Haiti"), ("Haitian", "Haitians")),
    Country("HN", ("Honduras", "Republic of Honduras"), ("Honduran", "Hondurans")),
    Country("HU", ("Hungary",), ("Hungarian", "Hungarians")),
    Country("IS", ("Iceland",), ("Icelandic", "Icelander", "Icelanders")),
    # "Indian" also means Native American ("American Indian") and the ocean; kept.
    Country("IN", ("India", "Republic of India", "Bharat"), ("Indian", "Indians")),
    Country(
        "ID",
        ("Indonesia", "Republic of Indonesia"),
        ("Indonesian", "Indonesians"),
    ),
    # Not "Persia"/"Persian": the Persian Gulf, the language and the cat are not Iran.
    Country("IR", ("Iran", "Islamic Republic of Iran"), ("Iranian", "Iranians")),
    Country("IQ", ("Iraq", "Republic of Iraq"), ("Iraqi", "Iraqis")),
    Country(
        "IE",
        ("Ireland", "Republic of Ireland", "Éire"),
        ("Irish", "Irishman", "Irishmen", "Irishwoman"),
    ),
    Country("IL", ("Israel", "State of Israel"), ("Israeli", "Israelis")),
    Country("IT", ("Italy", "Italian Republic"), ("Italian", "Italians")),
    Country("JM", ("Jamaica",), ("Jamaican", "Jamaicans")),
    Country("JP", ("Japan",), ("Japanese",)),
    # "Jordan" is also a given name, a surname and a river; kept.
    Country("JO", ("Jordan", "Hashemite Kingdom of Jordan"), ("Jordanian", "Jordanians")),
    Country(
        "KZ",
        ("Kazakhstan", "Republic of Kazakhstan"),
        ("Kazakh", "Kazakhs", "Kazakhstani", "Kazakhstanis"),
    ),
    Country("KE", ("Kenya", "Republic of Kenya"), ("Kenyan", "Kenyans")),
    Country("KI", ("Kiribati", "Republic of Kiribati"), ("I-Kiribati",)),
    # Korea: plain "Korea" and "Korean(s)" are left out of both Koreas. In sanctions news
    # they sit inside "North Korea" as often as they mean the South.
    Country(
        "KP",
        (
            "North Korea",
            "Democratic People's Republic of Korea",
            "DPRK",
            "D.P.R.K.",
            "N. Korea",
        ),
        ("North Korean", "North Koreans"),
    ),
    Country(
        "KR",
        ("South Korea", "Republic of Korea", "ROK", "S. Korea"),
        ("South Korean", "South Koreans"),
    ),
    Country("KW", ("Kuwait", "State of Kuwait"), ("Kuwaiti", "Kuwaitis")),
    Country(
        "KG",
        ("Kyrgyzstan", "Kyrgyz Republic"),
        ("Kyrgyz", "Kyrgyzstani", "Kyrgyzstanis"),
    ),
    Country(
        "LA",
        ("Laos", "Lao People's Democratic Republic", "Lao PDR"),
        ("Lao", "Laotian", "Laotians"),
    ),
    Country("LV", ("Latvia", "Republic of Latvia"), ("Latvian", "Latvians")),
    Country("LB", ("Lebanon", "Lebanese Republic"), ("Lebanese",)),
    Country("LS", ("Lesotho", "Kingdom of Lesotho"), ("Basotho", "Mosotho")),
    Country("LR", ("Liberia", "Republic of Liberia"), ("Liberian", "Liberians")),
    Country(
        "LY",
        ("Libya", "State of Libya", "Libyan Arab Jamahiriya"),
        ("Libyan", "Libyans"),
    ),
    Country(
        "LI",
        ("Liechtenstein", "Principality of Liechtenstein"),
        ("Liechtensteiner", "Liechtensteiners"),
    ),
    Country("LT", ("Lithuania", "Republic of Lithuania"), ("Lithuanian", "Lithuanians")),
    Country(
        "LU",
        ("Luxembourg", "Grand Duchy of Luxembourg", "Luxemburg"),
        ("Luxembourger", "Luxembourgers", "Luxembourgish"),
    ),
    Country("MG", ("Madagascar", "Republic of Madagascar"), ("Malagasy", "Madagascan")),
    Country("MW", ("Malawi", "Republic of Malawi"), ("Malawian", "Malawians")),
    # Not "Malay": an ethnic group and language across Malaysia, Singapore and Brunei.
    Country("MY", ("Malaysia",), ("Malaysian", "Malaysians")),
    Country("MV", ("Maldives", "Republic of Maldives"), ("Maldivian", "Maldivians")),
    Country("ML", ("Mali", "Republic of Mali"), ("Malian", "Malians")),
    Country("MT", ("Malta", "Republic of Malta"), ("Maltese",)),
    Country(
        "MH",
        ("Marshall Islands", "Republic of the Marshall Islands"),
        ("Marshallese",),
    ),
    Country(
        "MR",
        ("Mauritania", "Islamic Republic of Mauritania"),
        ("Mauritanian", "Mauritanians"),
    ),
    Country("MU", ("Mauritius", "Republic of Mauritius"), ("Mauritian", "Mauritians")),
    Country("MX", ("Mexico", "United Mexican States"), ("Mexican", "Mexicans")),
    # "Micronesia" is also the wider island region; kept, the country is called so.
    Country(
        "FM",
        ("Micronesia", "Federated States of Micronesia"),
        ("Micronesian", "Micronesians"),
    ),
    Country("MD", ("Moldova", "Republic of Moldova"), ("Moldovan", "Moldovans")),
    Country("MC", ("Monaco", "Principality of Monaco"), ("Monegasque", "Monegasques")),
    # Not "Mongol(s)": the people across Inner Mongolia (China) and Russia too.
    Country("MN", ("Mongolia",), ("Mongolian", "Mongolians")),
    Country("ME", ("Montenegro",), ("Montenegrin", "Montenegrins")),
    Country("MA", ("Morocco", "Kingdom of Morocco"), ("Moroccan", "Moroccans")),
    Country(
        "MZ",
        ("Mozambique", "Republic of Mozambique"),
        ("Mozambican", "Mozambicans"),
    ),
    Country(
        "MM",
        ("Myanmar", "Burma", "Republic of the Union of Myanmar"),
        ("Burmese",),
    ),
    Country("NA", ("Namibia", "Republic of Namibia"), ("Namibian", "Namibians")),
    Country("NR", ("Nauru", "Republic of Nauru"), ("Nauruan", "Nauruans")),
    Country(
        "NP",
        ("Nepal", "Federal Democratic Republic of Nepal"),
        ("Nepali", "Nepalis", "Nepalese"),
    ),
    Country(
        "NL",
        ("Netherlands", "The Netherlands", "Kingdom of the Netherlands", "Holland"),
        ("Dutch", "Netherlander", "Netherlanders"),
    ),
    # Not "Kiwi(s)": the fruit and the bird are more common in text than the nickname.
    Country("NZ", ("New Zealand", "Aotearoa"), ("New Zealander", "New Zealanders")),
    Country("NI", ("Nicaragua", "Republic of Nicaragua"), ("Nicaraguan", "Nicaraguans")),
    # "Niger" is also the river; kept. Its demonym differs from Nigeria's by design.
    Country(
        "NE",
        ("Niger", "Republic of the Niger", "Republic of Niger"),
        ("Nigerien", "Nigeriens"),
    ),
    Country(
        "NG",
        ("Nigeria", "Federal Republic of Nigeria"),
        ("Nigerian", "Nigerians"),
    ),
    # Not plain "Macedonia"/"Macedonian": also the Greek region and its people.
    Country(
        "MK",
        (
            "North Macedonia",
            "Republic of North Macedonia",
            "Former Yugoslav Republic of Macedonia",
            "FYROM",
        ),
        ("North Macedonian", "North Macedonians"),
    ),
    Country("NO", ("Norway", "Kingdom of Norway"), ("Norwegian", "Norwegians")),
    Country("OM", ("Oman", "Sultanate of Oman"), ("Omani", "Omanis")),
    Country(
        "PK",
        ("Pakistan", "Islamic Republic of Pakistan"),
        ("Pakistani", "Pakistanis"),
    ),
    Country("PW", ("Palau", "Republic of Palau"), ("Palauan", "Palauans")),
    # "panama" is also the hat; kept.
    Country("PA", ("Panama", "Republic of Panama"), ("Panamanian", "Panamanians")),
    Country(
        "PG",
        ("Papua New Guinea", "Independent State of Papua New Guinea", "PNG"),
        ("Papua New Guinean", "Papua New Guineans"),
    ),
    Country("PY", ("Paraguay", "Republic of Paraguay"), ("Paraguayan", "Paraguayans")),
    Country("PE", ("Peru", "Republic of Peru"), ("Peruvian", "Peruvians")),
    Country(
        "PH",
        ("Philippines", "The Philippines", "Republic of the Philippines"),
        ("Filipino", "Filipinos", "Filipina", "Filipinas", "Philippine"),
    ),
    # "polish" is also the verb and the shine; kept, it is the only adjective. "Poles" is
    # left out: far more often tent, ski and telegraph poles than people.
    Country("PL", ("Poland", "Republic of Poland"), ("Polish",)),
    Country("PT", ("Portugal", "Portuguese Republic"), ("Portuguese",)),
    Country("QA", ("Qatar", "State of Qatar"), ("Qatari", "Qataris")),
    Country("RO", ("Romania", "Rumania", "Roumania"), ("Romanian", "Romanians", "Rumanian")),
    Country("RU", ("Russia", "Russian Federation"), ("Russian", "Russians")),
    Country("RW", ("Rwanda", "Republic of Rwanda"), ("Rwandan", "Rwandans")),
    Country(
        "KN",
        ("Saint Kitts and Nevis", "St Kitts and Nevis", "Federation of Saint Kitts and Nevis"),
        ("Kittitian", "Kittitians", "Nevisian", "Nevisians"),
    ),
    Country("LC", ("Saint Lucia", "St Lucia"), ("Saint Lucian", "Saint Lucians", "St Lucian")),
    Country(
        "VC",
        ("Saint Vincent and the Grenadines", "St Vincent and the Grenadines"),
        ("Vincentian", "Vincentians"),
    ),
    Country("WS", ("Samoa", "Independent State of Samoa"), ("Samoan", "Samoans")),
    Country("SM", ("San Marino", "Republic of San Marino"), ("Sammarinese",)),
    Country(
        "ST",
        ("São Tomé and Príncipe", "Democratic Republic of São Tomé and Príncipe"),
        ("Santomean", "Santomeans", "São Toméan", "São Toméans"),
    ),
    Country(
        "SA",
        ("Saudi Arabia", "Kingdom of Saudi Arabia", "KSA"),
        ("Saudi", "Saudis", "Saudi Arabian", "Saudi Arabians"),
    ),
    Country("SN", ("Senegal", "Republic of Senegal"), ("Senegalese",)),
    Country(
        "RS",
        ("Serbia", "Republic of Serbia"),
        ("Serbian", "Serbians", "Serb", "Serbs"),
    ),
    Country("SC", ("Seychelles", "Republic of Seychelles"), ("Seychellois",)),
    Country(
        "SL",
        ("Sierra Leone", "Republic of Sierra Leone"),
        ("Sierra Leonean", "Sierra Leoneans"),
    ),
    Country(
        "SG",
        ("Singapore", "Republic of Singapore"),
        ("Singaporean", "Singaporeans"),
    ),
    Country("SK", ("Slovakia", "Slovak Republic"), ("Slovak", "Slovaks", "Slovakian")),
    Country(
        "SI",
        ("Slovenia", "Republic of Slovenia"),
        ("Slovenian", "Slovenians", "Slovene", "Slovenes"),
    ),
    Country("SB", ("Solomon Islands",), ("Solomon Islander", "Solomon Islanders")),
    # "Somali(s)" also names the people of Somaliland and of Ethiopia's Somali Region;
    # kept, they are what news calls the country's nationals.
    Country(
        "SO",
        ("Somalia", "Federal Republic of Somalia"),
        ("Somali", "Somalis", "Somalian", "Somalians"),
    ),
    Country(
        "ZA",
        ("South Africa", "Republic of South Africa"),
        ("South African", "South Africans"),
    ),
    Country(
        "SS",
        ("South Sudan", "Republic of South Sudan"),
        ("South Sudanese",),
    ),
    # "Spanish" is also the language of most of Latin America; kept, it is the adjective.
    Country(
        "ES",
        ("Spain", "Kingdom of Spain", "España"),
        ("Spanish", "Spaniard", "Spaniards"),
    ),
    Country(
        "LK",
        ("Sri Lanka", "Democratic Socialist Republic of Sri Lanka"),
        ("Sri Lankan", "Sri Lankans"),
    ),
    Country("SD", ("Sudan", "Republic of the Sudan", "The Sudan"), ("Sudanese",)),
    Country("SR", ("Suriname", "Republic of Suriname", "Surinam"), ("Surinamese",)),
    Country(
        "SE",
        ("Sweden", "Kingdom of Sweden"),
        ("Swedish", "Swede", "Swedes"),
    ),
    Country("CH", ("Switzerland", "Swiss Confederation"), ("Swiss",)),
    Country("SY", ("Syria", "Syrian Arab Republic"), ("Syrian", "Syrians")),
    Country(
        "TJ",
        ("Tajikistan", "Republic of Tajikistan"),
        ("Tajik", "Tajiks", "Tajikistani", "Tajikistanis"),
    ),
    Country(
        "TZ",
        ("Tanzania", "United Republic of Tanzania"),
        ("Tanzanian", "Tanzanians"),
    ),
    Country("TH", ("Thailand", "Kingdom of Thailand"), ("Thai", "Thais")),
    # Not plain "Timorese": West Timor is Indonesian.
    Country(
        "TL",
        ("Timor-Leste", "East Timor", "Democratic Republic of Timor-Leste"),
        ("East Timorese",),
    ),
    Country("TG", ("Togo", "Togolese Republic"), ("Togolese",)),
    Country("TO", ("Tonga", "Kingdom of Tonga"), ("Tongan", "Tongans")),
    Country(
        "TT",
        ("Trinidad and Tobago", "Republic of Trinidad and Tobago"),
        ("Trinidadian", "Trinidadians", "Tobagonian", "Tobagonians"),
    ),
    Country("TN", ("Tunisia", "Republic of Tunisia"), ("Tunisian", "Tunisians")),
    # "turkey" is also the bird (and "Turkish delight"); kept, it is the country's
    # everyday English name beside the official "Türkiye". "Turk(s)" is the nationality
    # noun; "Turkic" peoples are not included.
    Country(
        "TR",
        ("Türkiye", "Turkey", "Republic of Türkiye", "Republic of Turkey"),
        ("Turkish", "Turk", "Turks"),
    ),
    Country("TM", ("Turkmenistan",), ("Turkmen", "Turkmens", "Turkmenistani")),
    Country("TV", ("Tuvalu",), ("Tuvaluan", "Tuvaluans")),
    Country("UG", ("Uganda", "Republic of Uganda"), ("Ugandan", "Ugandans")),
    Country("UA", ("Ukraine",), ("Ukrainian", "Ukrainians")),
    # Not "Emirates": the airline.
    Country(
        "AE",
        ("United Arab Emirates", "UAE", "U.A.E."),
        ("Emirati", "Emiratis"),
    ),
    Country(
        "GB",
        (
            "United Kingdom",
            "United Kingdom of Great Britain and Northern Ireland",
            "Great Britain",
            "Britain",
            "UK",
            "U.K.",
        ),
        ("British", "Briton", "Britons", "Brit", "Brits"),
    ),
    # Bare "US" is left out: case-folded it is the pronoun "us". "U.S." survives because
    # its words are "u" "s", a sequence prose hardly has; find_country("US") still works
    # through the code. "America" is left out for the continents ("Latin America").
    Country(
        "US",
        ("United States", "United States of America", "USA", "U.S.A.", "U.S."),
        ("American", "Americans"),
    ),
    Country(
        "UY",
        ("Uruguay", "Oriental Republic of Uruguay"),
        ("Uruguayan", "Uruguayans"),
    ),
    Country(
        "UZ",
        ("Uzbekistan", "Republic of Uzbekistan"),
        ("Uzbek", "Uzbeks", "Uzbekistani", "Uzbekistanis"),
    ),
    Country("VU", ("Vanuatu", "Republic of Vanuatu"), ("Ni-Vanuatu",)),
    Country(
        "VE",
        ("Venezuela", "Bolivarian Republic of Venezuela"),
        ("Venezuelan", "Venezuelans"),
    ),
    Country("VN", ("Vietnam", "Viet Nam", "Socialist Republic of Viet Nam"), ("Vietnamese",)),
    Country("YE", ("Yemen", "Republic of Yemen"), ("Yemeni", "Yemenis")),
    Country("ZM", ("Zambia", "Republic of Zambia"), ("Zambian", "Zambians")),
    Country("ZW", ("Zimbabwe", "Republic of Zimbabwe"), ("Zimbabwean", "Zimbabweans")),
    # --- States and territories outside the UN membership ---
    Country("XK", ("Kosovo", "Republic of Kosovo"), ("Kosovar", "Kosovars", "Kosovan")),
    Country("TW", ("Taiwan", "Chinese Taipei"), ("Taiwanese",)),
    # Gaza and the West Bank are parts, not names of the whole; a watcher adds them.
    Country(
        "PS",
        ("Palestine", "State of Palestine", "Occupied Palestinian Territory"),
        ("Palestinian", "Palestinians"),
    ),
    Country(
        "EH",
        ("Western Sahara", "Sahrawi Arab Democratic Republic"),
        ("Sahrawi", "Sahrawis", "Western Saharan"),
    ),
    Country(
        "HK",
        ("Hong Kong", "Hong Kong SAR", "Hong Kong Special Administrative Region", "HKSAR"),
        ("Hongkonger", "Hongkongers", "Hong Konger", "Hong Kongers"),
    ),
    Country(
        "MO", ("Macau", "Macao", "Macao SAR", "Macao Special Administrative Region"), ("Macanese",)
    ),
    Country("VA", ("Holy See", "Vatican", "Vatican City", "Vatican City State")),
    # --- Occupied and contested regions named on their own in sanctions texts ---
    # ISO 3166-2 codes where ISO has one; "XX-" marks a code of ours. The separatist
    # acronyms (DPR/DNR, LPR/LNR) are left out: "DNR" is "do not resuscitate", "DPR" is
    # Indonesia's parliament and sits one letter from "DPRK". "Donbas" covers both Donetsk
    # and Luhansk and so belongs to neither.
    Country(
        "UA-43",
        (
            "Crimea",
            "Autonomous Republic of Crimea",
            "Republic of Crimea",
            "Crimean Peninsula",
        ),
        ("Crimean", "Crimeans"),
    ),
    Country("UA-40", ("Sevastopol", "City of Sevastopol")),
    Country(
        "UA-14",
        ("Donetsk", "Donetsk Oblast", "Donetsk People's Republic"),
    ),
    Country(
        "UA-09",
        (
            "Luhansk",
            "Lugansk",
            "Luhansk Oblast",
            "Luhansk People's Republic",
            "Lugansk People's Republic",
        ),
    ),
    Country(
        "UA-23",
        ("Zaporizhzhia", "Zaporizhia", "Zaporozhye", "Zaporizhzhia Oblast"),
    ),
    Country("UA-65", ("Kherson", "Kherson Oblast")),
    Country(
        "GE-AB",
        ("Abkhazia", "Autonomous Republic of Abkhazia", "Republic of Abkhazia"),
        ("Abkhaz", "Abkhazian", "Abkhazians"),
    ),
    # Not plain "Ossetian(s)": North Ossetia is a republic of Russia.
    Country(
        "XX-SO",
        ("South Ossetia", "Republic of South Ossetia", "Tskhinvali Region"),
        ("South Ossetian", "South Ossetians"),
    ),
    Country(
        "MD-SN",
        (
            "Transnistria",
            "Transdniestria",
            "Transdniester",
            "Trans-Dniester",
            "Pridnestrovie",
            "Pridnestrovian Moldavian Republic",
        ),
        ("Transnistrian", "Transnistrians"),
    ),
)


# Names in other scripts for the countries sanctions news is most often about, as their
# own and neighbouring media write them (Cyrillic words are matched on their stem, so
# "России" finds "Россия"). Arabic-script names are not listed: one word is too short a
# consonant skeleton to match safely (see keys.variants). Kept apart from `names` so
# lookups by English name stay simple.
_NATIVE: dict[str, tuple[str, ...]] = {
    "RU": ("Россия", "Российская Федерация", "Росія"),
    "BY": ("Беларусь", "Белоруссия", "Рэспубліка Беларусь"),
    "UA": ("Украина", "Україна"),
    "KP": ("КНДР", "Северная Корея", "조선민주주의인민공화국", "북한"),
    "IR": ("Иран",),
    "SY": ("Сирия",),
    "CN": ("Китай", "中国", "中华人民共和国"),
    "VE": ("Венесуэла",),
    "CU": ("Куба",),
    "GE": ("Грузия", "საქართველო"),
    "KZ": ("Казахстан", "Қазақстан"),
    "MD": ("Молдова", "Молдавия"),
}
COUNTRIES = tuple(
    Country(c.code, c.names, c.demonyms, _NATIVE[c.code]) if c.code in _NATIVE else c
    for c in COUNTRIES
)

# Letters that case folding and NFKD leave whole but readers take for accented Latin ones.
_LETTERS = str.maketrans({"ø": "o", "đ": "d", "ð": "d", "ł": "l", "ı": "i", "æ": "ae", "œ": "oe"})
_WORD_RE = re.compile(r"[^\W_]+")


def _key(text: str) -> str:
    """The lookup form of a name: folded case, accents and width; words joined by spaces.

    Punctuation separates words ("Côte d'Ivoire" -> "cote d ivoire", "U.S." -> "u s") and
    "&" reads as "and", so spacing, hyphens and apostrophes never decide a lookup.
    """
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS)
    return " ".join(_WORD_RE.findall(plain.replace("&", " and ")))


def _build_index(countries: tuple[Country, ...]) -> dict[str, Country]:
    index: dict[str, Country] = {}
    for country in countries:
        for form in (country.code, *country.names, *country.demonyms):
            key = _key(form)
            other = index.setdefault(key, country)
            if other is not country:
                # A data error, caught at import: a form must name one place only.
                raise ValueError(f"{form!r} names both {other.code} and {country.code}")
    return index


_INDEX = _build_index(COUNTRIES)


def find_country(name: str) -> Country | None:
    """The country that `name` (a name, demonym or code, in any case or accents) denotes."""
    return _INDEX.get(_key(name))
