"""Story clustering: which stored story a new item joins, and what keeps stories apart."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from alerts.dedup.fingerprint import Fingerprint, fingerprint
from alerts.dedup.stories import BANDS, Placement, StoryIndex

T0 = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)

WIRE = [
    "WASHINGTON — The United States on Tuesday imposed sanctions on the Caspian Bridge "
    "Trading network, which officials said helped Iran's military buy drone engines abroad.",
    "The Treasury Department designated six companies in Hong Kong and the United Arab "
    "Emirates and two executives, Darius Velani and Omid Rostami, accused of arranging the "
    "shipments through front companies.",
    "Officials said the engines were later found in drones used against Ukraine. The move "
    "freezes any assets the targets hold in the United States and generally bars Americans "
    "from dealing with them.",
    "Iran's foreign ministry called the measures illegal and said they would not stop the "
    "country's defence cooperation with its partners.",
]
REWORDED = [
    "Washington: The United States on Tuesday slapped sanctions on the Caspian Bridge "
    "Trading network, which authorities said aided Iran's military buy drone engines abroad.",
    "The Treasury Department blacklisted six firms in Hong Kong and the United Arab Emirates "
    "and two executives, Darius Velani and Omid Rostami, alleged to have been arranging the "
    "cargoes through front companies.",
    "Officials noted the engines were later found in drones used against Ukraine. The step "
    "freezes any property the targets hold in the United States and generally bars "
    "Americans from dealing with them.",
]
OFAC_NOTICE = (
    "Today, the Department of the Treasury's Office of Foreign Assets Control (OFAC) is "
    "designating eight entities and individuals in the procurement network of Caspian Bridge "
    "Trading FZE, which sources unmanned aerial vehicle components for Iran's Ministry of "
    "Defense and Armed Forces Logistics.\n"
    "Darius Velani and Omid Rostami, directors of the network, coordinated purchases from "
    "suppliers in third countries and concealed the end user.\n"
    "As a result of today's action, all property and interests in property of the designated "
    "persons that are in the United States or in the possession or control of U.S. persons "
    "are blocked and must be reported to OFAC."
)
STATE_NOTICE = (
    "The Department of State is today taking action against those who supply the Iranian "
    "regime with drone technology. We support the Treasury designation of Caspian Bridge "
    "Trading and its directors, Darius Velani and Omid Rostami, whose network bought "
    "engines that Iran transferred for use against Ukraine."
)
BOILERPLATE = (
    "Today, the Department of the Treasury's Office of Foreign Assets Control (OFAC) is "
    "taking action against networks that supply Russia's military-industrial base with "
    "critical goods, pursuant to Executive Order 14024.\n"
    "As a result of today's action, all property and interests in property of the designated "
    "persons described above that are in the United States or in the possession or control "
    "of U.S. persons are blocked and must be reported to OFAC. OFAC's regulations generally "
    "prohibit all transactions by U.S. persons or within the United States that involve any "
    "property or interests in property of designated or otherwise blocked persons.\n"
)
ELECTRONICS = BOILERPLATE + (
    "OFAC designated Volga Instrument Supply and its director Dmitry Arkhipov for shipping "
    "microelectronics and machine tools bought through Hong Kong."
)
GOLD = BOILERPLATE + (
    "OFAC designated Taiga Gold Mining and its owner Oleg Marchenko for selling gold through "
    "refiners in Dubai to raise revenue for the Kremlin."
)
PACKAGE = (
    "BRUSSELS — The European Union on Friday adopted its {n} package of sanctions against "
    "Russia, adding {count} individuals and entities to its blacklist over Moscow's war in "
    "Ukraine.\n"
    "The package targets companies in third countries accused of supplying the Russian "
    "military with drone components and electronics, and tightens the ban on services for "
    "the tankers of the shadow fleet.\n"
    "Those listed face an asset freeze and a travel ban. EU officials said the aim was to "
    "close loopholes and target circumvention rather than open new fronts."
)


def fp(*paragraphs: str, title: str = "") -> Fingerprint:
    return fingerprint(title, "\n".join(paragraphs))


def store(
    index: StoryIndex, item_id: int, item: Fingerprint, at: datetime, *, official: bool = False
) -> Placement | None:
    """Place an item and add it under the story it joins (its own id when none)."""
    placement = index.place(item, at=at, official=official)
    index.add(item_id, placement.story_id if placement else item_id, item, at=at, official=official)
    return placement


def test_a_syndicated_rewrite_joins_the_story() -> None:
    index = StoryIndex()
    store(index, 1, fp(*WIRE, title="US sanctions Iran drone suppliers"), T0)
    placement = index.place(
        fp(*REWORDED, title="Treasury hits drone network"),
        at=T0 + timedelta(hours=3),
        official=False,
    )
    assert placement is not None
    assert (placement.story_id, placement.item_id) == (1, 1)
    assert placement.score >= 0.3
    assert placement.reason.startswith("near-duplicate of item 1 (estimated overlap 0.")


def test_reordered_paragraphs_and_a_cut_paragraph_join() -> None:
    index = StoryIndex()
    store(index, 1, fp(*WIRE), T0)
    reordered = index.place(fp(WIRE[0], WIRE[3], WIRE[1], WIRE[2]), at=T0, official=False)
    cut = index.place(fp(*WIRE[:3]), at=T0, official=False)
    assert reordered is not None and reordered.story_id == 1
    assert cut is not None and cut.story_id == 1


def test_a_different_promotional_footer_does_not_matter() -> None:
    index = StoryIndex()
    store(index, 1, fp(*WIRE, "Follow us for breaking news alerts. Download our free app."), T0)
    placement = index.place(
        fp(*REWORDED, "Sign up for the Morning Brief: the day's top stories in your inbox."),
        at=T0,
        official=False,
    )
    assert placement is not None and placement.story_id == 1


def test_an_official_notice_in_other_words_joins_the_press_story() -> None:
    index = StoryIndex()
    store(index, 1, fp(*WIRE), T0)
    placement = index.place(fp(OFAC_NOTICE), at=T0 + timedelta(hours=2), official=True)
    assert placement is not None
    assert placement.story_id == 1
    assert placement.reason.startswith("official notice sharing ")
    assert "darius velani" in placement.reason and "omid rostami" in placement.reason
    assert "programme iran" in placement.reason


def test_press_joins_an_earlier_notice_and_notices_join_each_other() -> None:
    index = StoryIndex()
    store(index, 1, fp(OFAC_NOTICE), T0 - timedelta(hours=2), official=True)
    state = store(index, 2, fp(STATE_NOTICE), T0 - timedelta(hours=1), official=True)
    press = store(index, 3, fp(*WIRE), T0)
    assert state is not None and state.story_id == 1
    assert press is not None and press.story_id == 1
    assert press.reason.startswith("report sharing ")


def test_press_reports_are_not_linked_by_names_alone() -> None:
    # Only an official notice links by names: two reports need overlapping text.
    index = StoryIndex()
    store(index, 1, fp(*WIRE), T0)
    assert index.place(fp(STATE_NOTICE), at=T0, official=False) is None


def test_an_outlets_own_rewrite_joins_on_shared_names_and_some_wording() -> None:
    """Below the near-duplicate threshold, a report still joins another that names the same
    people and companies when part of the wording is shared (one outlet rewrote the wire)."""
    rewrite = [
        "Sanctions hit a drone parts ring. Washington's latest move targets a trading house "
        "said to serve Tehran's armed forces, according to people briefed on the decision.",
        WIRE[1],
        "Analysts said the step would mostly complicate payments for the companies, which "
        "rely on banks in the Gulf, and could push them to move their business elsewhere.",
    ]
    index = StoryIndex()
    store(index, 1, fp(*WIRE), T0)
    placement = index.place(fp(*rewrite), at=T0 + timedelta(hours=3), official=False)
    assert placement is not None and placement.story_id == 1
    assert "report sharing" in placement.reason and "velani" in placement.reason.casefold()
    # The same names without shared wording (a different report on the same people) do not.
    other = [
        "Omid Rostami and Darius Velani, named by Washington last week, gave an interview "
        "from Dubai in which they denied any link with Caspian Bridge Trading in Hong Kong.",
        "Both men said they would challenge the listing and that their accounts in the "
        "United Arab Emirates had been frozen by banks acting out of caution.",
    ]
    assert index.place(fp(*other), at=T0 + timedelta(days=1), official=False) is None


def test_a_notice_outside_the_link_window_stays_apart() -> None:
    index = StoryIndex(link_window=timedelta(days=4))
    store(index, 1, fp(*WIRE), T0)
    assert index.place(fp(OFAC_NOTICE), at=T0 + timedelta(days=5), official=True) is None
    assert index.place(fp(OFAC_NOTICE), at=T0 + timedelta(days=3), official=True) is not None


def test_the_13th_and_14th_packages_stay_apart() -> None:
    thirteenth = fp(PACKAGE.format(n="13th", count=194))
    fourteenth = fp(PACKAGE.format(n="14th", count=116))
    assert thirteenth.numbers == ("count:194", "package:13")
    index = StoryIndex()
    store(index, 1, thirteenth, T0)
    assert index.place(fourteenth, at=T0 + timedelta(days=1), official=False) is None
    # The same package reported again does join.
    again = index.place(fp(PACKAGE.format(n="13th", count=194)), at=T0, official=False)
    assert again is not None and again.story_id == 1


def test_same_day_actions_with_the_same_boilerplate_stay_apart() -> None:
    electronics, gold = fp(ELECTRONICS), fp(GOLD)
    index = StoryIndex()
    store(index, 1, electronics, T0, official=True)
    assert index.place(gold, at=T0 + timedelta(minutes=5), official=True) is None
    assert index.place(gold, at=T0 + timedelta(minutes=5), official=False) is None


def test_one_line_notices_with_different_targets_stay_apart() -> None:
    penalty = (
        "OFSI has imposed a monetary penalty of £465,000 on {} for breaches of the Russia "
        "financial sanctions regulations between 2022 and 2023."
    )
    index = StoryIndex()
    store(index, 1, fp(penalty.format("Thamesbridge Logistics Ltd")), T0, official=True)
    other = fp(penalty.format("Harwell Shipping Ltd"))
    assert index.place(other, at=T0 + timedelta(days=2), official=True) is None
    same = fp(penalty.format("Thamesbridge Logistics Limited"))
    assert index.place(same, at=T0 + timedelta(hours=1), official=False) is not None


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("", ""),
        ("Sanctions", ""),
        ("Sanctions update", "Sanctions update."),
        ("US imposes sanctions on Iran drone network", ""),  # title only
        ("", "Read more about today's sanctions announcements."),
    ],
)
def test_empty_one_word_and_title_only_items_never_join_nor_attract(title: str, text: str) -> None:
    tiny = fingerprint(title, text)
    index = StoryIndex()
    store(index, 1, fp(*WIRE), T0)
    store(index, 2, fp(OFAC_NOTICE), T0, official=True)
    assert index.place(tiny, at=T0, official=False) is None
    assert index.place(tiny, at=T0, official=True) is None
    index.add(3, 3, tiny, at=T0, official=False)
    assert len(index) == 2
    placement = index.place(fingerprint(title, text), at=T0, official=False)
    assert placement is None


def test_place_does_not_change_the_index() -> None:
    index = StoryIndex()
    store(index, 1, fp(*WIRE), T0)
    before = index.stats()
    for _ in range(3):
        index.place(fp(*REWORDED), at=T0, official=False)
        index.place(fp(OFAC_NOTICE), at=T0, official=True)
    assert index.stats() == before
    assert len(index) == 1


def test_entries_are_evicted_after_the_window_and_freed_everywhere() -> None:
    index = StoryIndex(window=timedelta(days=14))
    store(index, 1, fp(*WIRE), T0)
    store(index, 2, fp(OFAC_NOTICE), T0, official=True)
    assert index.stats()["bucket_entries"] == 2 * BANDS
    later = T0 + timedelta(days=15)
    store(index, 3, fp(PACKAGE.format(n="13th", count=194)), later)
    stats = index.stats()
    assert len(index) == 1
    assert stats["evicted"] == 2
    assert stats["bucket_entries"] == BANDS  # only the newest item's bands remain
    assert stats["link_keys"] == 2  # its count and package number; the names are gone
    assert index.place(fp(*REWORDED), at=later, official=False) is None
    assert index.place(fp(OFAC_NOTICE), at=later, official=True) is None


def test_eviction_gives_the_memory_back() -> None:
    items = [
        fingerprint(
            "", f"Report {n}: " + " ".join(f"w{n}x{k}" for k in range(30)) + f" Ann{n} Lee{n}"
        )
        for n in range(3000)
    ]
    index = StoryIndex(window=timedelta(days=1))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for n, item in enumerate(items):
            index.add(n, n, item, at=T0 + timedelta(seconds=n), official=n % 10 == 0)
        full = tracemalloc.get_traced_memory()[0] - base
        index.add(-1, -1, fp(*WIRE), at=T0 + timedelta(days=2), official=False)
        left = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(index) == 1
    assert index.stats()["evicted"] == 3000
    assert left < full / 10, f"{left:,} of {full:,} bytes still held"


def test_stale_entries_are_not_matched_before_eviction() -> None:
    index = StoryIndex(window=timedelta(days=14))
    store(index, 1, fp(*WIRE), T0)
    assert index.place(fp(*REWORDED), at=T0 + timedelta(days=20), official=False) is None


def test_items_already_outside_the_window_are_not_stored() -> None:
    index = StoryIndex(window=timedelta(days=14))
    store(index, 1, fp(*WIRE), T0)
    index.add(2, 2, fp(OFAC_NOTICE), at=T0 - timedelta(days=30), official=True)
    assert len(index) == 1


def test_an_item_cannot_be_added_twice() -> None:
    index = StoryIndex()
    index.add(1, 1, fp(*WIRE), at=T0, official=False)
    with pytest.raises(ValueError, match="already"):
        index.add(1, 1, fp(*WIRE), at=T0, official=False)


@pytest.mark.parametrize(
    "arguments",
    [{"threshold": 0.0}, {"threshold": 1.5}, {"window": timedelta(0)}],
)
def test_bad_settings_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        StoryIndex(**arguments)  # type: ignore[arg-type]


def test_naive_datetimes_are_refused() -> None:
    index = StoryIndex()
    with pytest.raises(ValueError, match="timezone"):
        index.place(fp(*WIRE), at=datetime(2025, 3, 4, 15, 0), official=False)
    with pytest.raises(ValueError, match="timezone"):
        index.add(1, 1, fp(*WIRE), at=datetime(2025, 3, 4, 15, 0), official=False)


# -- list changes join the story naming their entity (issue 6) ------------------------------

NOTICE = (
    "OFAC today designated Marina Olegovna Volkova, a financier who moved funds for the "
    "Russian military-industrial base through front companies in the United Arab Emirates, "
    "pursuant to Executive Order 14024. All property and interests in property of the "
    "designated person in the United States are blocked and must be reported to OFAC."
)
PRESS = (
    "Washington on Tuesday blacklisted Marina Volkova, a banker accused of moving money for "
    "Russian arms makers through the Gulf, in the latest round of measures over the war. "
    "The Treasury said her assets in the US are frozen and Americans may not deal with her."
)
T = datetime(2026, 7, 1, 12, tzinfo=UTC)


def test_a_list_change_finds_the_official_notice_naming_the_entity_first() -> None:
    index = StoryIndex()
    index.add(1, "press", fingerprint("Banker blacklisted", PRESS), at=T, official=False)
    index.add(2, "notice", fingerprint("Russia-related designation", NOTICE), at=T, official=True)
    names = ("VOLKOVA, Marina Olegovna", "ВОЛКОВА, Марина Олеговна")
    found = index.naming_candidates(names, at=T + timedelta(hours=20))
    assert [(p.story_id, p.item_id) for p in found] == [("notice", 2), ("press", 1)]
    assert "VOLKOVA, Marina Olegovna" in found[0].reason


def test_a_list_change_finds_the_press_when_there_is_no_notice() -> None:
    index = StoryIndex()
    index.add(1, "press", fingerprint("Banker blacklisted", PRESS), at=T, official=False)
    [found] = index.naming_candidates(("Марина Волкова",), at=T)
    assert found.story_id == "press"


def test_a_list_change_naming_no_one_in_the_window_finds_nothing() -> None:
    index = StoryIndex()
    index.add(1, "press", fingerprint("Banker blacklisted", PRESS), at=T, official=False)
    assert index.naming_candidates(("PETROVSKY, Ivan Sergeyevich",), at=T) == []
    assert index.naming_candidates(("VOLKOVA",), at=T) == []  # one word: too ambiguous
    assert index.naming_candidates(("VOLKOVA, Marina",), at=T + timedelta(days=10)) == []


@pytest.mark.parametrize(
    ("listed", "named", "same"),
    [
        ("VOLKOVA, Marina Olegovna", "marina volkova", True),
        ("VOLKOVA, Marina Olegovna", "марина волкова", True),
        ("Marina Olegovna VOLKOVA", "marina olegovna volkova", True),
        ("HASSAN, Ali", "ali hussein", False),  # one skeleton ("al hsn"), two people
        ("HASSAN, Ali", "ali hassan", True),
        ("VOLKOVA, Marina", "marina volkov", False),
        ("VOLKOVA", "volkova", False),  # one word names no one
    ],
)
def test_same_person_compares_whole_words(listed: str, named: str, same: bool) -> None:
    from alerts.dedup.stories import same_person

    assert same_person(listed, named) is same


def test_news_naming_a_listed_person_finds_the_list_change() -> None:
    from alerts.dedup.stories import ListingIndex

    listings = ListingIndex()
    listings.add(7, "listing-7", ("VOLKOVA, Marina Olegovna", "ВОЛКОВА, Марина Олеговна"), at=T)
    listings.add(8, "listing-8", ("HASSAN, Ali",), at=T)
    found = listings.find(("marina volkova", "moscow exchange"), at=T + timedelta(hours=3))
    assert found is not None and (found.story_id, found.item_id) == ("listing-7", 7)
    assert found.reason == (
        "names marina volkova, listed as VOLKOVA, Marina Olegovna by list change 7"
    )
    assert listings.find(("ali hussein",), at=T) is None  # one skeleton, another person
    assert listings.find(("marina volkova",), at=T + timedelta(days=5)) is None  # too late
    assert len(listings) == 3


def test_a_listing_joins_news_only_from_the_same_issuer() -> None:
    from alerts.dedup.stories import ListingIndex

    listings = ListingIndex()
    listings.add(7, "uk-listing", ("VOLKOVA, Marina Olegovna",), at=T, issuer="UK")
    assert listings.find(("marina volkova",), at=T, issuer="US") is None
    found = listings.find(("marina volkova",), at=T, issuer="uk")
    assert found is not None and found.story_id == "uk-listing"
    assert listings.find(("marina volkova",), at=T) is not None  # issuer unknown: any


@pytest.mark.parametrize(
    ("listed", "named"),
    [
        ("ABRAMOVICH, Roman Arkadyevich", "roman abramovich"),
        ("YANUKOVYCH, Viktor Fedorovych", "viktor yanukovych"),
    ],
)
def test_surnames_that_look_like_patronymics_are_kept(listed: str, named: str) -> None:
    from alerts.dedup.stories import ListingIndex, same_person

    assert same_person(listed, named)
    listings = ListingIndex()
    listings.add(1, "s", (listed,), at=T)
    assert listings.find((named,), at=T) is not None
