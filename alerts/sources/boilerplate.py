"""Boilerplate removal: drop a page's or feed's furniture a paragraph at a time.

Syndicated stories end with each outlet's promo footer ("support independent journalism",
"remind me next month", "subscribe to our newsletter"), share bars, cookie notes and
related-story lists. None of it may ever be matched against a watchlist. Two signals:

* Cue phrases (`strip_promo`). A paragraph is furniture when its cues are strong for its
  length: a short paragraph with a strong cue, a paragraph made of cues, a line that is
  only a label ("Share", "Facebook", "Privacy Policy"). At the edges of a text, where
  furniture gathers (a trailing promo run is the usual shape), a weaker showing is enough.
  A long news paragraph that says "subscribe" once is never furniture.
* Repetition (`repeated_paragraphs`). Within one feed, a paragraph that recurs verbatim in
  different stories is furniture (or background already seen in an earlier item).

Pure functions over strings and Items; no I/O. Text is paragraphs joined by "\\n", the shape
`alerts.sources.text.html_to_paragraphs` gives.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from alerts.domain import Item

__all__ = [
    "MIN_REPEATED_WORDS",
    "clean_items",
    "clean_text",
    "paragraph_key",
    "repeated_paragraphs",
    "strip_promo",
]

# Paragraphs shorter than this never count as repeated: "Read more." or a dateline is
# handled by the cue rules, and short sentences recur by chance.
MIN_REPEATED_WORDS = 3

# Decided on the paragraph's normalised text (NFKC, casefolded, ’ as '). A strong cue
# alone makes a short paragraph furniture; a weak cue counts only with others.
_STRONG_CUES = (
    # English: money asks and membership
    "support independent", "support our journalism", "support our work", "support us",
    "support quality journalism", "become a member",
    "become a supporter", "become a patron", "make a donation", "donate now", "donate today",
    "donate once", "give monthly", "give once", "remind me next month", "remind me later",
    "monthly contribution", "single contribution", "contribute today", "every contribution",
    "however big or small", "favour to ask", "favor to ask", "dear reader", "readers like you",
    "reader-funded", "reader funded", "funded by readers", "behind a paywall", "free thinkers",
    # newsletters and subscriptions
    "subscribe to our", "subscribe now", "subscribe today", "subscribe here",
    "subscribe for free", "subscribe to continue", "subscribe to read", "sign up for our",
    "sign up to our", "sign up now", "newsletter sign up",
    "newsletter signup", "get our newsletter", "our newsletter", "in your inbox",
    "to your inbox", "already a subscriber", "already a member", "continue reading",
    "create a free account", "log in to continue", "sign in to continue",
    # legal and cookies
    "privacy policy", "privacy notice", "privacy statement", "cookie policy", "cookie settings",
    "cookie preferences", "manage cookies", "accept cookies", "accept all cookies",
    "we use cookies", "use of cookies", "uses cookies", "terms of use", "terms of service",
    "terms and conditions", "terms & conditions", "all rights reserved", "©", "copyright ©",
    "open government licence", "crown copyright", "accessibility statement",
    "an official website of the united states government", "here's how you know",
    "is this page useful", "report a problem with this page",
    # sharing, following, navigation
    "share this article", "share this story", "share this page", "share this post",
    "share on facebook", "share on twitter", "share on x", "share on linkedin",
    "share on whatsapp", "share on telegram", "share via", "share article", "copy link",
    "link copied", "follow us", "skip to main content", "skip to content",
    "back to top", "read more", "read next", "more coverage", "more on this story",
    "see also", "also read", "further reading", "related stories", "related articles",
    "related coverage", "related content", "related topics", "more stories", "most read",
    "most popular", "recommended for you", "you may also like", "don't miss",
    "trending now", "advertisement", "sponsored content", "download our app",
    "press contacts", "media enquiries", "media contacts", "most viewed",
    # wire-copy notes and tip lines
    "has not been edited by", "published from a syndicated feed", "got a tip",
    "send us a tip", "contact our newsroom",
    # German
    "datenschutzerklärung", "datenschutzhinweise", "impressum", "alle rechte vorbehalten",
    "newsletter abonnieren", "jetzt abonnieren", "abonnieren sie", "artikel teilen",
    "mehr zum thema", "auch interessant", "könnte sie auch interessieren",
    "unterstützen sie", "jetzt unterstützen", "jetzt spenden", "cookie-einstellungen",
    "wir verwenden cookies", "nutzungsbedingungen", "folgen sie uns", "zum newsletter",
    "weiterlesen mit",
    # French
    "politique de confidentialité", "tous droits réservés", "mentions légales",
    "abonnez-vous", "inscrivez-vous", "lire aussi", "à lire aussi", "lire la suite",
    "soutenez", "faire un don", "partager cet article", "suivez-nous",
    "nous utilisons des cookies", "conditions générales", "déjà abonné",
    "cet article est réservé aux abonnés",
    # Russian
    "все права защищены", "политика конфиденциальности", "подписывайтесь", "подпишитесь",
    "подписаться на рассылку", "читайте также", "читать также", "поделиться",
    "поддержите", "пожертвовать", "мы используем файлы cookie", "пользовательское соглашение",
    # Spanish
    "todos los derechos reservados", "política de privacidad", "suscríbete", "lee también",
)  # fmt: skip
# Words that news about sanctions uses too ("may not subscribe to new bonds", "a crackdown
# on independent journalism"): they count only in numbers, in short paragraphs or at the
# edges of a text. Social networks are not cues at all ("Navalny's team said on Telegram
# and YouTube"); only a line made of nothing else is a share bar (`_BAR_WORDS`).
_WEAK_CUES = (
    "subscribe", "subscribers", "subscription", "newsletter", "newsletters", "donate",
    "donation", "donations", "contribute", "contribution", "cookie", "cookies", "advert",
    "advertising", "sponsored", "paywall", "sign up", "sign in", "log in", "register",
    "share", "print", "email", "e-mail", "podcast", "press office", "independent journalism",
    "independent news",
    "abonnieren", "abonnement", "spenden", "teilen", "werbung", "anzeige", "datenschutz",
    "s'abonner", "partager", "publicité",
    "подписка", "подписаться", "реклама", "донат",
)  # fmt: skip
# A paragraph that is only one of these labels (punctuation aside) is furniture.
_FURNITURE_LINES = frozenset(
    {
        "share", "share this", "share article", "print", "email", "e-mail", "comments",
        "advertisement", "ad", "sponsored", "read more", "more", "menu", "search", "close",
        "home", "top", "back to top", "next", "previous", "subscribe", "sign in", "log in",
        "register", "newsletter", "donate", "accept", "accept all", "reject", "reject all",
        "got it", "ok", "manage preferences", "cookie settings", "cookies", "privacy",
        "privacy policy", "terms", "terms of use", "contact", "contact us", "about us",
        "related", "related stories", "most read", "most viewed", "copy link", "listen", "watch",
        "teilen", "drucken", "anzeige", "werbung", "partager", "imprimer", "publicité",
        "поделиться", "реклама", "печать",
        "visa", "mastercard", "american express", "paypal", "apple pay", "google pay",
    }
)  # fmt: skip
# Share bars flattened into one paragraph: "Facebook Twitter LinkedIn Email".
_BAR_WORDS = frozenset(
    {
        "facebook", "twitter", "x", "linkedin", "whatsapp", "telegram", "email", "e-mail",
        "mail", "print", "share", "reddit", "copy", "link", "messenger", "bluesky", "mastodon",
        "threads", "instagram", "youtube", "tiktok", "rss", "flipboard", "pinterest", "tweet",
        "vk", "ok", "on", "via",
    }
)  # fmt: skip

# Labels ("Share", "Facebook Twitter LinkedIn Email") are never longer than this.
_LABEL_MAX_WORDS = 12
# Words of a bare label that may sit inside a run of furniture at an edge.
_LABEL_WORDS = 4
# Weak cues that count as much as a strong one.
_WEAK_ALONE = 3
# A short paragraph with a strong cue (or two weak ones) is furniture anywhere.
_SHORT_WORDS = 30
# Any length: a paragraph that is mostly cues (one per `_DENSE_WORDS_PER_POINT` words).
_DENSE_MIN_SCORE = 4
_DENSE_WORDS_PER_POINT = 6
# At the edges of a text: a strong cue in a paragraph of up to `_EDGE_WORDS` words, or a
# weak cue in one of up to `_EDGE_WEAK_WORDS` ("Sign up", "Email this page").
_EDGE_WORDS = 80
_EDGE_WEAK_WORDS = 6

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "`": "'"})
# Starts only after a non-word character, so a long run of letters is scanned once.
_CONTACT = re.compile(r"(?:\+|\btel\b\W*)\d[\d ()./-]{6,}\d|(?<![\w.+-])[\w.+-]+@[\w-]+\.\w")
_PUNCTUATION_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
# Words keep inner apostrophes and hyphens ("here's", "reader-funded", "state-sponsored" is
# one word, so it holds no "sponsored"); "©" and "&" count as words.
_TOKENS = re.compile(r"\w+(?:['-]\w+)*|[©&]")


def _tokens(normalised: str) -> tuple[str, ...]:
    return tuple(_TOKENS.findall(normalised))


# Cues as word tuples, looked up at each word that starts one (a regex alternation of a few
# hundred phrases costs ~100 times more on long pages).
_CUE_WEIGHTS = {
    **{_tokens(cue): 1 for cue in _WEAK_CUES},
    **{_tokens(cue): 2 for cue in _STRONG_CUES},
}
_CUE_STARTS = frozenset(cue[0] for cue in _CUE_WEIGHTS)
_LONGEST_CUE = max(len(cue) for cue in _CUE_WEIGHTS)


def _normalise(paragraph: str) -> str:
    text = unicodedata.normalize("NFKC", paragraph).casefold().translate(_APOSTROPHES)
    return " ".join(text.split())


def paragraph_key(paragraph: str) -> str:
    """A 16-hex-digit fingerprint of a paragraph: NFKC, casefolded, whitespace collapsed."""
    data = _normalise(paragraph).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _cues(words: tuple[str, ...]) -> tuple[int, int]:
    """(strong, weak) cues found, longest cue first at each word; cues do not overlap."""
    counts = [0, 0, 0]  # by weight
    i = 0
    while i < len(words):
        if words[i] in _CUE_STARTS:
            for n in range(min(_LONGEST_CUE, len(words) - i), 0, -1):
                weight = _CUE_WEIGHTS.get(words[i : i + n])
                if weight:
                    counts[weight] += 1
                    i += n
                    break
            else:
                i += 1
        else:
            i += 1
    return counts[2], counts[1]


def _is_label(normalised: str, words: tuple[str, ...]) -> bool:
    if len(words) > _LABEL_MAX_WORDS:
        return False
    if _PUNCTUATION_EDGES.sub("", normalised) in _FURNITURE_LINES:
        return True
    return bool(words) and all(word in _BAR_WORDS for word in words)


def _furniture(paragraph: str) -> tuple[bool, bool]:
    """(furniture anywhere, furniture at an edge of the text)."""
    normalised = _normalise(paragraph)
    words = _tokens(normalised)
    if not any(char.isalnum() for char in normalised):
        return True, True  # a rule or ornament: "—", "* * *", "•"
    if _is_label(normalised, words):
        return True, True
    strong, weak = _cues(words)
    if _CONTACT.search(normalised):
        strong += 1  # a phone number or an e-mail address: contact details
    score = 2 * strong + weak
    count = max(len(words), 1)
    # Weak cues alone need numbers: "an email to the FSB press office" is news.
    clear = strong >= 1 or weak >= _WEAK_ALONE
    anywhere = (clear and count <= _SHORT_WORDS) or (
        score >= _DENSE_MIN_SCORE and score * _DENSE_WORDS_PER_POINT >= count
    )
    at_edge = (
        anywhere or (clear and count <= _EDGE_WORDS) or (score >= 1 and count <= _EDGE_WEAK_WORDS)
    )
    return anywhere, at_edge


def strip_promo(paragraphs: Sequence[str]) -> list[str]:
    """The paragraphs that are not furniture (promo, legal, share bars, related links).

    Empty paragraphs are dropped too. Order is kept.
    """
    kept = [p.strip() for p in paragraphs if p.strip()]
    return [p for p, dropped in zip(kept, _furniture_mask(kept), strict=True) if not dropped]


def _furniture_mask(paragraphs: Sequence[str]) -> list[bool]:
    """Whether each (non-empty, stripped) paragraph is furniture."""
    verdicts = [_furniture(p) for p in paragraphs]
    drop = [anywhere for anywhere, _ in verdicts]
    # Runs of furniture at either end: scan inwards until a paragraph of real text. A bare
    # label inside the run ("Visa", "Most viewed") goes with the furniture around it; at
    # the run's inner edge it stays (a list of names can end an article).
    for order in (range(len(paragraphs)), range(len(paragraphs) - 1, -1, -1)):
        pending: list[int] = []
        for i in order:
            if verdicts[i][1]:
                drop[i] = True
                for j in pending:
                    drop[j] = True
                pending.clear()
            elif _bare_label(paragraphs[i]):
                pending.append(i)
            else:
                break
    return drop


def _bare_label(paragraph: str) -> bool:
    """A few words with no sentence punctuation: a button, a heading, a list entry."""
    return len(paragraph.split()) <= _LABEL_WORDS and paragraph.rstrip()[-1:] not in ".!?:;"


def repeated_paragraphs(texts: Sequence[str], *, min_count: int = 2) -> frozenset[str]:
    """Keys of paragraphs (of `MIN_REPEATED_WORDS`+ words) found in `min_count`+ texts."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(
            {paragraph_key(p) for p in text.split("\n") if len(p.split()) >= MIN_REPEATED_WORDS}
        )
    return frozenset(key for key, count in counts.items() if count >= min_count)


