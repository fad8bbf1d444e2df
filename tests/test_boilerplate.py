"""Boilerplate removal: promo footers, share bars and repeated furniture never reach matching.

Pure functions over strings and Items, tested directly. The furniture below imitates what
outlets append to syndicated stories; the news paragraphs are the kind that must survive
even though they contain a cue word.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from alerts.domain import Item
from alerts.sources.boilerplate import (
    clean_items,
    clean_text,
    paragraph_key,
    repeated_paragraphs,
    strip_promo,
)
from alerts.sources.parse import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"

STORY = [
    "The Biden administration announced a series of sanctions against Russia on Tuesday in "
    "response to the poisoning and jailing of opposition leader Alexei Navalny.",
    "Sanctions were placed on seven top figures in the Russian government, and the Commerce "
    "Department added export restrictions on fourteen businesses and research institutes.",
    "Among those targeted is the director of the Federal Security Service, Alexander Bortnikov.",
]

FURNITURE = [
    # the three outlets' promo footers
    "Support independent free thinkers. Your contribution keeps our reporting free for all. "
    "Privacy Policy",
    "Not ready to give today? Remind me next month",
    "Dear reader, we have a small favour to ask. We are reader-funded, and every contribution, "
    "however big or small, keeps our journalism open to everyone.",
    "Subscribe to our newsletter to get the day's top stories in your inbox.",
    "Sign up for our free newsletter",
    # share bars, related lists, cookie notes, legal lines
    "Share on Facebook",
    "Facebook Twitter LinkedIn Email",
    "Share this article",
    "Copy link",
    "Read more: EU foreign ministers agree to prepare listings over Navalny case",
    "Related stories",
    "Most viewed",
    "Advertisement",
    "We use cookies to improve your experience. By continuing you accept our Cookie Policy.",
    "© 2021 Meridian Review Media Ltd. All rights reserved.",
    "Privacy Policy · Terms of Use · Contact us",
    "Follow us on Twitter and Telegram",
    "This story has not been edited by our staff and is published from a syndicated feed.",
    "Got a tip? Contact our newsroom securely by encrypted message.",
    # German, French, Russian, Spanish
    "Newsletter abonnieren: Die wichtigsten Nachrichten jeden Morgen in Ihrem Postfach.",
    "Impressum · Datenschutzerklärung · AGB",
    "© 2021 Wiener Blatt. Alle Rechte vorbehalten.",
    "Abonnez-vous à notre newsletter « La Matinale ».",
    "Lire aussi : Le tribunal rejette l’appel d’Alexeï Navalny",
    "© Le Journal 2021 – Tous droits réservés",
    "Подпишитесь на нашу рассылку, чтобы не пропустить главное.",
    "Читайте также: Суд отклонил апелляцию Навального",
    "© 2021 «Вечерний вестник». Все права защищены.",
    "Suscríbete a nuestro boletín. Todos los derechos reservados.",
    # ornaments and payment labels inside a donation box
    "—",
    "Visa",
    "PayPal",
]

# Real news that says a cue word once: it must survive anywhere in the text.
NEWS_WITH_CUES = [
    "Under the new restrictions, American banks may not subscribe to newly issued Russian "
    "sovereign debt, and licences for the export of dual-use goods will be denied, a senior "
    "official told reporters.",
    "Navalny's team posted the verdict on Telegram and YouTube.",
    "The crackdown on independent journalism intensified after the arrest, and the independent "
    "news outlet Meduza was declared a foreign agent.",
    "Bortnikov's agency declined to comment; an email to the FSB press office went unanswered "
    "on Tuesday.",
    "The company's share price fell 4 percent after the listing.",
    "Shareholders of the state-sponsored bank voted to register the new subsidiary in Cyprus.",
    "Igor Krasnov",
]


@pytest.mark.parametrize("furniture", FURNITURE)
def test_trailing_furniture_is_dropped(furniture: str) -> None:
    assert strip_promo([*STORY, furniture]) == STORY


@pytest.mark.parametrize("furniture", FURNITURE)
def test_leading_furniture_is_dropped(furniture: str) -> None:
    assert strip_promo([furniture, *STORY]) == STORY


@pytest.mark.parametrize("news", NEWS_WITH_CUES)
@pytest.mark.parametrize("where", [0, 1, 3])
def test_news_with_a_cue_word_survives(news: str, where: int) -> None:
    paragraphs = [*STORY]
    paragraphs.insert(where, news)

    assert strip_promo(paragraphs) == paragraphs


def test_a_whole_promo_footer_goes_and_the_story_stays() -> None:
    footer = [
        "—",
        "Support independent free thinkers.",
        "The Meridian Review is read by millions of people who want news without a paywall.",
        "If you value reporting like this, please support independent free thinkers with a "
        "contribution today. Every contribution, however big or small, keeps us going.",
        "Support The Meridian Review",
        "By contributing you agree to our Privacy Policy and Terms of Use.",
    ]

    kept = strip_promo([*STORY, NEWS_WITH_CUES[0], *footer])

    # "read by millions ... without a paywall" has no cue of its own: it is the one line of
    # the box that stays, because real text (not furniture) surrounds it.
    assert kept[: len(STORY) + 1] == [*STORY, NEWS_WITH_CUES[0]]
    assert not any("Privacy Policy" in p or "free thinkers" in p for p in kept)


def test_a_donation_box_with_labels_goes_whole() -> None:
    box = [
        "Dear reader, we have a small favour to ask …",
        "Readers like you keep this going. Every contribution, however big or small, powers "
        "our journalism.",
        "Support monthly",
        "Give once",
        "Not ready to give today? Remind me next month",
        "Visa",
        "Mastercard",
        "American Express",
    ]

    assert strip_promo([*STORY, *box]) == STORY


def test_a_list_of_names_ending_the_text_stays() -> None:
    names = ["Alexander Bortnikov", "Igor Krasnov", "Alexander Kalashnikov"]

    assert strip_promo([*STORY, *names]) == [*STORY, *names]
    assert strip_promo([*STORY, *names, "Privacy Policy"]) == [*STORY, *names]


def test_strip_promo_drops_empty_paragraphs_and_keeps_order() -> None:
    assert strip_promo([]) == []
    assert strip_promo(["", "  ", STORY[1], " ", STORY[0]]) == [STORY[1], STORY[0]]


def test_paragraph_key_is_short_stable_and_normalised() -> None:
    key = paragraph_key("Support independent journalism")

    assert len(key) == 16 and int(key, 16) >= 0
    assert paragraph_key("  SUPPORT   independent\tjournalism ") == key
    assert paragraph_key("ﬁnancial") == paragraph_key("financial")  # NFKC
    assert paragraph_key("Support independent journalism.") != key
    assert paragraph_key("") == paragraph_key("   ")


def test_repeated_paragraphs_count_texts_not_occurrences() -> None:
    footer = "The Ledger is owned by its readers and answers to no one else."
    texts = [
        f"{STORY[0]}\n{footer}\n{footer}",
        f"A different story about export controls.\n{footer}",
        "A third story with nothing in common.\nShort line",
    ]

    assert repeated_paragraphs(texts) == {paragraph_key(footer)}
    assert repeated_paragraphs(texts, min_count=3) == frozenset()
    assert repeated_paragraphs(texts[:1]) == frozenset()  # twice in one text is no repetition


def test_repeated_short_paragraphs_are_ignored() -> None:
    assert repeated_paragraphs(["Read more\nOne story", "Read more\nAnother one"]) == frozenset()


def test_clean_text_drops_known_boilerplate_and_promo() -> None:
    footer = "The Ledger is owned by its readers and answers to no one else."
    text = "\n".join([*STORY, footer, "Subscribe to our newsletter"])

    assert clean_text(text, boilerplate=frozenset({paragraph_key(footer)})) == "\n".join(STORY)
    assert clean_text(text) == "\n".join([*STORY, footer])


def test_clean_text_is_never_emptied_by_learned_keys() -> None:
    text = "\n".join([STORY[0], "Share on Facebook"])
    learned = frozenset({paragraph_key(STORY[0])})

    assert clean_text(text, boilerplate=learned) == STORY[0]
    assert clean_text("") == ""
    assert clean_text("Share on Facebook\nPrivacy Policy") == ""


def test_no_footer_of_the_syndicated_story_survives_clean_text() -> None:
    footers = {
        "meridian": "Support independent free thinkers with a contribution today.\nPrivacy Policy",
        "ledger": "Support the Daily Ledger from as little as €1 – it only takes a minute. "
        "Readers like you keep this going.\nRemind me next month",
        "courier": "Subscribe to our newsletter — Courier World Report, every Friday.\n"
        "Share on Facebook\nShare on Twitter",
    }
    for outlet, footer in footers.items():
        cleaned = clean_text("\n".join([*STORY, NEWS_WITH_CUES[0], footer]))

        assert cleaned == "\n".join([*STORY, NEWS_WITH_CUES[0]]), outlet


def item(title: str, summary: str, content: str = "", guid: str = "") -> Item:
    return Item(
        feed="ledger",
        guid=guid or title,
        link=f"https://ledger.example/{abs(hash(title))}",
        title=title,
        summary=summary,
        content=content,
    )


# No cue word: only repetition across stories shows it is furniture.
OWNER = "The Ledger is owned by its readers and answers to no one else."


def test_clean_items_learns_furniture_repeated_across_stories() -> None:
    items = [
        item("US sanctions Russia over Navalny", f"{STORY[0]}\n{OWNER}"),
        item("EU lists four officials", f"The Council listed four officials.\n{OWNER}"),
        item(
            "Rouble falls",
            "The rouble fell on sanctions news.",
            content=f"Trading was thin.\n{OWNER}",
        ),
    ]

    cleaned, boilerplate = clean_items(items, known=frozenset({"0123456789abcdef"}))

    assert [i.summary for i in cleaned] == [
        STORY[0],
        "The Council listed four officials.",
        "The rouble fell on sanctions news.",
    ]
    assert cleaned[2].content == "Trading was thin."
    assert boilerplate == {"0123456789abcdef", paragraph_key(OWNER)}
    # Everything else about the items is untouched.
    assert [
        dataclasses.replace(c, summary=i.summary, content=i.content)
        for c, i in zip(cleaned, items, strict=True)
    ] == items


def test_clean_items_uses_known_boilerplate_for_a_single_item() -> None:
    (cleaned,), keys = clean_items(
        [item("US sanctions Russia over Navalny", f"{STORY[0]}\n{OWNER}")],
        known=frozenset({paragraph_key(OWNER)}),
    )

    assert cleaned.summary == STORY[0]
    assert keys == {paragraph_key(OWNER)}


def test_items_with_the_same_title_do_not_teach_each_other() -> None:
    # An updated story is reposted with the same title: its paragraphs are not furniture.
    title = "US sanctions Russia over Navalny"
    items = [item(title, STORY[0], guid="1"), item(title, f"{STORY[0]}\n{STORY[1]}", guid="2")]

    cleaned, boilerplate = clean_items(items)

    assert boilerplate == frozenset()
    assert [i.summary for i in cleaned] == [i.summary for i in items]


def test_the_items_own_title_is_never_removed() -> None:
    title = "Subscribe to our newsletter: sanctions weekly"
    items = [
        item(title, f"{title}\nThis week: seven officials listed over Navalny."),
        item("Other", f"{title}\nA different week."),
    ]

    cleaned, _ = clean_items(items)

    assert cleaned[0].summary.split("\n")[0] == title
    assert title not in cleaned[1].summary


def test_a_summary_that_cleaning_would_empty_keeps_its_first_paragraph() -> None:
    (cleaned,), _ = clean_items([item("Weekly notes", "Share on Facebook\nPrivacy Policy")])

    assert cleaned.summary == "Share on Facebook"


def test_a_parsed_feed_item_loses_its_promo_line() -> None:
    items = parse_feed(
        "news-navalny",
        (FEEDS / "news-navalny.xml").read_bytes(),
        url="https://ledger.example/world/rss",
        headers={"Content-Type": "application/rss+xml"},
    )

    (cleaned,), _ = clean_items(items)

    assert "Support independent journalism" in items[0].summary
    assert cleaned.summary == (
        "Western governments on Thursday announced coordinated sanctions against Russia over "
        "the poisoning and jailing of opposition leader Alexei Navalny.\n"
        "The measures target officials of the prison service and the security services."
    )
