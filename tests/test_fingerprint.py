"""Near-duplicate fingerprints: stable signatures, overlap estimates, names and numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alerts.dedup.fingerprint import (
    FINGERPRINT_VERSION,
    MIN_SHINGLES,
    NUM_PERM,
    Fingerprint,
    fingerprint,
    fingerprint_from_record,
    fingerprint_to_record,
    similarity,
)

FOX = (
    "The quick brown fox jumps over the lazy dog near the river bank on a sunny afternoon in March."
)

STORY = (
    "WASHINGTON — The United States on Tuesday imposed sanctions on the Caspian Bridge "
    "Trading network, which officials said helped Iran's military buy drone engines abroad.\n"
    "The Treasury Department designated six companies in Hong Kong and the United Arab "
    "Emirates and two executives, Darius Velani and Omid Rostami, accused of arranging the "
    "shipments through front companies.\n"
    "Officials said the engines were later found in drones used against Ukraine. The move "
    "freezes any assets the targets hold in the United States."
)
REWRITE = (
    "Washington: The United States on Tuesday slapped sanctions on the Caspian Bridge "
    "Trading network, which authorities said aided Iran's military buy drone engines abroad.\n"
    "The Treasury Department blacklisted six firms in Hong Kong and the United Arab Emirates "
    "and two executives, Darius Velani and Omid Rostami, alleged to have been arranging the "
    "cargoes through front companies.\n"
    "Officials noted the engines were later found in drones used against Ukraine. The step "
    "freezes any property the targets hold in the United States."
)
UNRELATED = (
    "The European Union on Friday agreed to extend its economic restrictions on Belarus for "
    "another year, citing the government's support for the war and continued repression of "
    "journalists, opposition figures and independent trade unions across the country."
)


def test_signature_is_stable_across_releases() -> None:
    # Persisted signatures must keep comparing equal: a change to tokenising, shingling or
    # hashing has to bump FINGERPRINT_VERSION, and then update this expected prefix.
    fp = fingerprint("", FOX)
    assert FINGERPRINT_VERSION == 1
    assert fp.shingles == 17
    assert len(fp.signature) == 4 * NUM_PERM
    assert fp.signature[:16].hex() == "56a8a10722482f023a6e481ae6997c31"


def test_signature_does_not_depend_on_the_process_hash_seed() -> None:
    root = Path(__file__).resolve().parents[1]
    code = (
        "from alerts.dedup.fingerprint import fingerprint; "
        f"print(fingerprint('', {FOX!r}).signature.hex())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert outputs == {fingerprint("", FOX).signature.hex()}


def test_a_rewrite_overlaps_and_unrelated_news_does_not() -> None:
    story = fingerprint("US sanctions drone network", STORY)
    assert similarity(story, fingerprint("Treasury hits Iran drone suppliers", REWRITE)) > 0.3
    assert similarity(story, fingerprint("", UNRELATED)) < 0.05
    assert similarity(story, story) == 1.0


def test_the_title_does_not_feed_the_shingles() -> None:
    # Outlets rewrite headlines: only the text is compared, and a title alone never clusters.
    assert fingerprint("Another headline entirely", STORY).signature == (
        fingerprint("US sanctions drone network", STORY).signature
    )
    assert fingerprint("US sanctions drone network over Ukraine attacks", "").shingles == 0


@pytest.mark.parametrize("text", ["", "   ", "Sanctions", "Sanctions update.", "a b"])
def test_empty_and_tiny_texts_have_too_few_shingles_to_cluster(text: str) -> None:
    fp = fingerprint("Sanctions update", text)
    assert fp.shingles < MIN_SHINGLES
    assert similarity(fp, fp) == 0.0


def test_promotional_footer_lines_are_ignored() -> None:
    footer = (
        "Sign up for the Morning Brief: the day's top stories in your inbox. "
        "You can unsubscribe at any time."
    )
    assert fingerprint("", f"{STORY}\n{footer}").signature == fingerprint("", STORY).signature
    # A long paragraph that merely mentions a newsletter is news, not promotion.
    long_line = STORY.replace("\n", " ") + " The newsletter said so."
    assert (
        fingerprint("", long_line).signature != fingerprint("", STORY.replace("\n", " ")).signature
    )


def test_non_ascii_punctuation_splits_words_like_ascii() -> None:
    plain = fingerprint("", STORY.replace("—", "-"))
    curly = fingerprint("", STORY.replace("—", "–").replace("'", "’"))
    assert similarity(plain, curly) == 1.0


def test_any_script_is_tokenised() -> None:
    text = (
        "Администрация Джо Байдена во вторник объявила о санкциях против России в ответ на "
        "отравление и заключение под стражу оппозиционного политика Алексея Навального."
    )
    fp = fingerprint("", text)
    assert fp.shingles >= MIN_SHINGLES
    assert "russia" in fp.programmes
    assert "алексея навального" in fp.names


def test_names_drop_titles_and_keep_organisations_and_acronyms() -> None:
    fp = fingerprint(
        "",
        "Prosecutor General Igor Krasnov and the director of the Federal Security Service "
        "(FSB) were named. The Department of the Treasury's Office of Foreign Assets Control "
        "said the vessels ANGARA STAR and Lady Maria II sailed from Yamalo-Nenets ports.",
    )
    assert set(fp.names) == {
        "igor krasnov",
        "federal security service",
        "fsb",
        "angara star",
        "lady maria ii",
        "yamalo nenets",
    }
    assert list(fp.names) == sorted(fp.names)


def test_sanctions_list_entries_name_the_person_in_press_order() -> None:
    fp = fingerprint("", "Entries added include: SOROKIN, Yevgeny Aleksandrovich, Colonel, GRU.")
    assert "yevgeny aleksandrovich sorokin" in fp.names
    assert "gru" in fp.names


def test_headline_case_titles_and_outlet_suffixes_give_no_names() -> None:
    assert fingerprint("Treasury Targets Oil Brokers And Tankers", "").names == ()
    assert fingerprint("US sanctions Darius Velani over drones", "").names == ("darius velani",)
    title = "US sanctions Darius Velani over drones | Compliance Weekly"
    assert fingerprint(title, "").names == ("darius velani",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EU adopts 14th package of sanctions", "package:14"),
        ("the EU's fourteenth sanctions package", "package:14"),
        ("sanctions package No. 14 was adopted", "package:14"),
        ("EU beschließt 14. Sanktionspaket gegen Russland", "package:14"),
        ("the twenty-first round of sanctions", "package:21"),
        ("14-й пакет санкций", "package:14"),
    ],
)
def test_package_numbers(text: str, expected: str) -> None:
    assert expected in fingerprint(text, "").numbers


def test_listing_counts_but_not_years_or_small_numbers() -> None:
    fp = fingerprint(
        "",
        "The Council listed 52 vessels, 106 individuals and 88 entities; more than 2,000 "
        "individuals and entities are now listed. In 2022 companies in 7 countries paid.",
    )
    assert set(fp.numbers) == {"count:52", "count:106", "count:88", "count:2000"}


def test_programmes() -> None:
    fp = fingerprint(
        "",
        "North Korea sent munitions to Russia's army while Hezbollah and the Houthis "
        "received Iranian money; cartels moved fentanyl.",
    )
    assert fp.programmes == (
        "counter-terrorism",
        "dprk",
        "houthis",
        "iran",
        "narcotics",
        "russia",
    )


def test_record_round_trip_through_json() -> None:
    fp = fingerprint("US sanctions drone network", STORY)
    record = json.loads(json.dumps(fingerprint_to_record(fp)))
    assert record["version"] == FINGERPRINT_VERSION
    assert fingerprint_from_record(record) == fp


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 0}, "version"),
        ({"signature": "not base64!"}, "base64"),
        ({"signature": "AAAA"}, "bytes"),
        ({"shingles": -1}, "shingles"),
        ({"shingles": True}, "shingles"),
        ({"names": "fsb"}, "names"),
    ],
)
def test_bad_records_are_refused(change: dict[str, object], message: str) -> None:
    record = {**fingerprint_to_record(fingerprint("", STORY)), **change}
    with pytest.raises(ValueError, match=message):
        fingerprint_from_record(record)


def test_fingerprints_are_frozen() -> None:
    fp = fingerprint("", STORY)
    assert isinstance(fp, Fingerprint)
    with pytest.raises(AttributeError):
        fp.shingles = 0  # type: ignore[misc]