def _clean(text: str, boilerplate: frozenset[str], keep: frozenset[str]) -> str:
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    keys = [paragraph_key(p) for p in paragraphs]
    survivors = [
        p for p, key in zip(paragraphs, keys, strict=True) if key in keep or key not in boilerplate
    ]
    cleaned = _strip_keeping(survivors, keep)
    if not cleaned:
        # Learned keys took everything (a story repeated under another title): the cue
        # rules alone decide, so real text is never lost to repetition.
        cleaned = _strip_keeping(paragraphs, keep)
    return "\n".join(cleaned)


def _strip_keeping(paragraphs: list[str], keep: frozenset[str]) -> list[str]:
    mask = _furniture_mask(paragraphs)
    return [
        p
        for p, dropped in zip(paragraphs, mask, strict=True)
        if not dropped or (keep and paragraph_key(p) in keep)
    ]


def clean_text(text: str, *, boilerplate: frozenset[str] = frozenset()) -> str:
    """Paragraphs of `text` without those keyed in `boilerplate` and without furniture.

    Never empty when `text` has a paragraph that is not furniture: if the keys would remove
    everything, only the cue rules apply. Paragraphs are joined by "\\n".
    """
    return _clean(text, boilerplate, frozenset())


def clean_items(
    items: Sequence[Item], known: frozenset[str] = frozenset()
) -> tuple[list[Item], frozenset[str]]:
    """One feed's batch with furniture removed from summaries and contents.

    Paragraphs repeated across stories with different titles are learned as boilerplate
    and added to `known`; the union is returned for the caller to keep for the next poll.
    A paragraph equal to the item's own title is never removed, and a summary that
    cleaning would empty keeps its original first paragraph.
    """
    stories: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        # Items of the same title (an updated story, a repost) count once.
        group = f"title:{paragraph_key(item.title)}" if item.title.strip() else f"item:{index}"
        stories.setdefault(group, []).extend((item.summary, item.content))
    boilerplate = known | repeated_paragraphs(["\n".join(texts) for texts in stories.values()])
    cleaned = []
    for item in items:
        keep = frozenset({paragraph_key(item.title)}) if item.title.strip() else frozenset()
        summary = _clean(item.summary, boilerplate, keep)
        if not summary and item.summary.strip():
            summary = next(p.strip() for p in item.summary.split("\n") if p.strip())
        content = _clean(item.content, boilerplate, keep)
        cleaned.append(dataclasses.replace(item, summary=summary, content=content))
    return cleaned, boilerplate
